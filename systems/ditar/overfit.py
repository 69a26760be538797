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

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ttsbench.systems.ditar.data import ManifestEntry, PhoneEncoder, read_manifest

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


def demo_manifest(out: Path, rows: int) -> Path:
    """A training manifest over the shipped demo speech, `rows` distinct recordings, shortest first."""
    import soundfile as sf

    from ttsbench.testsets import data_dir

    demo = data_dir() / "demo"
    texts: dict[Path, str] = {}
    for line in (demo / "demo.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts[demo / row["reference_wav"]] = row["target_text"]
        texts[demo / row["prompt_wav"]] = row["prompt_text"]
    chosen = sorted(texts, key=lambda p: (sf.info(str(p)).duration, str(p)))[:rows]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "manifest.jsonl"
    path.write_text("".join(json.dumps({"wav": str(p), "text": texts[p], "speaker": p.parent.name}) + "\n"
                            for p in chosen), encoding="utf-8")
    return path


@torch.no_grad()
def evaluate(model: Any, tokenizer: Any, entries: list[ManifestEntry], frontend: PhoneEncoder, *,
             prompt_patches: int = 4, wav_dir: Path | None = None) -> list[UtteranceResult]:
    """Greedy generation from each utterance's first `prompt_patches` patches + its text."""
    from ttsbench.audio import read_audio, write_audio
    from ttsbench.systems.ditar.inference import GenerationConfig
    from ttsbench.systems.ditar.sampling import SamplerConfig

    P, greedy = model.cfg.patch_size, SamplerConfig(nfe=10, guidance_scale=0.0, temperature=0.0)
    results = []
    for entry in entries:
        wav, _ = read_audio(entry.wav, tokenizer.sample_rate)
        z = tokenizer.encode(torch.from_numpy(wav)[None])[0]  # (T, C)
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
            write_audio(wav_dir / f"{entry.wav.stem}.wav", tokenizer.decode(torch.cat([z[:K], out])[None])[0].numpy(),
                        tokenizer.sample_rate)
    return results


def teacher_forced_nmse(model: Any, z: torch.Tensor, phones: list[int], sampler: Any) -> float:
    """Greedy LocDiT samples of every patch given the true LM context and history, against the truth."""
    from ttsbench.systems.ditar.model import history_windows, patchify

    P = model.cfg.patch_size
    patches, mask, n = patchify(z[None], torch.tensor([len(z)]), P, model.cfg.pad_side)  # (1, N, P, C)
    ids = torch.tensor([phones])
    emb = model.encode_patches(patches[0])[None]  # (1, N, D)
    hidden = model.lm(model._lm_input(ids, torch.tensor([len(phones)]), emb, n), causal=True)[0]
    N = int(n)
    h = hidden[len(phones) - 1: len(phones) - 1 + N]  # h_j predicts patch j
    hist = history_windows(patches, model.cfg.history_patches)[0]  # (N, H, C)
    x = model.sample_patch(h, hist, torch.zeros_like(patches[0]), sampler)  # noise unused at tau = 0
    err = ((x - patches[0]) ** 2).mean(-1)[mask[0]]
    return float(err.mean() / z.var())


def run(out: Path, *, steps: int, rows: int, manifest: Path | None = None, lr: float = 2e-3,
        frontend: PhoneEncoder | None = None) -> dict[str, Any]:
    """Train, generate, compare; returns (and writes) the report."""
    from ttsbench.systems.ditar.checkpoint import latest_checkpoint, load_checkpoint
    from ttsbench.systems.ditar.config import DiTARConfig
    from ttsbench.systems.ditar.configio import from_dict
    from ttsbench.systems.ditar.mel import MelTokenizer
    from ttsbench.systems.ditar.model import DiTAR
    from ttsbench.systems.ditar.train import DataConfig, OptimConfig, TrainConfig, build_frontend, train

    manifest = manifest or demo_manifest(out, rows)
    frontend = frontend or build_frontend()
    cfg = TrainConfig(out=out / "train", data=DataConfig(manifest=manifest, cache_dir=out / "cache", tokenizer="mel",
                                                         max_frames=100_000, num_workers=0),
                      model=OVERFIT_MODEL, optim=OptimConfig(lr=lr, warmup_steps=20), steps=steps,
                      device="cpu", log_every=1, ckpt_every=steps)
    train(cfg, frontend=frontend)
    log = [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]
    state = load_checkpoint(latest_checkpoint(cfg.out))
    model = DiTAR(from_dict(DiTARConfig, state["model_config"])).eval()
    model.load_state_dict(state["model"])
    results = evaluate(model, MelTokenizer(), read_manifest(manifest), frontend, wav_dir=out / "wavs")
    losses = loss_summary(log, ("total", "diff", "stop"))
    report = {"steps": steps, "utterances_trained": len(read_manifest(manifest)), **losses,
              "loss_ratio": losses["loss_step_1"]["total"] / losses["loss_last_5pct_mean"]["total"],
              "utterances": [{**r.__dict__, "length_error_patches": r.length_error_patches} for r in results]}
    (out / "overfit.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def loss_summary(log: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """The training log's `keys` at step 1, their mean over the last 5 % of steps (single-step
    losses are noisy) and a curve thinned to ~15 points (DiTAR's and DiSTAR's overfit reports)."""
    tail = log[-max(len(log) // 20, 1):]
    return {"loss_step_1": {k: log[0][k] for k in keys},
            "loss_last_5pct_mean": {k: sum(r[k] for r in tail) / len(tail) for k in keys},
            "curve": [{k: r[k] for k in ("step", *keys)} for r in log[:: max(len(log) // 15, 1)]]}


def cli(run_fn: Any, doc: str | None, argv: list[str] | None = None) -> int:
    """The overfit command line shared by DiTAR's and DiSTAR's checks: run, print the JSON report."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rows", type=int, default=4, help="how many demo recordings (shortest first)")
    parser.add_argument("--manifest", type=Path, help="train on this manifest instead of the demo speech")
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args(argv)
    report = run_fn(args.out, steps=args.steps, rows=args.rows, manifest=args.manifest, lr=args.lr)
    print(json.dumps(report, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli(run, __doc__, argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
