"""Overfit check: a small DiSTAR memorises a handful of real utterances (learning, not just running).

    python -m ttsbench.systems.distar.overfit --out runs/distar-overfit [--steps 1500] [--rows 4]

1. A manifest of real speech: the shipped demo recordings (`datasets/demo`), `--rows` of them,
   shortest first (DiTAR's overfit check uses the same ones).
2. `ttsbench train rvq`: a 4-layer x 64-code RVQ over their log-mel frames (40 Hz x 64).
3. `ttsbench train distar`: a small DiSTAR (`OVERFIT_MODEL`, P = 4, per-frame MDM) on those codes,
   all utterances in every batch, on the CPU; no condition/history dropout and no layer pruning,
   since memorising is the point.
4. For every utterance, greedy decoding (N = 8 steps per patch, no CFG) from its text and its
   first `prompt_patches` patches, compared with the codes that follow: token accuracy per RVQ
   layer, teacher-forced (the MDM fills each patch from the true LM states and history) and
   free-running (the whole generation, over the common length), and the length in patches.

Prints one JSON report (also `<out>/overfit.json`): the cross-entropy at step 1 and over the last
5 % of steps, a thinned loss curve and the per-utterance numbers; Griffin-Lim audio of each
generation goes to `<out>/wavs`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from ttsbench.audio import read_audio, write_audio
from ttsbench.configio import from_dict
from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.distar.infill import InfillConfig
from ttsbench.systems.distar.model import DiSTAR
from ttsbench.systems.distar.rvq_train import RVQTrainConfig, train_rvq
from ttsbench.systems.distar.train import train_distar
from ttsbench.systems.speech.patch_ar import GenerationConfig
from ttsbench.systems.speech.patches import history_windows, patchify
from ttsbench.systems.speech.tokenizer import load_tokenizer
from ttsbench.systems.speech.training.checkpoint import latest_checkpoint, load_checkpoint
from ttsbench.systems.speech.training.data import read_manifest
from ttsbench.systems.speech.training.overfit import cli, demo_manifest, loss_summary
from ttsbench.systems.speech.training.trainer import DataConfig, OptimConfig, TrainConfig, build_frontend

OVERFIT_MODEL: dict[str, Any] = {  # small but not tiny: enough capacity to memorise a few seconds
    "size": "tiny", "code_dim": 64, "enc_dim": 128, "enc_heads": 4, "enc_ffn": 256, "lm_dim": 128, "lm_heads": 4,
    "lm_ffn": 256, "lm_layers": 4, "mdm_dim": 128, "mdm_heads": 4, "mdm_ffn": 256, "mdm_layers": 3,
    "cond_dropout": 0.0, "history_dropout": 0.0, "layer_truncation": 0.0}
RVQ = {"num_layers": 4, "codebook_size": 64}


@dataclass(frozen=True)
class UtteranceResult:
    """How well greedy decoding reproduces one training utterance's codes."""

    wav: str
    prompt_frames: int
    target_frames: int
    generated_frames: int
    accuracy_teacher_forced: list[float]  # per RVQ layer, every whole patch filled from the true context
    accuracy_free_running: list[float]  # per RVQ layer, generated vs target over the common length

    @property
    def length_error_patches(self) -> int:
        return (self.generated_frames - self.target_frames) // 4


