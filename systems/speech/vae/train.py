"""Train the VAE tokenizer: `ttsbench train vae CONFIG` (or `torchrun ... -m ttsbench train vae CONFIG`).

One step: generator pass (encode, sample z, decode) on random fixed-length segments -> discriminator
update on (real, fake.detach()) with the LSGAN loss -> generator update with
mel_weight * multi-scale mel L1 + kl_weight * KL + adversarial + fm_weight * feature matching.
Adversarial terms start at `adversarial_start` (0 = from the first step).

Outputs under `out`: `log.jsonl` (one line per `log_every` steps: step, losses, seconds per step,
audio seconds per second over all ranks), `checkpoints/step_XXXXXXX.pt` (generator,
discriminators, both optimizers, step, config, per-rank RNG states, git sha) and `tokenizer/`
(the generator as a loadable speech tokenizer: `load_tokenizer(out / "tokenizer")`).
Segments are a pure function of (seed, step, rank), so a resumed run sees the same audio.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader, Dataset

from ttsbench.audio import resample
from ttsbench.configio import to_dict
from ttsbench.errors import InputError
from ttsbench.plugins import TRAINERS, Trainer
from ttsbench.systems.speech.training import checkpoint as ckpt
from ttsbench.systems.speech.training import distributed as D
from ttsbench.systems.speech.training.data import read_manifest
from ttsbench.systems.speech.vae.config import DiscriminatorConfig, VAEConfig, VAELossConfig
from ttsbench.systems.speech.vae.discriminators import Discriminators
from ttsbench.systems.speech.vae.losses import (
    MultiResolutionSpectralLoss,
    discriminator_loss,
    feature_matching_loss,
    generator_adv_loss,
    kl_divergence,
)
from ttsbench.systems.speech.vae.model import VAETokenizer
from ttsbench.systems.speech.vae.report import ReportConfig, reconstruction_report

CHECKPOINT_FORMAT = "ttsbench.vae.train/1"


@dataclass(frozen=True)
class VAETrainConfig:
    """Everything a VAE training run depends on (stored in every checkpoint)."""

    manifest: Path  # JSONL/CSV with a `wav` column (text not needed)
    out: Path
    vae: VAEConfig = field(default_factory=VAEConfig)
    disc: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    loss: VAELossConfig = field(default_factory=VAELossConfig)
    steps: int = 1_000_000
    batch_size: int = 16  # segments per GPU per step
    segment_samples: int = 24_000  # 1 s at 24 kHz: 40 latent frames (a multiple of the hop)
    lr: float = 1e-4  # BigVGAN: AdamW 1e-4, betas (0.8, 0.99)
    betas: tuple[float, float] = (0.8, 0.99)
    weight_decay: float = 0.01
    grad_clip: float = 1000.0  # clip both networks' grad norm (BigVGAN clips at a large value)
    adversarial_start: int = 0
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # bf16 autocast on CUDA (no effect on CPU)
    num_workers: int = 2
    log_every: int = 50
    ckpt_every: int = 5_000
    keep_checkpoints: int = 3  # newest checkpoints kept (0 = all)
    # Reconstruction quality on held-out speech after the last step (`report.py`): mel distance and
    # the offline WER / SIM of the resynthesised dev audio, in <out>/reconstruction.json.
    report: ReportConfig = field(default_factory=ReportConfig)

    def __post_init__(self) -> None:
        if self.segment_samples % self.vae.hop_length:
            raise InputError(f"segment_samples {self.segment_samples} must be a multiple of the hop "
                             f"{self.vae.hop_length}")


class SegmentBatches(Dataset):
    """Item `step` = this rank's batch of random segments for that step: (B, segment_samples)."""

    def __init__(self, files: list[tuple[Path, int, int]], cfg: VAETrainConfig, rank: int) -> None:
        self.files, self.cfg, self.rank = files, cfg, rank

    def __len__(self) -> int:
        return self.cfg.steps

    def __getitem__(self, step: int) -> torch.Tensor:
        rng = np.random.default_rng([self.cfg.seed, step, self.rank])
        picks = rng.integers(len(self.files), size=self.cfg.batch_size)
        return torch.stack([self._segment(self.files[i], rng) for i in picks])

    def _segment(self, file: tuple[Path, int, int], rng: np.random.Generator) -> torch.Tensor:
        path, frames, sr = file
        target_sr, seg = self.cfg.vae.sample_rate, self.cfg.segment_samples
        need = math.ceil(seg * sr / target_sr) + 8  # source samples for one segment, a little slack
        start = int(rng.integers(0, max(frames - need, 0) + 1))
        wav, _ = sf.read(str(path), start=start, frames=need, dtype="float32", always_2d=True)
        wav = resample(wav.mean(axis=1), sr, target_sr)[:seg]
        out = torch.zeros(seg)
        out[: len(wav)] = torch.from_numpy(np.ascontiguousarray(wav))
        return out


