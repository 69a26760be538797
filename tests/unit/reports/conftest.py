"""Run directories written by hand to the store contract (notes/STORE.md), for report and check tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

WER = {"label": "WER (%)", "primary": "wer_macro", "higher_is_better": False, "comparable": True,
       "version": "1", "fingerprint_id": "f00dfeed0001"}
SIM = {"label": "SIM", "primary": "sim_mean", "higher_is_better": True, "comparable": False,
       "version": "1", "fingerprint_id": "5151a0000001"}


def write_run(root: Path, system: str, *, prompt_set: str = "tiny-en", wer: float | None = 2.0,
              sim: float | None = 0.6, n: int = 10, failed: int = 0, wer_fp: str = WER["fingerprint_id"],
              flops: float | None = None, scope: str = "analytic: 3 s prompt, 10 s output",
              rtf: float | None = 0.5, ci: float | None = None, extra_metrics: dict | None = None,
              checksum: str | None = "c0ffee") -> Path:
    """One run directory: run.json, synth.jsonl, scores.jsonl (per-utterance rows) and summary.json."""
    run_id = hashlib.sha256(f"{system}/{prompt_set}/{wer}/{sim}/{wer_fp}".encode()).hexdigest()[:12]
    path = root / prompt_set / system / run_id
    path.mkdir(parents=True)
    metrics = {}
    if wer is not None:
        values = {"wer_macro": wer, "wer_micro": wer * 0.9}
        if ci is not None:
            values |= {"wer_macro_ci_low": wer - ci, "wer_macro_ci_high": wer + ci}
        metrics["wer-test"] = {**WER, "fingerprint_id": wer_fp, "values": values}
    if sim is not None:
        metrics["sim-test"] = {**SIM, "values": {"sim_mean": sim}}
    metrics |= extra_metrics or {}
    ok = n - failed
    for m in metrics.values():
        m |= {"n_scored": ok, "n_failed": 0}
    cost = None if flops is None else {"flops": flops, "unit": "FLOPs (=2 MACs)", "scope": scope}
    run = {"schema_version": 1, "run_id": run_id,
           "spec": {"system": {"name": system, "options": {}}, "testset": prompt_set, "seed": 0,
                    "batch_size": 1},
           "ttsbench_version": "0.1.0", "git": {"sha": "0" * 40, "dirty": False}, "python": "3.11",
           "torch": "2.13.0", "device": "cpu (x86_64)",
           "testset": {"name": prompt_set, "checksum": checksum, "n": n},
           "system": {"name": system},
           "metrics": {k: {x: v[x] for x in ("version", "fingerprint_id", "comparable", "higher_is_better",
                                              "primary", "label")} | {"fingerprint": {}}
                       for k, v in metrics.items()},
           "cost": cost, "started": "2025-01-01T00:00:00+00:00", "finished": "2025-01-01T00:01:00+00:00"}
    synth = [{"utt_id": f"u{i}", "seed": 0, "status": "ok" if i < ok else "failed",
              "error": None if i < ok else "NaN in output", "seconds": 0.1, "audio_seconds": 0.2,
              "sample_rate": 16000, "batch_size": 1} for i in range(n)]
    scores = [{"utt_id": f"u{i}", "metric": name, "fingerprint_id": m["fingerprint_id"], "status": "ok",
               "error": None} for name, m in metrics.items() for i in range(ok)]
    summary = {"schema_version": 1, "run_id": run_id, "system": system, "testset": prompt_set, "seed": 0,
               "n_expected": n,
               "synth": {"ok": ok, "failed": failed, "failed_ids": [f"u{i}" for i in range(ok, n)],
                         "rtf": rtf},
               "metrics": metrics, "cost": cost}
    (path / "run.json").write_text(json.dumps(run, indent=2))
    (path / "summary.json").write_text(json.dumps(summary, indent=2))
    (path / "synth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in synth))
    (path / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in scores))
    return path


@pytest.fixture
def make_run(tmp_path):
    """Factory: make_run("sys-a", wer=2.0, sim=0.6, ...) -> run directory under tmp_path/runs."""
    return lambda system, **kw: write_run(tmp_path / "runs", system, **kw)
