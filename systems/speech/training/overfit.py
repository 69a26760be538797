"""What DiTAR's and DiSTAR's overfit checks share: a manifest of the shipped demo speech, the loss
summary of a training log, and the command line (`python -m ttsbench.systems.<model>.overfit`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import soundfile as sf

from ttsbench.prompt_sets import data_dir


def demo_manifest(out: Path, rows: int) -> Path:
    """A training manifest over the shipped demo speech, `rows` distinct recordings, shortest first."""
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


def loss_summary(log: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """The training log's `keys` at step 1, their mean over the last 5 % of steps (single-step
    losses are noisy) and a curve thinned to ~15 points (DiTAR's and DiSTAR's overfit reports)."""
    tail = log[-max(len(log) // 20, 1):]
    return {"loss_step_1": {k: log[0][k] for k in keys},
            "loss_last_5pct_mean": {k: sum(r[k] for r in tail) / len(tail) for k in keys},
            "curve": [{k: r[k] for k in ("step", *keys)} for r in log[:: max(len(log) // 15, 1)]]}


def cli(run_fn: Callable[..., dict[str, Any]], doc: str | None, argv: list[str] | None = None) -> int:
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
