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


# ---- run directories with audio and per-utterance rows, for the report folder and listening pages ----
WER_NAME, SIM_NAME = "wer-whisper-tiny-en", "sim-resemblyzer"  # registered recipes: their statistics apply


def _tone(path: Path, seconds: float, freq: float, sr: int = 16_000, share: Path | None = None) -> None:
    """A tone wav at `path`; with `share`, a symlink to that one file instead (big sets stay small)."""
    import numpy as np
    import soundfile as sf

    if share is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(share)
        return
    t = np.arange(int(seconds * sr)) / sr
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, subtype="PCM_16")


def write_prompt_set(folder: Path, texts: list[str], *, ids: list[str] | None = None,
                     ground_truth: bool = True, shared: bool = False) -> Path:
    """A JSONL prompt set with tone prompts (and ground-truth recordings): its manifest path. With
    `shared`, every prompt (and ground truth) links to one file."""
    rows = []
    for i, text in enumerate(texts):
        utt = ids[i] if ids else f"u{i:04d}"
        share = i > 0 and shared
        _tone(folder / "audio" / f"p{i}.wav", 0.6, 200 + 10 * (i % 30), share=folder / "audio" / "p0.wav" if share else None)
        row = {"utt_id": utt, "prompt_wav": f"audio/p{i}.wav", "prompt_text": "a prompt", "target_text": text}
        if ground_truth:
            _tone(folder / "audio" / f"gt{i}.wav", 1.0 + 0.01 * (i % 50), 300,
                  share=folder / "audio" / "gt0.wav" if share else None)
            row["reference_wav"] = f"audio/gt{i}.wav"
        rows.append(row)
    manifest = folder / "set.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return manifest


