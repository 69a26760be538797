"""Issue 13 as a careless user, a crashing machine and a hostile input would try it: nothing escapes
the output folder, nothing is doubled, and one bad file fails only itself (one line, never a traceback)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ttsbench.cli import main
from ttsbench.locking import exclusive
from ttsbench.paths import path_component, temp_path
from ttsbench.plugins import SYSTEMS
from ttsbench.runner import RunPaths
from ttsbench.store import append_jsonl, read_jsonl
from ttsbench.systems.tone import Tone


def all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def make_wavs(folder: Path, manifest: Path) -> list[str]:
    """A generated-audio folder with one readable tone per utterance of the manifest."""
    ids = [json.loads(line)["utt_id"] for line in manifest.read_text().splitlines()]
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(16_000) / 16_000
    for i, utt in enumerate(ids):
        sf.write(folder / f"{utt}.wav", (0.3 * np.sin(2 * np.pi * (200 + 40 * i) * t)).astype(np.float32), 16_000)
    return ids


# ---- 1. names that become path components -------------------------------------------------------
@pytest.mark.parametrize("name", ["../../../x", "{abs}", "a/b", "..", ".hidden", "x\n"])
def test_score_name_cannot_leave_the_output_folder(name, tmp_path, tiny_manifest, capsys):
    wavs = tmp_path / "gen"
    make_wavs(wavs, tiny_manifest)
    out = tmp_path / "deep" / "er" / "out"
    before = all_files(tmp_path)
    name = name.format(abs=tmp_path / "absolute-x")  # an absolute --name
    code = main(["score", str(wavs), "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(out), "--name", name, "--quiet"])
    assert code == 2 and "--name" in capsys.readouterr().err
    assert all_files(tmp_path) == before, all_files(tmp_path) ^ before
    assert not (tmp_path / "absolute-x").exists()


def test_a_plugin_system_name_with_a_separator_is_refused(tmp_path, tiny_manifest, capsys):
    name = "../../escape"
    SYSTEMS.add(name, Tone, origin="test")
    code = main(["run", "--system", name, "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2 and "system name" in capsys.readouterr().err
    assert not list(tmp_path.rglob("run.json"))


def test_every_path_component_goes_through_one_gate():
    assert path_component("ditar-0.6b", "system name") == "ditar-0.6b"
    for bad in ("..", "../x", "/abs", "a/b", "", ".x", "x\n", "a" * 300):
        with pytest.raises(Exception, match="cannot name a file or folder"):
            path_component(bad, "name")
    encoded = path_component("my list (v2)", "name", encode=True)
    assert "/" not in encoded and " " not in encoded and encoded != path_component("my list [v2]", "n", encode=True)
    with pytest.raises(Exception, match="utterance id"):
        RunPaths(Path("r")).wav("../../x")  # the runner's own writes are gated too


# ---- 2. one writer per run directory ------------------------------------------------------------
def test_a_second_job_on_the_same_run_directory_stops_and_doubles_nothing(tmp_path, tiny_manifest, capsys):
    argv = ["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
            "--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 0
    root = next((tmp_path / "out").rglob("run.json")).parent
    rows = len(read_jsonl(root / "synth.jsonl")), len(read_jsonl(root / "scores.jsonl"))
    with exclusive(root, what="ttsbench job"):  # another job holds the directory
        assert main(argv) == 2
        assert f"in use by another ttsbench job (pid {os.getpid()})" in capsys.readouterr().err
    assert (len(read_jsonl(root / "synth.jsonl")), len(read_jsonl(root / "scores.jsonl"))) == rows
    assert main(argv) == 0  # released: the same command resumes and redoes nothing
    assert (len(read_jsonl(root / "synth.jsonl")), len(read_jsonl(root / "scores.jsonl"))) == rows


def test_temp_files_are_unique_per_writer_and_stale_ones_are_cleared(tmp_path, tiny_manifest):
    a, b = temp_path(tmp_path / "x.wav"), temp_path(tmp_path / "x.wav")
    assert a != b and f".{os.getpid()}." in a.name and a.name.endswith(".part")
    argv = ["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
            "--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 0
    root = next((tmp_path / "out").rglob("run.json")).parent
    (root / "wavs" / "utt0.wav.999.dead.part").write_bytes(b"half a file")  # a killed writer's leftover
    assert main(argv) == 0 and not list(root.rglob("*.part"))


# ---- 3, 4. bad generated audio fails only itself ------------------------------------------------
def test_unreadable_and_invalid_wavs_fail_alone(tmp_path, tiny_manifest, capsys):
    wavs = tmp_path / "gen"
    make_wavs(wavs, tiny_manifest)
    (wavs / "utt0.wav").write_bytes(b"RIFF\x00\x00garbage")  # a corrupt header
    sf.write(wavs / "utt1.wav", np.full(16_000, np.nan, dtype=np.float32), 16_000, subtype="FLOAT")  # NaN audio
    code = main(["score", str(wavs), "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "1/3 synthesized, 2 failed" in out
    root = next((tmp_path / "out").rglob("run.json")).parent
    synth = {r["utt_id"]: r for r in read_jsonl(root / "synth.jsonl")}
    assert "cannot read audio" in synth["utt0"]["error"] and "NaN" in synth["utt1"]["error"]
    scored = [r["utt_id"] for r in read_jsonl(root / "scores.jsonl") if r["status"] == "ok"]
    assert scored == ["utt2"]


def test_empty_and_symlinked_wavs_fail_alone_with_allow_missing(tmp_path, tiny_manifest, capsys):
    wavs = tmp_path / "gen"
    make_wavs(wavs, tiny_manifest)
    (wavs / "utt0.wav").write_bytes(b"")
    (wavs / "utt1.wav").unlink()
    (wavs / "utt1.wav").symlink_to(tiny_manifest)  # a symlink to a text file
    (wavs / "utt2.wav").unlink()
    code = main(["score", str(wavs), "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--allow-missing", "--quiet"])
    assert code == 1  # nothing could be scored
    summary = json.loads(next((tmp_path / "out").rglob("summary.json")).read_text())
    assert summary["synth"]["failed"] == 3 and set(summary["synth"]["errors"]) == {"utt0", "utt1", "utt2"}
    assert "missing" in summary["synth"]["errors"]["utt2"]


def test_missing_wavs_are_named_up_front(tmp_path, tiny_manifest, capsys):
    wavs = tmp_path / "gen"
    make_wavs(wavs, tiny_manifest)
    (wavs / "utt0.wav").unlink()
    (wavs / "utt2.wav").unlink()
    code = main(["score", str(wavs), "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "2 of 3 wavs missing" in err and "utt0.wav, utt2.wav" in err


# ---- 6. torn and foreign lines ------------------------------------------------------------------
def test_a_line_torn_inside_a_character_or_not_an_object_is_skipped_and_redone(tmp_path, tiny_manifest, capsys):
    argv = ["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
            "--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 0
    root = next((tmp_path / "out").rglob("run.json")).parent
    scores = root / "scores.jsonl"
    keep = scores.read_bytes().splitlines(keepends=True)[:-1]  # drop utt2's row, then tear a new one
    scores.write_bytes(b"".join(keep) + b'null\n42\n[]\n{"utt_id": "utt2", "note": "\xc3')
    with pytest.warns(UserWarning, match="skipped 4 unreadable line"):
        assert len(read_jsonl(scores)) == 2
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("ttsbench: warning:") == 1 and "skipped 4 unreadable line" in err  # said once
    with pytest.warns(UserWarning):
        done = {r["utt_id"] for r in read_jsonl(scores) if r.get("status") == "ok"}
    assert done == {"utt0", "utt1", "utt2"}  # the torn row was redone
    assert main(["report", str(root), "--format", "csv"]) == 0


def test_append_seals_a_torn_line_before_writing(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": "\xe2\x82')  # torn inside a 3-byte character
    append_jsonl(path, [{"c": 3}])
    with pytest.warns(UserWarning):
        assert read_jsonl(path) == [{"a": 1}, {"c": 3}]


# ---- 8. scoring a run directory scores that directory -------------------------------------------
def test_score_of_an_edited_run_directory_is_refused(tmp_path, tiny_manifest, capsys):
    assert main(["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    root = next((tmp_path / "out").rglob("run.json")).parent
    assert main(["score", str(root), "--metrics", "duration", "--quiet"]) == 0  # untouched: scores in place
    run = json.loads((root / "run.json").read_text())
    run["spec"]["seed"] = 7
    (root / "run.json").write_text(json.dumps(run))
    assert main(["score", str(root), "--metrics", "duration", "--quiet"]) == 2
    assert "describes another run" in capsys.readouterr().err
    assert len(list((tmp_path / "out").rglob("run.json"))) == 1  # no new run anywhere


def test_score_of_an_external_run_directory_scores_it_again(tmp_path, tiny_manifest, capsys):
    wavs = tmp_path / "gen"
    make_wavs(wavs, tiny_manifest)
    assert main(["score", str(wavs), "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    root = next((tmp_path / "out").rglob("run.json")).parent
    assert main(["score", str(root), "--quiet"]) == 0 and "3/3 synthesized" in capsys.readouterr().out


# ---- 11. one line instead of a traceback ---------------------------------------------------------
@pytest.mark.parametrize("system, file, content", [
    ("ditar-tiny", "empty.pt", b""), ("ditar-tiny", "garbage.pt", b"\x00garbage" * 10),
    ("nar-dit-tiny", "garbage.safetensors", b"\xff" * 64), ("nar-dit-tiny", "empty.safetensors", b"")])
def test_an_empty_or_garbage_checkpoint_is_one_line(system, file, content, tmp_path, tiny_manifest, capsys):
    (tmp_path / file).write_bytes(content)
    code = main(["run", "--system", f"{system}:checkpoint={tmp_path / file}", "--prompt-set", str(tiny_manifest),
                 "--metrics", "duration", "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("ttsbench: error:") and err.count("\n") == 1 and file in err


def test_garbage_piper_voice_and_tokenizer_weights_are_one_line(tmp_path, tiny_manifest, capsys):
    (tmp_path / "v.onnx").write_bytes(b"")
    (tmp_path / "v.onnx.json").write_text("{}")
    tok = tmp_path / "tok"
    tok.mkdir()
    (tok / "tokenizer.json").write_text(json.dumps({"format": 1, "name": "vae", "config": {}}))
    (tok / "weights.safetensors").write_bytes(b"\xff" * 64)
    for system in (f"piper-joe:checkpoint={tmp_path / 'v.onnx'}", f"ditar-tiny:tokenizer={tok}"):
        code = main(["run", "--system", system, "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                     "--out", str(tmp_path / "out"), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("ttsbench: error:") and err.count("\n") == 1, err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_a_read_only_output_folder_is_one_line(tmp_path, tiny_manifest, capsys):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        code = main(["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                     "--out", str(out), "--quiet"])
    finally:
        out.chmod(stat.S_IRWXU)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("ttsbench: error:") and err.count("\n") == 1


def test_a_failing_audio_write_is_one_line(tmp_path, monkeypatch):
    """A full disk (libsndfile: "System error.") while writing a wav is one InputError naming the file."""
    from ttsbench import audio

    def full_disk(*args, **kwargs):
        raise RuntimeError("System error.")

    monkeypatch.setattr(audio.sf, "write", full_disk)
    with pytest.raises(Exception, match=r"cannot write .*x\.wav: System error\. \(is the disk full or read-only\?\)"):
        audio.write_audio(tmp_path / "x.wav", np.zeros(100, dtype=np.float32), 16_000)
    assert not list(tmp_path.glob("*.part"))


def test_incomplete_run_json_and_a_string_in_summary_are_one_line(tmp_path, tiny_manifest, capsys):
    assert main(["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    root = next((tmp_path / "out").rglob("run.json")).parent
    summary = json.loads((root / "summary.json").read_text())
    summary["n_expected"] = "three"
    (root / "summary.json").write_text(json.dumps(summary))
    assert main(["report", str(root)]) == 2
    assert "n_expected must be" in capsys.readouterr().err
    (root / "summary.json").unlink()
    (root / "run.json").write_text('{"schema_version": 2, "run_id": "x"')  # torn
    assert main(["report", str(root)]) == 2
    assert "corrupt JSON" in capsys.readouterr().err


# ---- 12, 15. limits and exit codes ---------------------------------------------------------------
def test_score_rejects_a_negative_limit(tmp_path, tiny_manifest, capsys):
    wavs = tmp_path / "gen"
    make_wavs(wavs, tiny_manifest)
    code = main(["score", str(wavs), "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--limit", "-1", "--quiet"])
    assert code == 2 and "--limit must be >= 0" in capsys.readouterr().err


def test_a_run_where_every_utterance_failed_exits_1(tmp_path, tiny_manifest, capsys):
    code = main(["run", "--system", "faulty:nan=utt0+utt1+utt2", "--prompt-set", str(tiny_manifest),
                 "--metrics", "duration", "--out", str(tmp_path / "out"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1 and "0/3 synthesized, 3 failed" in captured.out and "nothing was scored" in captured.err
    assert main(["run", "--system", "faulty:nan=utt0", "--prompt-set", str(tiny_manifest), "--metrics",
                 "duration", "--out", str(tmp_path / "out"), "--quiet"]) == 0  # something scored: 0


def test_a_full_disk_is_one_line(tmp_path, tiny_manifest, capsys, monkeypatch):
    """Any OSError the environment raises (ENOSPC here; EROFS or EACCES alike) is one line, exit 2."""
    import errno

    from ttsbench import runner

    def full(path, obj):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runner, "write_json", full)
    code = main(["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
                 "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "run.json: No space left on device" in err
