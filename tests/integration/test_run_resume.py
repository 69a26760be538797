"""`ttsbench run` end to end on CPU: run directory layout, resume without redoing, failures counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ttsbench.cli import main
from ttsbench.store import read_jsonl


def _run(manifest: Path, out: Path, *extra: str) -> int:
    return main(["run", "--system", "tone", "--prompt-set", str(manifest), "--metrics", "duration",
                 "--seed", "0", "--out", str(out), "--quiet", *extra])


def _run_dir(out: Path) -> Path:
    (run_json,) = list(out.rglob("run.json"))
    return run_json.parent


def test_run_writes_the_run_directory(tiny_manifest, tmp_path, capsys):
    assert _run(tiny_manifest, tmp_path / "runs", "--batch-size", "2") == 0
    root = _run_dir(tmp_path / "runs")
    assert root.parent.name == "tone" and root.parent.parent.name == "manifest"
    run = json.loads((root / "run.json").read_text())
    assert run["schema_version"] == 2 and run["spec"]["prompt_set"] == str(tiny_manifest)
    assert run["prompt_set"]["checksum"].startswith("sha256:") and run["git"].keys() == {"sha", "dirty"}
    assert run["metrics"]["duration"]["fingerprint_id"] and run["device"].startswith("cpu")
    assert sorted(p.name for p in (root / "wavs").iterdir()) == ["utt0.wav", "utt1.wav", "utt2.wav"]
    summary = json.loads((root / "summary.json").read_text())
    assert summary["schema_version"] == 2 and summary["prompt_set"] == "manifest"
    assert summary["n_expected"] == 3 and summary["synth"]["ok"] == 3
    assert summary["metrics"]["duration"]["n_scored"] == 3
    assert summary["synth"]["rtf"] > 0
    assert "duration" in capsys.readouterr().out


def test_rerun_resumes_without_redoing_or_duplicating(tiny_manifest, tmp_path):
    out = tmp_path / "runs"
    assert _run(tiny_manifest, out, "--limit", "2") == 0
    root = _run_dir(out)
    first_wav = (root / "wavs" / "utt0.wav").stat().st_mtime_ns
    assert _run(tiny_manifest, out) == 0  # same spec, larger limit: same directory, one more utterance
    assert _run_dir(out) == root
    synth, scores = read_jsonl(root / "synth.jsonl"), read_jsonl(root / "scores.jsonl")
    assert sorted(r["utt_id"] for r in synth) == ["utt0", "utt1", "utt2"]
    assert sorted(r["utt_id"] for r in scores) == ["utt0", "utt1", "utt2"]
    assert (root / "wavs" / "utt0.wav").stat().st_mtime_ns == first_wav
    assert _run(tiny_manifest, out) == 0  # nothing left to do: nothing appended
    assert len(read_jsonl(root / "synth.jsonl")) == 3 and len(read_jsonl(root / "scores.jsonl")) == 3


def test_torn_line_after_a_crash_is_redone(tiny_manifest, tmp_path, capsys):
    out = tmp_path / "runs"
    assert _run(tiny_manifest, out) == 0
    root = _run_dir(out)
    lines = (root / "synth.jsonl").read_text().splitlines(keepends=True)
    (root / "synth.jsonl").write_text("".join(lines[:2]) + lines[2][:15])  # torn last row
    (root / "wavs" / "utt2.wav").unlink()
    capsys.readouterr()
    assert _run(tiny_manifest, out) == 0
    err = capsys.readouterr().err
    assert "ttsbench: warning:" in err and "torn" in err
    with pytest.warns(UserWarning):
        rows = read_jsonl(root / "synth.jsonl")
    assert sorted(r["utt_id"] for r in rows) == ["utt0", "utt1", "utt2"]
    assert (root / "wavs" / "utt2.wav").is_file()


def test_bad_outputs_are_failed_utterances_and_the_run_goes_on(tiny_manifest, tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["run", "--system", "faulty:nan=utt0,silent=utt1", "--prompt-set", str(tiny_manifest),
                 "--metrics", "duration", "--out", str(out), "--quiet", "--batch-size", "3"])
    assert code == 0
    summary = json.loads((_run_dir(out) / "summary.json").read_text())
    assert summary["synth"]["ok"] == 1 and summary["synth"]["failed"] == 2
    assert "NaN" in summary["synth"]["errors"]["utt0"] and "silent" in summary["synth"]["errors"]["utt1"]
    assert summary["metrics"]["duration"]["n_scored"] == 1
    assert "failed utt0" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["run", "--system", "tonee", "--prompt-set", "{m}"], "Did you mean 'tone'"),
    (["run", "--system", "tone", "--prompt-set", "{m}", "--metrics", "duraton"], "Did you mean 'duration'"),
    (["run", "--system", "tone", "--prompt-set", "no-such-set"], "no prompt set named"),
    (["run", "--system", "tone", "--prompt-set", "{m}", "--batch-size", "0"], "--batch-size"),
    (["score", "{d}", "--prompt-set", "{m}", "--metrics", "duration"], "wavs missing"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tiny_manifest, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    argv = [a.format(m=tiny_manifest, d=tmp_path / "empty") for a in argv] + ["--out", str(tmp_path / "r"), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ttsbench: error:") and message in err and "\n" not in err


def test_score_external_directory_counts_missing_when_allowed(tiny_manifest, tmp_path, make_wav):
    gen = tmp_path / "generated"
    make_wav("generated/utt0.wav", seconds=0.8)
    make_wav("generated/utt2.wav", seconds=0.6, sr=44_100, channels=2)
    code = main(["score", str(gen), "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--allow-missing", "--out", str(tmp_path / "runs"), "--quiet"])
    assert code == 0
    summary = json.loads((_run_dir(tmp_path / "runs") / "summary.json").read_text())
    assert summary["synth"] == {**summary["synth"], "ok": 2, "failed": 1, "failed_ids": ["utt1"]}
    assert summary["metrics"]["duration"]["n_scored"] == 2
    assert summary["metrics"]["duration"]["values"]["seconds_total"] == pytest.approx(1.4, abs=1e-3)


def test_rerun_of_a_finished_demo_run_appends_no_score_rows(tmp_path):
    """Recipes that pin their weights' hash at setup must still see their finished rows."""
    out = tmp_path / "runs"
    argv = ["run", "--system", "espeak-ng", "--prompt-set", "demo", "--limit", "1", "--metrics",
            "wer-whisper-tiny-en", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    root = _run_dir(out)
    before = len(read_jsonl(root / "scores.jsonl"))
    assert main(argv) == 0
    assert len(read_jsonl(root / "scores.jsonl")) == before == 1
    summary = json.loads((root / "summary.json").read_text())
    assert summary["metrics"]["wer-whisper-tiny-en"]["n_scored"] == 1