def _files(manifest: Path) -> list[tuple[Path, int, int]]:
    out = []
    for entry in read_manifest(manifest, need_text=False):
        if not entry.wav.is_file():
            raise InputError(f"{manifest}: audio file not found: {entry.wav}")
        info = sf.info(str(entry.wav))
        out.append((entry.wav, int(info.frames), int(info.samplerate)))
    return out


class VAETrainer:
    """Holds the networks, optimizers and loss modules of one run; `step()` does one update."""

    def __init__(self, cfg: VAETrainConfig, rt: D.Runtime) -> None:
        self.cfg, self.rt = cfg, rt
        self.gen = VAETokenizer(cfg.vae).to(rt.device)
        self.disc = Discriminators(cfg.disc).to(rt.device)
        self.spectral = MultiResolutionSpectralLoss(cfg.loss, cfg.vae.sample_rate).to(rt.device)
        self.opt_g = torch.optim.AdamW(self.gen.parameters(), cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
        self.opt_d = torch.optim.AdamW(self.disc.parameters(), cfg.lr, betas=cfg.betas,
                                       weight_decay=cfg.weight_decay)
        self.gen_ddp, self.disc_ddp = D.wrap(self.gen, rt), D.wrap(self.disc, rt)

    def step(self, real: torch.Tensor, step: int) -> dict[str, float]:
        """One discriminator and one generator update on `real` (B, S); returns the loss values."""
        cfg, logs = self.cfg, {}
        with D.autocast(self.rt, cfg.amp):
            out = self.gen_ddp(real)
        fake = out.wav[:, : real.shape[1]].float()
        adversarial = step >= cfg.adversarial_start
        if adversarial:
            with D.autocast(self.rt, cfg.amp):
                scores = self.disc_ddp(torch.cat([real, fake.detach()])).scores  # one pass: DDP-friendly
            loss_d = discriminator_loss([s[: len(real)] for s in scores], [s[len(real):] for s in scores])
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            logs["grad_norm_d"] = float(torch.nn.utils.clip_grad_norm_(self.disc.parameters(), cfg.grad_clip))
            self.opt_d.step()
            logs["loss_d"] = loss_d.item()
        mel, stft = self.spectral(fake, real)
        kl = kl_divergence(out.dist)
        loss_g = cfg.loss.mel_weight * mel + cfg.loss.stft_weight * stft + cfg.loss.kl_weight * kl
        logs.update(mel=mel.item(), stft=stft.item(), kl=kl.item())
        if adversarial:
            loss_g = loss_g + self._adversarial_terms(real, fake, logs)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        logs["grad_norm_g"] = float(torch.nn.utils.clip_grad_norm_(self.gen.parameters(), cfg.grad_clip))
        self.opt_g.step()
        logs["loss_g"] = loss_g.item()
        return logs

    def _adversarial_terms(self, real: torch.Tensor, fake: torch.Tensor, logs: dict[str, float]) -> torch.Tensor:
        # The bare discriminator with frozen weights: gradients reach the generator only, and no DDP
        # hook fires for discriminator parameters in the generator's backward.
        self.disc.requires_grad_(False)
        try:
            with D.autocast(self.rt, self.cfg.amp):
                d = self.disc(torch.cat([real, fake]))
        finally:
            self.disc.requires_grad_(True)
        n = len(real)
        adv = generator_adv_loss([s[n:] for s in d.scores])
        fm = feature_matching_loss([[f[:n] for f in fs] for fs in d.features],
                                   [[f[n:] for f in fs] for fs in d.features])
        logs.update(adv=adv.item(), fm=fm.item())
        return self.cfg.loss.adv_weight * adv + self.cfg.loss.fm_weight * fm

    def state(self, step: int) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, "kind": "vae", "step": step, "generator": self.gen.state_dict(),
                "discriminator": self.disc.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "config": to_dict(self.cfg), "git_sha": ckpt.git_sha(),
                "world_size": self.rt.world_size}

    def restore(self, state: dict[str, Any]) -> int:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise InputError(f"not a VAE training checkpoint (format {state.get('format')!r})")
        self.gen.load_state_dict(state["generator"])
        self.disc.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        return int(state["step"])


