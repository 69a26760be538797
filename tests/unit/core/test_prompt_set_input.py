"""Bad prompt sets and manifests (issue 13, items 1, 5, 9, 10, 11, 13, 14): every problem is a line
`file:line: what` (exit 2, no traceback), all of them at once; only the rows that will run are checked;
nothing is written outside `--out`; one manifest is one run directory however its path is spelt."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ttsbench.cli import main
from ttsbench.errors import TTSBenchError
from ttsbench.paths import is_plain
from ttsbench.prompt_sets import PromptSetProblems, load_prompt_set
from ttsbench.runner import run_paths
from ttsbench.spec import RunSpec
from ttsbench.types import SystemSpec


def row(utt: str, wav: str = "p0.wav", text: str = "a target sentence") -> str:
    return json.dumps({"utt_id": utt, "prompt_wav": wav, "target_text": text}) + "\n"


def run_tone(out: Path, prompt_set: str | Path, *extra: str) -> int:
    return main(["run", "--system", "tone", "--prompt-set", str(prompt_set), "--metrics", "duration",
                 "--out", str(out), "--quiet", *extra])


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("ttsbench: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


# 1: a prompt-set name never leads outside --out


@pytest.mark.parametrize("name", ["../../escaped", "{tmp}/absolute", "a/b", ".."])
def test_definition_name_that_is_not_plain_is_refused(tiny_manifest, tmp_path, capsys, name):
    definition = tiny_manifest.parent / "evil.toml"
    name = name.format(tmp=tmp_path)
    definition.write_text(f'name = "{name}"\nformat = "jsonl"\nlist = "manifest.jsonl"\n')
    out = tmp_path / "deep" / "er" / "out"
    assert run_tone(out, definition) == 2
    assert f"evil.toml: prompt-set name {name!r} cannot name a file or folder" in one_error_line(capsys)
    assert not list(tmp_path.rglob("run.json"))


@pytest.mark.parametrize("stem", ["..", "my list (v2)", "ünï cødé?*"])
def test_manifest_stem_is_encoded_into_a_plain_folder_name(tiny_manifest, tmp_path, capsys, stem):
    manifest = tiny_manifest.parent / f"{stem}.jsonl"  # "...jsonl" has the stem ".."
    manifest.write_text(tiny_manifest.read_text())
    out = tmp_path / "deep" / "out"
    assert run_tone(out, manifest) == 0
    (run_json,) = tmp_path.rglob("run.json")
    folder = run_json.relative_to(out).parts[0]
    assert is_plain(folder) and run_json.is_relative_to(out)


# 5: prompt audio is checked when the set loads, one line per bad prompt


def write_float_wav(path: Path, samples: np.ndarray, sr: int = 16_000) -> None:
    sf.write(str(path), samples.astype(np.float32), sr, subtype="FLOAT")


def test_bad_prompt_audio_is_one_line_per_prompt(tiny_manifest, capsys):
    d = tiny_manifest.parent
    write_float_wav(d / "zeros.wav", np.zeros(8000))
    nan = np.full(8000, 0.1)
    nan[100] = np.nan
    write_float_wav(d / "nan.wav", nan)
    write_float_wav(d / "inf.wav", np.where(np.arange(8000) == 5, np.inf, 0.1))
    write_float_wav(d / "long.wav", np.full(61 * 100, 0.1), sr=100)  # 61 s, over the default 60 s
    (d / "empty.wav").write_bytes(b"")
    bad = d / "bad.jsonl"
    bad.write_text(row("ok0") + row("silent", "zeros.wav") + row("nan", "nan.wav") + row("inf", "inf.wav")
                   + row("long", "long.wav") + row("empty", "empty.wav") + row("ok1", "p1.wav"))
    with pytest.raises(PromptSetProblems) as caught:
        load_prompt_set(str(bad))
    problems = caught.value.problems
    assert len(problems) == 5
    assert f"{bad}:2: utterance 'silent': prompt audio is silent" in problems[0]
    assert f"{bad}:3: utterance 'nan': prompt audio contains NaN or Inf (1 samples)" in problems[1]
    assert f"{bad}:4:" in problems[2] and "NaN or Inf" in problems[2]
    assert f"{bad}:5:" in problems[3] and "61.0 s long, over the set's max_prompt_seconds (60 s)" in problems[3]
    assert f"{bad}:6:" in problems[4] and "empty.wav" in problems[4]
    assert main(["validate", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines() == problems and err.strip() == f"ttsbench: error: 5 problem(s) in prompt set {bad}"


def test_max_prompt_seconds_is_a_field_of_the_definition(tiny_manifest, tmp_path):
    d = tiny_manifest.parent  # prompts of 0.4, 0.5 and 0.6 s
    definition = d / "short.toml"
    definition.write_text('name = "short"\nformat = "jsonl"\nlist = "manifest.jsonl"\nmax_prompt_seconds = 0.45\n')
    with pytest.raises(PromptSetProblems, match=r"2 problems(.|\n)*:2: (.|\n)*max_prompt_seconds \(0.45 s\)"):
        load_prompt_set(str(definition))
    assert len(load_prompt_set(str(definition), limit=1).prompts) == 3
    for value in ("0", '"long"', "true"):
        definition.write_text(f'name = "s"\nformat = "jsonl"\nlist = "manifest.jsonl"\nmax_prompt_seconds = {value}\n')
        with pytest.raises(TTSBenchError, match="max_prompt_seconds must be a number > 0"):
            load_prompt_set(str(definition))


# 9: every problem in one go, with file and line, capped


def test_all_problems_are_reported_at_once_with_their_lines(tiny_manifest):
    d = tiny_manifest.parent
    bad = d / "bad.jsonl"
    bad.write_text(row("ok") + "{not json\n" + row("ok") + "\n" + row("x y") + row("fine", "missing.wav")
                   + row("empty", text=" "))
    with pytest.raises(PromptSetProblems) as caught:
        load_prompt_set(str(bad))
    message = str(caught.value)
    assert message.startswith(f"5 problems in prompt set {bad}:\n")
    for line, what in [(2, "not JSON"), (3, "utterance id 'ok' appears twice (first on line 1)"),
                       (5, "utterance id 'x y' is not a safe file name"),
                       (6, "utterance 'fine': prompt audio not found"), (7, "utterance 'empty' has an empty target")]:
        assert f"{bad}:{line}: {what}" in message


def test_many_problems_are_capped_with_a_count(tiny_manifest):
    bad = tiny_manifest.parent / "many.jsonl"
    bad.write_text("".join(row(f"u{i}", "missing.wav") for i in range(35)))
    with pytest.raises(PromptSetProblems) as caught:
        load_prompt_set(str(bad))
    lines = str(caught.value).splitlines()
    assert lines[0] == f"35 problems in prompt set {bad}:"
    assert len(lines) == 22 and lines[-1] == f"  ... and 15 more (`ttsbench validate {bad}` lists all)"
    assert len(caught.value.problems) == 35


# 10: --limit checks what will run; `validate` checks everything


def test_limit_checks_only_the_rows_that_will_run(tiny_manifest, tmp_path, capsys):
    big = tiny_manifest.parent / "big.jsonl"
    rows = [row(f"u{i}", f"p{i % 3}.wav") for i in range(1000)]
    big.write_text("".join(rows) + row("u1000", "missing.wav") + '["not", "an", "object"]\n')
    assert len(load_prompt_set(str(big), limit=5).prompts) == 1001  # every row that is a prompt
    assert run_tone(tmp_path / "out", big, "--limit", "5") == 0
    assert "5/5 synthesized" in capsys.readouterr().out
    with pytest.raises(PromptSetProblems, match="2 problems"):
        load_prompt_set(str(big))
    with pytest.raises(PromptSetProblems, match=r"^[^\n]*big.jsonl:1001: utterance 'u1000': prompt audio not found"):
        load_prompt_set(str(big), limit=1001)
    with pytest.raises(PromptSetProblems, match=r"2 problems(.|\n)*:1001: (.|\n)*:1002: expected a JSON object"):
        load_prompt_set(str(big), limit=1002)
    # the whole set's checksum: a limit keeps the run id, so a larger limit resumes the same directory
    assert load_prompt_set(str(big), limit=5).checksum == load_prompt_set(str(big), limit=1000).checksum


def test_a_bad_row_within_the_limit_still_stops_the_run(tiny_manifest, tmp_path, capsys):
    bad = tiny_manifest.parent / "bad.jsonl"
    bad.write_text(row("a") + row("b", "missing.wav") + row("c"))
    assert run_tone(tmp_path / "out", bad, "--limit", "2") == 2
    assert f"{bad}:2: utterance 'b': prompt audio not found" in one_error_line(capsys)
    assert run_tone(tmp_path / "out", bad, "--limit", "1") == 0


def test_validate_lists_every_problem_and_exits_2(tiny_manifest, capsys):
    assert main(["validate", str(tiny_manifest)]) == 0
    assert "3 prompts, every row and prompt audio OK (sha256:" in capsys.readouterr().out
    bad = tiny_manifest.parent / "bad.jsonl"
    bad.write_text("".join(row(f"u{i}", "missing.wav") for i in range(30)) + row("last") + "[]\n")
    assert main(["validate", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 31 and out.splitlines()[-1] == f"{bad}:32: expected a JSON object {{...}}, " \
                                                                   "got an array"
    assert err.strip() == f"ttsbench: error: 31 problem(s) in prompt set {bad}"


def test_validate_of_a_registered_set_names_what_it_needs(monkeypatch, capsys):
    monkeypatch.delenv("TTSBENCH_LIBRISPEECH", raising=False)
    assert main(["validate", "librispeech-pc-b"]) == 2
    assert "--audio-root" in one_error_line(capsys)
    assert main(["validate", "demo"]) == 0


def test_parsing_a_large_manifest_stays_fast(tmp_path, make_wav):
    """100k rows, the last one bad, under `--limit 5`: parsed (for the checksum), 5 checked. ~1.3 s on one
    core where checking all of them took 6 s; the bound leaves room for a loaded machine."""
    make_wav("big/p.wav")
    path = tmp_path / "big" / "list.jsonl"
    path.write_text("".join(row(f"u{i}", "p.wav") for i in range(100_000)) + '"a string"\n')
    start = time.perf_counter()
    assert len(load_prompt_set(str(path), limit=5).prompts) == 100_000
    assert time.perf_counter() - start < 15


# 11: one line, exit 2, for manifests that used to raise a traceback


BAD_JSONL = {
    "array line": '["utt", "p0.wav", "text"]',
    "string line": '"just a string"',
    "number prompt_wav": '{"utt_id": "a", "prompt_wav": 5, "target_text": "t"}',
    "list prompt_wav": '{"utt_id": "a", "prompt_wav": ["p0.wav"], "target_text": "t"}',
    "lone surrogate": '{"utt_id": "a", "prompt_wav": "p0.wav", "target_text": "t \\ud800 t"}',
}


@pytest.mark.parametrize("case", sorted(BAD_JSONL))
def test_bad_jsonl_rows_are_one_line(tiny_manifest, tmp_path, capsys, case):
    bad = tiny_manifest.parent / "bad.jsonl"
    bad.write_text(row("ok") + BAD_JSONL[case] + "\n")
    assert run_tone(tmp_path / "out", bad) == 2
    assert f"{bad}:2: " in one_error_line(capsys)


@pytest.mark.parametrize("suffix, text", [
    (".jsonl", row("ok") + '{"utt_id": "b", "prompt_wav": "p0.wav", "target_text": "caf\xe9"}\n'),
    (".csv", "utt_id,prompt_wav,prompt_text,target_text\nb,p0.wav,p,caf\xe9\nok,p0.wav,p,t\n"),
    (".lst", "ok|p|p0.wav|t\nb|p|p0.wav|caf\xe9\n"),
    (".tsv", "1-2-3\t1.0\tp\t4-5-6\t1.0\tt\n1-2-4\t1.0\tp\t4-5-7\t1.0\tcaf\xe9\n"),
])
def test_bytes_that_are_not_utf8_are_one_line_per_row(tiny_manifest, tmp_path, make_wav, capsys, suffix, text):
    make_wav("set/1/2/1-2-3.flac")  # the .tsv's first prompt
    bad = tiny_manifest.parent / f"latin1{suffix}"
    bad.write_bytes(text.encode("latin-1"))
    assert main(["validate", str(bad)]) == 2
    out, _ = capsys.readouterr()
    column = "" if suffix == ".csv" else f", column {text.splitlines()[1].index(chr(0xE9)) + 1}"
    assert out.strip() == f"{bad}:2: not UTF-8 text (byte 0xe9{column}); save the list as UTF-8"
    assert run_tone(tmp_path / "out", bad) == 2
    assert f"{bad}:2: not UTF-8" in one_error_line(capsys)


def test_csv_with_a_byte_order_mark_just_works(tiny_manifest, tmp_path):
    manifest = tiny_manifest.parent / "excel.csv"
    manifest.write_bytes("utt_id,prompt_wav,prompt_text,target_text\nx,p0.wav,p,t\n".encode("utf-8-sig"))
    assert [p.utt_id for p in load_prompt_set(str(manifest)).prompts] == ["x"]
    assert run_tone(tmp_path / "out", manifest) == 0


def test_csv_header_and_width_problems_are_lines(tiny_manifest):
    manifest = tiny_manifest.parent / "m.csv"
    manifest.write_text("id,wav,text\nx,p0.wav,t\n")
    with pytest.raises(PromptSetProblems, match=r"m.csv:1: the header row lacks column\(s\) \['utt_id'"):
        load_prompt_set(str(manifest))
    manifest.write_text("utt_id,prompt_wav,target_text\nx,p0.wav,t,extra\ny,p0.wav,t\n")
    with pytest.raises(PromptSetProblems, match=r"m.csv:2: 4 cells, the header has 3"):
        load_prompt_set(str(manifest))


@pytest.mark.parametrize("body, message", [
    ('format = "jsonl"\nlist = "manifest.jsonl"\n', "missing keys ['name']"),
    ('name = 5\nformat = "jsonl"\nlist = "manifest.jsonl"\n', "name must be a string"),
    ('name = "x"\nformat = "jsonl"\nlist = ["manifest.jsonl"]\n', "list must be a string"),
])
def test_bad_definition_files_are_one_line(tiny_manifest, tmp_path, capsys, body, message):
    definition = tiny_manifest.parent / "def.toml"
    definition.write_text(body)
    assert run_tone(tmp_path / "out", definition) == 2
    assert message in one_error_line(capsys)


# 13: one manifest, one run directory, however its path is spelt


def test_manifest_spellings_share_one_run_directory(tiny_manifest, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tiny_manifest.parent)
    out = tmp_path / "out"
    for spelling in ("manifest.jsonl", "./manifest.jsonl", str(tiny_manifest), "../set/manifest.jsonl"):
        assert run_tone(out, spelling) == 0
    assert len(list(out.rglob("run.json"))) == 1
    # a copy elsewhere is another manifest: its own run, even with the same content
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "manifest.jsonl").write_text(tiny_manifest.read_text())
    for i in range(3):
        (tmp_path / "copy" / f"p{i}.wav").write_bytes((tiny_manifest.parent / f"p{i}.wav").read_bytes())
    assert run_tone(out, tmp_path / "copy" / "manifest.jsonl") == 0
    assert len(list(out.rglob("run.json"))) == 2


def test_registered_sets_keep_their_run_ids():
    spec = RunSpec(system=SystemSpec("tone"), prompt_set="demo")
    pset = load_prompt_set("demo")
    assert pset.key == "demo"
    assert run_paths(spec, pset).root.name == spec.run_id(pset.checksum)  # the id before keys existed


# 14: utterance ids follow the one rule of ttsbench.paths, matched in full


@pytest.mark.parametrize("utt", ["utt0\n", "utt0\r", "a b", "-lead", "a..b", "x" * 201, "é"])
def test_utterance_ids_that_are_not_plain_are_refused(tiny_manifest, utt):
    assert not is_plain(utt)
    bad = tiny_manifest.parent / "ids.jsonl"
    bad.write_text(row(utt))
    with pytest.raises(PromptSetProblems, match="is not a safe file name"):
        load_prompt_set(str(bad))


@pytest.mark.parametrize("utt", ["utt0", "a+b", "1089-134686-0000", "x.y_z"])
def test_plain_utterance_ids_load(tiny_manifest, utt):
    assert is_plain(utt)
    good = tiny_manifest.parent / "ids.jsonl"
    good.write_text(row(utt))
    assert load_prompt_set(str(good)).prompts[0].utt_id == utt
