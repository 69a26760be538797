"""How well a speech tokenizer reconstructs held-out speech: `ttsbench train vae` reports it at the
end of training (`[report] manifest = DEV`), or on its own:

    python -m ttsbench.systems.speech.vae.report TOKENIZER_DIR DEV_MANIFEST --out DIR [--rows 16]

For the first `rows` utterances of a dev manifest (wav, text): encode -> decode (latent means), then

- mel distance: mean absolute difference of natural-log mel magnitudes (the `mel` tokenizer's
  analysis: 64 bins, 40 Hz frames, at the tokenizer's sample rate), over all frames and bins of the
  dev audio, between the original and its reconstruction (lower is better; 0 = identical);
- offline WER of the reconstructions and of the originals (the yardstick), and SIM between each
  reconstruction and its original, by `ttsbench run --system ground-truth` on two prompt sets
  written next to the audio (children: the tokenizer layer may not import the pipeline).

Output: `<out>/reconstruction.json` {tokenizer, rows, mel_l1_logmel, resynth: {metric: value},
original: {metric: value}, runs}, and the wavs under `<out>/reconstruction/`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ttsbench.audio import read_audio, write_audio
from ttsbench.errors import InputError
from ttsbench.store import find_runs, read_summary
from ttsbench.systems.speech.mel import MelConfig, MelTokenizer
from ttsbench.systems.speech.training.data import read_manifest


@dataclass(frozen=True)
class ReportConfig:
    """The `[report]` table of a VAE training config: off while `manifest` is empty."""

    manifest: str = ""  # dev manifest (wav, text[, speaker]): held-out speech
    rows: int = 16
    metrics: str = "wer-whisper-tiny-en,sim-resemblyzer"
    device: str = "cpu"


@torch.no_grad()
def mel_l1(original: np.ndarray, reconstruction: np.ndarray, sample_rate: int) -> tuple[float, int]:
    """(sum of |log-mel difference| over frames x bins, number of values), on the common length."""
    config = MelConfig(sample_rate=sample_rate, f_max=min(MelConfig.f_max, sample_rate / 2))
    mel = MelTokenizer(config)
    n = min(len(original), len(reconstruction))
    a = mel.encode(torch.from_numpy(original[:n])[None])[0]
    b = mel.encode(torch.from_numpy(reconstruction[:n])[None])[0]
    return float((a - b).abs().sum()) * config.scale, int(a.numel())  # latents are ln-mel / scale


@torch.no_grad()
def reconstruction_report(tokenizer: Any, cfg: ReportConfig, out: Path, step: int | None = None) -> dict[str, Any]:
    """Resynthesize the dev rows, measure them, write `<out>/reconstruction.json`; returns the report."""
    entries = read_manifest(cfg.manifest)[: cfg.rows]
    folder = out / "reconstruction"
    sr = int(tokenizer.sample_rate)
    device = next((p.device for p in tokenizer.parameters()), torch.device("cpu"))
    total, count, resynth_rows, original_rows = 0.0, 0, [], []
    for e in entries:
        wav, _ = read_audio(e.wav, sr)
        rec = tokenizer.decode(tokenizer.encode(torch.from_numpy(wav)[None].to(device)))[0].float().cpu().numpy()
        rec = rec[: len(wav)]
        s, n = mel_l1(wav, rec, sr)
        total, count = total + s, count + n
        uid = e.id.replace("/", "_")
        write_audio(folder / "original" / f"{uid}.wav", wav, sr)
        write_audio(folder / "resynth" / f"{uid}.wav", rec.astype(np.float32), sr)
        resynth_rows.append({"utt_id": uid, "prompt_wav": f"original/{uid}.wav", "prompt_text": e.text,
                             "target_text": e.text, "lang": e.lang, "reference_wav": f"resynth/{uid}.wav"})
        original_rows.append({**resynth_rows[-1], "reference_wav": f"original/{uid}.wav"})
    report: dict[str, Any] = {"tokenizer": tokenizer.describe().get("name"), "step": step, "rows": len(entries),
                              "dev_manifest": str(cfg.manifest), "mel_l1_logmel": total / max(count, 1),
                              "mel_l1_scope": "mean |ln mel(x) - ln mel(x_hat)| over all frames x bins of the rows"}
    for name, rows, metrics in (("resynth", resynth_rows, cfg.metrics),
                                ("original", original_rows, ",".join(m for m in cfg.metrics.split(",")
                                                                     if not m.startswith("sim")))):
        if not metrics:
            continue
        listing = folder / f"{name}.jsonl"
        listing.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        runs = folder / "runs" / name
        cmd = [sys.executable, "-m", "ttsbench", "run", "--system", "ground-truth", "--prompt-set", str(listing),
               "--metrics", metrics, "--out", str(runs), "--quiet", "--device", cfg.device]
        done = subprocess.run(cmd, capture_output=True, text=True)
        found = find_runs([runs]) if runs.is_dir() else []
        if done.returncode != 0 or not found:
            report[name] = {"error": (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no run"]}
            continue
        summary = read_summary(found[-1] / "summary.json")
        report[name] = {m: s.values.get(s.primary_key) for m, s in summary.metrics.items()}
        report.setdefault("runs", {})[name] = str(found[-1])
    (out / "reconstruction.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    # lazy: only this command line needs the tokenizer loader
    from ttsbench.systems.speech.tokenizer import load_tokenizer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tokenizer", type=Path, help="a tokenizer folder (e.g. <vae out>/tokenizer)")
    p.add_argument("manifest", help="dev manifest: wav, text")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--rows", type=int, default=16)
    p.add_argument("--metrics", default=ReportConfig.metrics)
    args = p.parse_args(argv)
    if not args.tokenizer.is_dir():
        raise InputError(f"tokenizer folder not found: {args.tokenizer}")
    report = reconstruction_report(load_tokenizer(args.tokenizer), ReportConfig(args.manifest, args.rows, args.metrics),
                                   args.out)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