def write_listening_run(root: Path, manifest: Path, system: str, hyps: dict[str, str], *, seed: int = 0,
                        sims: dict[str, float] | None = None, synth_failed: dict[str, str] | None = None,
                        score_failed: dict[str, str] | None = None, shared_audio: bool = False,
                        spec_name: str | None = None) -> Path:
    """A schema-2 run directory on `manifest`: tone wavs, synth rows, WER rows aligned by the real recipe
    code (`hyps`: utt_id -> raw transcript), SIM rows, run.json and summary.json."""
    import pandas as pd

    from ttsbench.metrics.stats import aggregate, sim_statistics, wer_statistics
    from ttsbench.metrics.text import get_normalizer
    from ttsbench.metrics.wer import word_counts
    from ttsbench.prompt_sets import load_prompt_set

    pset = load_prompt_set(str(manifest))
    prompts = {p.utt_id: p for p in pset.prompts}
    text = get_normalizer("f5-en")
    synth_failed, score_failed = synth_failed or {}, score_failed or {}
    run_id = hashlib.sha256(f"{system}/{seed}/{manifest}".encode()).hexdigest()[:12]
    path = root / pset.name / (spec_name or system) / run_id
    (path / "wavs").mkdir(parents=True)
    synth, scores = [], []
    for i, (utt, hyp) in enumerate(hyps.items()):
        if utt in synth_failed:
            synth.append({"utt_id": utt, "seed": seed, "status": "failed", "error": synth_failed[utt]})
            continue
        seconds = 0.8 + 0.02 * (i % 20)
        first = path / "wavs" / f"{next(iter(hyps))}.wav"
        _tone(path / "wavs" / f"{utt}.wav", seconds, 440 + seed * 10,
              share=first if shared_audio and i > 0 else None)
        synth.append({"utt_id": utt, "seed": seed, "status": "ok", "error": None, "seconds": 0.05,
                      "batch_size": 1, "audio_seconds": seconds, "sample_rate": 16000})
        if utt in score_failed:
            scores.append({"utt_id": utt, "metric": WER_NAME, "fingerprint_id": "f5f5f5f5f5f5", "status": "failed",
                           "error": score_failed[utt]})
        else:
            ref_norm, hyp_norm = text.normalize(prompts[utt].target_text), text.normalize(hyp, hypothesis=True)
            scores.append({"utt_id": utt, "metric": WER_NAME, "fingerprint_id": "f5f5f5f5f5f5", "status": "ok",
                           "error": None, **word_counts(ref_norm, hyp_norm), "ref_raw": prompts[utt].target_text,
                           "hyp_raw": hyp, "ref_norm": ref_norm, "hyp_norm": hyp_norm})
        sim = (sims or {}).get(utt, 0.5 + 0.01 * (i % 10))
        scores.append({"utt_id": utt, "metric": SIM_NAME, "fingerprint_id": "5151515151ab", "status": "ok",
                       "error": None, "sim_o": sim, "sim_r": None})

    def ok(name: str) -> pd.DataFrame:
        return pd.DataFrame([r for r in scores if r["metric"] == name and r["status"] == "ok"])

    entries = {WER_NAME: ("WER (%) offline tiny.en", False, "wer_macro", "f5f5f5f5f5f5", wer_statistics()),
               SIM_NAME: ("SIM-o offline resemblyzer", True, "sim_o", "5151515151ab", sim_statistics())}
    metrics, summaries = {}, {}
    for name, (label, hib, primary, fp, stats) in entries.items():
        metrics[name] = {"version": "2", "fingerprint": {}, "fingerprint_id": fp, "options": {},
                         "higher_is_better": hib, "primary": primary, "comparable": False, "label": label}
        rows = ok(name)
        summaries[name] = {"label": label, "primary": primary, "higher_is_better": hib, "comparable": False,
                           "fingerprint_id": fp, "version": "2", "n_scored": len(rows),
                           "n_failed": sum(r["metric"] == name and r["status"] != "ok" for r in scores),
                           "values": aggregate(rows, stats) if len(rows) else {}}
    spec = {"system": {"name": system, "options": {}, "checkpoint": None}, "prompt_set": str(manifest),
            "metrics": [{"name": n, "options": {}} for n in entries], "seed": seed, "limit": None,
            "batch_size": 1, "device": "cpu", "audio_root": None}
    run = {"schema_version": 2, "run_id": run_id, "spec": spec, "device": "cpu (x86_64)",
           "prompt_set": {"name": pset.name, "checksum": pset.checksum, "n": len(pset.prompts)},
           "system": {"name": system}, "metrics": metrics, "cost": None}
    n_ok = sum(r["status"] == "ok" for r in synth)
    summary = {"schema_version": 2, "run_id": run_id, "system": system, "prompt_set": pset.name, "seed": seed,
               "n_expected": len(hyps), "synth": {"ok": n_ok, "failed": len(synth) - n_ok,
                                                   "failed_ids": sorted(synth_failed), "rtf": 0.05},
               "metrics": summaries}
    (path / "run.json").write_text(json.dumps(run))
    (path / "summary.json").write_text(json.dumps(summary))
    (path / "synth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in synth))
    (path / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in scores))
    return path


@pytest.fixture
def listening_runs(tmp_path):
    """Three systems on a 4-utterance prompt set with ground truth: a reference, one with
    substitutions, deletions and insertions, and one whose synthesis failed on one utterance."""
    texts = ["The cat sat on the mat.", "Four queen of clubs.", "He might even have been made amiable himself.",
             "Seven of clubs."]
    manifest = write_prompt_set(tmp_path / "set", texts)
    ids = [f"u{i:04d}" for i in range(len(texts))]
    runs = tmp_path / "runs"
    write_listening_run(runs, manifest, "ground-truth", dict(zip(ids, texts)))
    write_listening_run(runs, manifest, "noisy", dict(zip(ids, ["the bat sat mat on", "four queen of clubs",
                                                                 "he might even have been made any of all himself",
                                                                 "sam were not clubbing"])))
    write_listening_run(runs, manifest, "flaky", dict(zip(ids, texts)), synth_failed={"u0003": "NaN in output"})
    return runs, manifest


@pytest.fixture
def writers():
    """`writers.prompt_set(...)` and `writers.run(...)`: the writers above (test modules do not import conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(prompt_set=write_prompt_set, run=write_listening_run)
