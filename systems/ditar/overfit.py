"""Overfit check: a small DiTAR memorises a handful of real utterances (learning, not just running).

    python -m ttsbench.systems.ditar.overfit --out runs/overfit [--steps 1500] [--rows 4]

1. A manifest of real speech: by default the shipped demo recordings (`datasets/demo`, LibriVox and
   CMU "cards" speech, 16 kHz, read at 24 kHz), `--rows` of them, shortest first.
2. `train()` a small DiTAR (`OVERFIT_MODEL`, ~1.2 M parameters) on their log-mel frames (40 Hz x 64,
   `mel` tokenizer) for `--steps` steps on the CPU, all utterances in every batch.
3. For every utterance: greedy generation (tau = 0, x_1 = 0, NFE 10, no guidance) from its text and
   its first frames (whole patches aligned as in training) and the comparison with what follows:
   normalised MSE = mean squared error / variance of the target frames (0 is exact, 1 is no better
   than the mean frame), per patch under teacher forcing and free-running, and the generated length
   against the true one (in patches of 4 frames = 100 ms).

Prints one JSON report (also written to `<out>/overfit.json`): the loss at step 1, the mean loss
over the last 5 % of steps, a thinned loss curve and the per-utterance numbers. Griffin-Lim audio of the generations goes to `<out>/wavs`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ttsbench.audio import read_audio, write_audio
from ttsbench.configio import from_dict
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.ditar.model import DiTAR
from ttsbench.systems.ditar.train import build_model
from ttsbench.systems.speech.latent_stats import LatentStats
from ttsbench.systems.speech.mel import MelTokenizer
from ttsbench.systems.speech.patch_ar import GenerationConfig
from ttsbench.systems.speech.patches import history_windows, patchify
from ttsbench.systems.speech.sampling import SamplerConfig
from ttsbench.systems.speech.training.checkpoint import latest_checkpoint, load_checkpoint
from ttsbench.systems.speech.training.data import ManifestEntry, PhoneEncoder, read_manifest
from ttsbench.systems.speech.training.overfit import cli, demo_manifest, loss_summary
from ttsbench.systems.speech.training.trainer import (
    DataConfig,
    OptimConfig,
    TrainConfig,
    build_frontend,
    train,
)

OVERFIT_MODEL: dict[str, Any] = {  # small but not tiny: enough capacity to memorise a few seconds
    "size": "tiny", "enc_dim": 128, "enc_heads": 4, "enc_ffn": 256, "lm_dim": 128, "lm_heads": 4,
    "lm_ffn": 256, "lm_layers": 4, "dit_dim": 128, "dit_heads": 4, "dit_ffn": 256, "dit_layers": 2,
    "guidance_dropout": 0.0}  # memorisation: no unconditional branch to learn


@dataclass(frozen=True)
class UtteranceResult:
    """How well greedy generation reproduces one training utterance."""

    wav: str
    prompt_frames: int
    target_frames: int
    generated_frames: int
    nmse_teacher_forced: float  # per patch, true history and true LM context
    nmse_free_running: float  # the generated sequence against the target, over their common length

    @property
    def length_error_patches(self) -> int:
        return (self.generated_frames - self.target_frames) // 4


@torch.no_grad()
def evaluate(model: Any, tokenizer: Any, entries: list[ManifestEntry], frontend: PhoneEncoder, *,
             prompt_patches: int = 4, wav_dir: Path | None = None,
             stats: LatentStats | None = None) -> list[UtteranceResult]:
    """Greedy generation from each utterance's first `prompt_patches` patches + its text (in the
    model's latent space: standardised with `stats` when it was trained on standardised latents)."""
    P, greedy = model.cfg.patch_size, SamplerConfig(nfe=10, guidance_scale=0.0, temperature=0.0)
    results = []
    for entry in entries:
        wav, _ = read_audio(entry.wav, tokenizer.sample_rate)
        z = tokenizer.encode(torch.from_numpy(wav)[None])[0]  # (T, C)
        z = stats.standardize(z) if stats is not None else z
        # Training left-pads each utterance to whole patches; a prompt of K = T - m * P frames keeps
        # the same patch boundaries, so the target is exactly the m patches that follow it.
        K = len(z) - P * max((len(z) - prompt_patches * P) // P, 1)
        phones = frontend.encode(entry.text, entry.lang)
        out = model.generate([phones], [z[:K]], [torch.Generator().manual_seed(0)], greedy,
                             GenerationConfig(max_patches=2 * len(z) // P + 8))[0]
        target = z[K:]
        n = min(len(out), len(target))
        free = float(((out[:n] - target[:n]) ** 2).mean() / target.var()) if n else float("nan")
        results.append(UtteranceResult(entry.wav.name, K, len(target), len(out),
                                       teacher_forced_nmse(model, z, phones, greedy), free))
        if wav_dir is not None:
            frames = torch.cat([z[:K], out])
            frames = stats.destandardize(frames) if stats is not None else frames
            write_audio(wav_dir / f"{entry.wav.stem}.wav", tokenizer.decode(frames[None])[0].numpy(),
                        tokenizer.sample_rate)
    return results


def teacher_forced_nmse(model: Any, z: torch.Tensor, phones: list[int], sampler: Any) -> float:
    """Greedy LocDiT samples of every patch given the true LM context and history, against the truth."""
    P = model.cfg.patch_size
    patches, mask, n = patchify(z[None], torch.tensor([len(z)]), P, model.cfg.pad_side)  # (1, N, P, C)
    ids = torch.tensor([phones])
    emb = model.encode_patches(patches[0])[None]  # (1, N, D)
    hidden = model.lm(model.patch_lm.inputs(ids, torch.tensor([len(phones)]), emb, n), causal=True)[0]
    N = int(n)
    h = hidden[len(phones) - 1: len(phones) - 1 + N]  # h_j predicts patch j
    hist = history_windows(patches, model.cfg.history_patches)[0]  # (N, H, C)
    x = model.sample_patch(h, hist, torch.zeros_like(patches[0]), sampler)  # noise unused at tau = 0
    err = ((x - patches[0]) ** 2).mean(-1)[mask[0]]
    return float(err.mean() / z.var())


def run(out: Path, *, steps: int, rows: int, manifest: Path | None = None, lr: float = 2e-3,
        frontend: PhoneEncoder | None = None) -> dict[str, Any]:
    """Train, generate, compare; returns (and writes) the report."""
    manifest = manifest or demo_manifest(out, rows)
    frontend = frontend or build_frontend()
    cfg = TrainConfig(out=out / "train", data=DataConfig(manifest=manifest, cache_dir=out / "cache", tokenizer="mel",
                                                         max_frames=100_000, num_workers=0,
                                                         # the reported experiment's setting: its loss-ratio
                                                         # bars were calibrated on raw log-mel latents
                                                         standardize=False),
                      model=OVERFIT_MODEL, optim=OptimConfig(lr=lr, warmup_steps=20), steps=steps,
                      device="cpu", log_every=1, ckpt_every=steps)
    train(cfg, model_factory=build_model, frontend=frontend)
    log = [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]
    state = load_checkpoint(latest_checkpoint(cfg.out))
    model = DiTAR(from_dict(DiTARConfig, state["model_config"])).eval()
    model.load_state_dict(state["model"])
    stats = LatentStats.from_dict(state["latent_stats"]) if state.get("latent_stats") else None
    results = evaluate(model, MelTokenizer(), read_manifest(manifest), frontend, wav_dir=out / "wavs", stats=stats)
    losses = loss_summary(log, ("total", "diff", "stop"))
    report = {"steps": steps, "utterances_trained": len(read_manifest(manifest)), **losses,
              "loss_ratio": losses["loss_step_1"]["total"] / losses["loss_last_5pct_mean"]["total"],
              "utterances": [{**r.__dict__, "length_error_patches": r.length_error_patches} for r in results]}
    (out / "overfit.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    return cli(run, __doc__, argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