@torch.no_grad()
def evaluate(model: Any, tokenizer: Any, entries: list[Any], frontend: Any, *, prompt_patches: int = 4,
             wav_dir: Path | None = None) -> list[UtteranceResult]:
    P = model.cfg.patch_size
    greedy = InfillConfig(steps=8, cfg_scale=1.0)
    results = []
    for entry in entries:
        wav, _ = read_audio(entry.wav, tokenizer.sample_rate)
        codes = tokenizer.encode(torch.from_numpy(wav)[None])[0]  # (T, J)
        K = len(codes) - P * max((len(codes) - prompt_patches * P) // P, 1)  # same patch boundaries as training
        phones = frontend.encode(entry.text, entry.lang)
        out = model.generate([phones], [codes[:K]], [torch.Generator().manual_seed(0)], greedy,
                             GenerationConfig(max_patches=2 * len(codes) // P + 8))[0]
        target = codes[K:]
        n = min(len(out), len(target))
        free = (out[:n] == target[:n]).float().mean(0).tolist() if n else [float("nan")] * codes.shape[1]
        results.append(UtteranceResult(entry.wav.name, K, len(target), len(out),
                                       teacher_forced_accuracy(model, codes, phones, greedy), free))
        if wav_dir is not None:
            audio = tokenizer.decode(torch.cat([codes[:K], out])[None])[0].numpy()
            write_audio(wav_dir / f"{entry.wav.stem}.wav", audio, tokenizer.sample_rate)
    return results


def teacher_forced_accuracy(model: Any, codes: torch.Tensor, phones: list[int], sampler: Any) -> list[float]:
    """Every whole patch filled greedily from the true LM states and true history; accuracy per layer."""
    cfg = model.cfg
    ids = model.to_ids(codes[None], torch.tensor([len(codes)]))
    patches, mask, n = patchify(ids, torch.tensor([len(codes)]), cfg.patch_size, cfg.pad_side)
    emb = model.encode_patches(patches[0])[None]
    h = model.patch_lm.states(torch.tensor([phones]), torch.tensor([len(phones)]), emb, n)[0, :int(n)]
    hist = history_windows(patches, cfg.history_patches)[0]
    noise = torch.zeros(int(n), sampler.steps, 2, cfg.patch_size, cfg.num_layers)
    filled = model.sample_patch(h, hist, noise, sampler)  # (N, P, J) ids
    whole = mask[0].all(-1)  # the left-padded first patch is never generated: decoding fills all P frames
    return (filled[whole] == patches[0][whole]).float().mean((0, 1)).tolist()


def run(out: Path, *, steps: int, rows: int, manifest: Path | None = None, lr: float = 2e-3,
        rvq_steps: int = 200) -> dict[str, Any]:
    """Train the RVQ and DiSTAR, decode greedily, compare; returns (and writes) the report."""
    manifest = manifest or demo_manifest(out, rows)
    rvq_out = out / "rvq"
    train_rvq(RVQTrainConfig(manifest=manifest, out=rvq_out, cache_dir=out / "cache", base="mel", steps=rvq_steps,
                             frames_per_step=2048, device="cpu", log_every=max(rvq_steps // 4, 1),
                             ckpt_every=rvq_steps, **RVQ))
    frontend = build_frontend()
    cfg = TrainConfig(out=out / "train", data=DataConfig(manifest=manifest, cache_dir=out / "cache",
                                                         tokenizer=str(rvq_out / "tokenizer"), max_frames=100_000,
                                                         num_workers=0),
                      model=OVERFIT_MODEL, optim=OptimConfig(lr=lr, warmup_steps=20), steps=steps, device="cpu",
                      log_every=1, ckpt_every=steps)
    train_distar(cfg)
    log = [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]
    state = load_checkpoint(latest_checkpoint(cfg.out))
    model = DiSTAR(from_dict(DiSTARConfig, state["model_config"])).eval()
    model.load_state_dict(state["model"])
    tokenizer = load_tokenizer(rvq_out / "tokenizer")
    results = evaluate(model, tokenizer, read_manifest(manifest), frontend, wav_dir=out / "wavs")
    losses = loss_summary(log, ("total", "ce", "stop", "accuracy"))
    report = {"steps": steps, "utterances_trained": len(results), "rvq": RVQ, **losses,
              "ce_ratio": losses["loss_step_1"]["ce"] / max(losses["loss_last_5pct_mean"]["ce"], 1e-9),
              "utterances": [{**asdict(r), "length_error_patches": r.length_error_patches} for r in results]}
    (out / "overfit.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    return cli(run, __doc__, argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
