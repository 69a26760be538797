"""Typed run records: round trips, schema 2 on disk, schema-1 key mapping, one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ttsbench.cli import main
from ttsbench.errors import InputError
from ttsbench.schema import (
    SCHEMA_VERSION,
    CostEntry,
    GitInfo,
    MetricEntry,
    MetricSummary,
    PromptSetInfo,
    RunManifest,
    ScoreRow,
    Summary,
    SynthCounts,
    SynthRow,
    SystemEntry,
)
from ttsbench.spec import MetricSpec, RunSpec
from ttsbench.store import load_run, read_jsonl
from ttsbench.types import SystemSpec

SPEC = RunSpec(system=SystemSpec("tone", {"freq": 300, "voice": "en+f3"}, Path("/ck/pt")), prompt_set="demo",
               metrics=(MetricSpec("duration"), MetricSpec("wer-test", {"beam": 5})), seed=3, limit=2,
               batch_size=4, device="cuda:0", audio_root=Path("/data/audio"))
METRIC = MetricEntry(version="2", fingerprint={"recipe": "wer-test", "asr": {"beam": 5}},
                     fingerprint_id="f00dfeed0001", options={"beam": 5}, higher_is_better=False,
                     primary="wer_macro", comparable=True, label="WER (%)")
COST = CostEntry(flops=2.0e12, tflops=2.0, unit="FLOPs (=2 MACs)", scope="analytic, 10 s",
                 detail="LM (causal)", method="analytic", macs=1.0e12, arch="ditar-tiny")
MANIFEST = RunManifest(
    run_id="0123456789ab", spec=SPEC, identity=SPEC.identity("sha256:c0ffee"), ttsbench_version="0.1.0",
    git=GitInfo(sha="0" * 40, dirty=False), python="3.11.7", platform="Linux", torch="2.13.0",
    device="cpu (x86_64)",
    prompt_set=PromptSetInfo(name="demo", checksum="sha256:c0ffee", n=7, definition="seven rows"),
    started="2025-01-01T00:00:00+00:00", updated="2025-01-01T00:01:00+00:00",
    sessions=("2025-01-01T00:00:00+00:00", "2025-01-01T00:01:00+00:00"),
    system=SystemEntry(name="tone", cls="ttsbench.systems.tone.Tone", sample_rate=16000,
                       capabilities={"zero_shot": False, "max_batch": 1024},
                       describe={"noise": 0.01, "model_config": {"num_layers": 4}}),
    cost=COST, metrics={"wer-test": METRIC}, extra={"note": "kept"})
SUMMARY = Summary(
    run_id="0123456789ab", system="tone", prompt_set="demo", seed=3, n_expected=3,
    synth=SynthCounts(ok=2, failed=1, missing=0, failed_ids=("u2",), errors={"u2": "NaN in output"},
                      audio_seconds=4.0, wall_seconds=1.0, rtf=0.25),
    metrics={"wer-test": MetricSummary(label="WER (%)", primary="wer_macro", higher_is_better=False,
                                       comparable=True, fingerprint_id="f00dfeed0001", version="2",
                                       n_scored=2, n_failed=0, n_unscored=1,
                                       values={"wer_macro": 2.5, "wer_macro_ci_low": 1.0,
                                               "wer_macro_ci_high": 4.0})},
    cost=COST)
ROWS = [
    SynthRow(utt_id="u0", seed=3, status="ok", seconds=0.5, batch_id="b0", batch_size=2, audio_seconds=2.0,
             sample_rate=16000),
    SynthRow(utt_id="u2", seed=3, status="failed", error="NaN in output"),
    SynthRow(utt_id="u1", status="ok", audio_seconds=1.5, sample_rate=44100, external=True),
    ScoreRow(utt_id="u0", metric="wer-test", fingerprint_id="f00dfeed0001", status="ok",
             stats={"S": 1, "D": 0, "I": 0, "N": 10, "hyp": "a b"}),
    ScoreRow(utt_id="u1", metric="wer-test", fingerprint_id="f00dfeed0001", status="failed", error="boom"),
]


def _through_text(record):
    """The record written as JSON text and read back."""
    return type(record).from_json(json.loads(json.dumps(record.to_json())))


@pytest.mark.parametrize("record", [MANIFEST, SUMMARY, *ROWS, METRIC, COST, MANIFEST.system, MANIFEST.git,
                                    MANIFEST.prompt_set, SUMMARY.synth, SUMMARY.metrics["wer-test"],
                                    RunManifest(), Summary()],
                         ids=lambda r: type(r).__name__)
def test_every_record_round_trips(record):
    assert _through_text(record) == record


def test_run_spec_round_trips_what_it_stores():
    again = RunSpec.from_json(json.loads(json.dumps(SPEC.to_json())), out=SPEC.out)
    assert again == SPEC and again.run_id("sha256:x") == SPEC.run_id("sha256:x")
    assert "prompt_set" in SPEC.to_json() and "testset" not in SPEC.to_json()


def test_run_id_hash_is_frozen():
    """The run id of existing directories: changing it would stop every old run from resuming."""
    spec = RunSpec(system=SystemSpec("tone", {"freq": 300}, Path("/ck")), prompt_set="demo", seed=3)
    assert spec.identity("sha256:x") == {
        "system": {"name": "tone", "options": {"freq": 300}, "checkpoint": "/ck"}, "testset": "demo",
        "testset_checksum": "sha256:x", "seed": 3}
    assert spec.run_id("sha256:x") == "ad7d6990dbfe"


def test_rows_are_written_as_schema_1_wrote_them():
    ok, failed, external = (r.to_json() for r in ROWS[:3])
    assert list(ok) == ["utt_id", "seed", "status", "error", "seconds", "batch_id", "batch_size",
                        "audio_seconds", "sample_rate"]
    assert failed == {"utt_id": "u2", "seed": 3, "status": "failed", "error": "NaN in output"}
    assert external == {"utt_id": "u1", "status": "ok", "error": None, "audio_seconds": 1.5,
                        "sample_rate": 44100, "external": True}
    assert ROWS[3].to_json() == {"utt_id": "u0", "metric": "wer-test", "fingerprint_id": "f00dfeed0001",
                                 "status": "ok", "error": None, "S": 1, "D": 0, "I": 0, "N": 10, "hyp": "a b"}


def test_schema_1_keys_are_mapped_and_unknown_keys_kept():
    old = MANIFEST.to_json()
    old["schema_version"] = 1
    old["testset"] = old.pop("prompt_set")
    old["spec"]["testset"] = old["spec"].pop("prompt_set")
    assert RunManifest.from_json(old) == MANIFEST
    summary = SUMMARY.to_json() | {"schema_version": 1, "from_a_plugin": [1, 2]}
    summary["testset"] = summary.pop("prompt_set")
    read = Summary.from_json(summary)
    assert read.prompt_set == "demo" and read.extra == {"from_a_plugin": [1, 2]}
    assert read.to_json()["from_a_plugin"] == [1, 2] and read.to_json()["schema_version"] == SCHEMA_VERSION
    assert Summary.from_json({}).metrics == {}  # no version: schema 1, every key at its default


@pytest.mark.parametrize(("doc", "message"), [
    ({"schema_version": 3}, "schema_version 3, newer than this ttsbench reads (1 to 2): upgrade ttsbench"),
    ({"schema_version": "2"}, "schema_version must be an integer, found a string"),
    ([], "must be a JSON object, found a list"),
    ({"metrics": {"wer": {"primary": 3}}}, "metrics.wer.primary must be a string, found a number"),
    ({"spec": {"system": {"name": "tone"}, "prompt_set": "demo", "seed": "0"}},
     "spec.seed must be an integer"),
    ({"spec": {"prompt_set": "demo"}}, "spec.system.name is missing"),
    ({"sessions": ["a", 1]}, "sessions must be a list of strings"),
])
def test_bad_run_json_is_one_line_naming_the_key(doc, message):
    with pytest.raises(InputError) as err:
        RunManifest.from_json(doc, "runs/x/run.json")
    text = str(err.value)
    assert text.startswith("runs/x/run.json") and message in text and "\n" not in text


def _run(manifest: Path, out: Path) -> int:
    return main(["run", "--system", "tone", "--prompt-set", str(manifest), "--metrics", "duration",
                 "--out", str(out), "--quiet"])


def test_new_run_directories_are_schema_2_and_read_back_exactly(tiny_manifest, tmp_path):
    assert _run(tiny_manifest, tmp_path / "runs") == 0
    (root,) = [p.parent for p in (tmp_path / "runs").rglob("run.json")]
    run, summary = (json.loads((root / name).read_text()) for name in ("run.json", "summary.json"))
    assert run["schema_version"] == summary["schema_version"] == 2
    assert run["prompt_set"]["name"] == summary["prompt_set"] == "manifest"
    assert run["spec"]["prompt_set"] == str(tiny_manifest)
    assert "testset" not in run and "testset" not in run["spec"] and "testset" not in summary
    assert run["identity"]["testset"] == str(tiny_manifest)  # the hashed identity keeps its frozen keys
    assert RunManifest.from_json(run).to_json() == run and Summary.from_json(summary).to_json() == summary
    for name, record in (("synth.jsonl", SynthRow), ("scores.jsonl", ScoreRow)):
        rows = read_jsonl(root / name)
        assert [list(record.from_json(r).to_json().items()) for r in rows] == [list(r.items()) for r in rows]
    loaded = load_run(root)
    assert loaded.run.spec.prompt_set == str(tiny_manifest) and loaded.summary.synth.ok == 3
    assert loaded.run_id == root.name and loaded.system_name == "tone" and loaded.n_expected == 3


@pytest.mark.parametrize("name", ["run.json", "summary.json"])
def test_a_future_schema_is_one_line_and_is_not_overwritten(tiny_manifest, tmp_path, capsys, name):
    assert _run(tiny_manifest, tmp_path / "runs") == 0
    (root,) = [p.parent for p in (tmp_path / "runs").rglob("run.json")]
    doc = json.loads((root / name).read_text()) | {"schema_version": 3}
    (root / name).write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["report", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ttsbench: error:") and "schema_version 3" in err and "\n" not in err
    assert f"{root / name}" in err
    if name == "run.json":  # a resume refuses too, and leaves the newer file as it was
        assert _run(tiny_manifest, tmp_path / "runs") == 2
        assert json.loads((root / name).read_text()) == doc


def test_corrupt_run_json_is_one_line(tiny_manifest, tmp_path, capsys):
    assert _run(tiny_manifest, tmp_path / "runs") == 0
    (root,) = [p.parent for p in (tmp_path / "runs").rglob("run.json")]
    (root / "run.json").write_text('{"schema_version": 2, "run_id": ')
    capsys.readouterr()
    for argv in (["report", str(root)], ["check", str(root), "--baseline", str(tmp_path / "b.json")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("ttsbench: error: corrupt JSON in") and "\n" not in err
    assert _run(tiny_manifest, tmp_path / "runs") == 2


def test_the_documented_examples_are_what_the_records_write(repo_root):
    """docs/run-directory.md's examples read back into the records and are written unchanged."""
    text = (repo_root / "docs" / "run-directory.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    documents, rows = [b for b in blocks if b.startswith("{\n")], [b for b in blocks if not b.startswith("{\n")]
    assert len(documents) == 2 and len(rows) == 2
    for block in documents:
        doc = json.loads(block)
        record = RunManifest if "spec" in doc else Summary
        assert record.from_json(doc).to_json() == doc
    for line in "".join(rows).splitlines():
        row = json.loads(line)
        record = ScoreRow if "metric" in row else SynthRow
        assert list(record.from_json(row).to_json().items()) == list(row.items())