def train_vae(cfg: VAETrainConfig) -> Path:
    """Train (or resume from the newest checkpoint in `cfg.out`) to `cfg.steps`; returns `cfg.out`."""
    rt = D.setup(cfg.device)
    try:
        with ckpt.exclusive(cfg.out, enabled=rt.is_main):
            ckpt.seed_everything(cfg.seed + rt.rank)
            trainer = VAETrainer(cfg, rt)
            start = _resume(trainer, cfg, rt)
            files = _files(cfg.manifest)
            loader = DataLoader(SegmentBatches(files, cfg, rt.rank), batch_size=None, sampler=range(start, cfg.steps),
                                num_workers=cfg.num_workers, generator=torch.Generator(),
                                pin_memory=rt.device.type == "cuda")
            if rt.is_main:
                cfg.out.mkdir(parents=True, exist_ok=True)
            log = (cfg.out / "log.jsonl").open("a", encoding="utf-8") if rt.is_main else None
            tick = time.perf_counter()
            for step, real in zip(range(start, cfg.steps), loader):
                logs = trainer.step(real.to(rt.device, non_blocking=True), step)
                done = step + 1
                if done % cfg.log_every == 0 or done == cfg.steps:
                    logs = D.mean_over_ranks(logs, rt)
                    seconds = (time.perf_counter() - tick) / cfg.log_every
                    audio = cfg.batch_size * cfg.segment_samples / cfg.vae.sample_rate * rt.world_size
                    if log:
                        log.write(json.dumps({"step": done, **logs, "sec_per_step": seconds,
                                              "audio_sec_per_sec": audio / max(seconds, 1e-9)}) + "\n")
                        log.flush()
                    tick = time.perf_counter()
                if done % cfg.ckpt_every == 0 or done == cfg.steps:
                    _save(trainer, cfg, rt, done)
            if log:
                log.close()
            if rt.is_main and cfg.report.manifest and start < cfg.steps:
                report = reconstruction_report(trainer.gen.eval(), cfg.report, cfg.out, step=cfg.steps)
                with (cfg.out / "log.jsonl").open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"step": cfg.steps, "reconstruction": report}) + "\n")
        return cfg.out
    finally:
        D.teardown(rt)


def _resume(trainer: VAETrainer, cfg: VAETrainConfig, rt: D.Runtime) -> int:
    latest = ckpt.latest_checkpoint(cfg.out)
    if latest is None:
        return 0
    state = ckpt.load_checkpoint(latest, rt.device)
    start = trainer.restore(state)
    rngs = state.get("rng", [])
    if len(rngs) == rt.world_size:
        ckpt.set_rng_state(rngs[rt.rank])
    else:  # another world size: exact continuation is impossible; reseed deterministically
        ckpt.seed_everything(cfg.seed + 1_000_003 * start + rt.rank)
    return start


def _save(trainer: VAETrainer, cfg: VAETrainConfig, rt: D.Runtime, step: int) -> None:
    rngs = D.gather_objects(ckpt.rng_state(), rt)
    if rt.is_main:
        ckpt.save_checkpoint(ckpt.checkpoint_path(cfg.out, step), {**trainer.state(step), "rng": rngs},
                             keep_last=cfg.keep_checkpoints)
        trainer.gen.save(cfg.out / "tokenizer")
    D.barrier(rt)


TRAINERS.add("vae", Trainer(VAETrainConfig, train_vae, "DiTAR's VAE speech tokenizer, 24 kHz -> 40 Hz x 64 "
                                                       "(configs/train_vae*.toml); writes <out>/tokenizer"))
