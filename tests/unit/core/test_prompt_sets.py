"""Prompt-set readers and validation, on real files in every supported format."""

from __future__ import annotations

import json
import shutil

import pytest

from ttsbench.errors import InputError, TTSBenchError
from ttsbench.prompt_sets import data_dir, load_prompt_set


def test_jsonl_manifest_loads_with_checksum(tiny_manifest):
    pset = load_prompt_set(str(tiny_manifest))
    assert [p.utt_id for p in pset.prompts] == ["utt0", "utt1", "utt2"]
    assert pset.prompts[0].prompt_wav == tiny_manifest.parent / "p0.wav"
    assert pset.checksum.startswith("sha256:")
    # the checksum follows content, not the location of the files
    moved = tiny_manifest.parent.parent / "moved"
    shutil.copytree(tiny_manifest.parent, moved)
    assert load_prompt_set(str(moved / "manifest.jsonl")).checksum == pset.checksum


def test_csv_and_seedtts_formats(tmp_path, make_wav):
    make_wav("s/prompt-wavs/a.wav")
    make_wav("s/prompt-wavs/b.wav")
    (tmp_path / "s" / "meta.lst").write_text(
        "u1|hello there|prompt-wavs/a.wav|say this|wavs/u1.wav\nu2|hi|prompt-wavs/b.wav|and this\n")
    pset = load_prompt_set(str(tmp_path / "s" / "meta.lst"))
    assert pset.prompts[0].reference_wav == tmp_path / "s" / "wavs" / "u1.wav"
    assert pset.prompts[1].reference_wav is None and pset.prompts[1].target_text == "and this"
    (tmp_path / "s" / "m.csv").write_text("utt_id,prompt_wav,prompt_text,target_text\nx,prompt-wavs/a.wav,p,t\n")
    assert load_prompt_set(str(tmp_path / "s" / "m.csv")).prompts[0].utt_id == "x"


def test_f5_librispeech_pc_list_is_shipped_and_parsed(tmp_path):
    lst = data_dir() / "librispeech_pc_test_clean_cross_sentence.lst"
    assert lst.is_file()
    pset = load_prompt_set("librispeech-pc-b", audio_root=tmp_path, check_audio=False)
    assert len(pset.prompts) == 1127
    first = pset.prompts[0]
    assert first.utt_id == "4992-23283-0000"
    assert first.prompt_wav == tmp_path / "4992" / "41806" / "4992-41806-0009.flac"
    assert first.reference_wav == tmp_path / "4992" / "23283" / "4992-23283-0000.flac"
    assert first.prompt_text.startswith("exclaimed Bill Harmon")


def test_set_without_audio_root_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("TTSBENCH_LIBRISPEECH", raising=False)
    with pytest.raises(TTSBenchError, match=r"needs its audio.*--audio-root.*TTSBENCH_LIBRISPEECH.*test-clean"):
        load_prompt_set("librispeech-pc-b")
    monkeypatch.delenv("TTSBENCH_SEEDTTS_EVAL", raising=False)
    with pytest.raises(TTSBenchError, match="TTSBENCH_SEEDTTS_EVAL"):
        load_prompt_set("seedtts-zh")


@pytest.mark.parametrize("row, message", [
    ({"utt_id": "../../etc/x", "prompt_wav": "p0.wav", "target_text": "t"}, "not a safe file name"),
    ({"utt_id": "a/b", "prompt_wav": "p0.wav", "target_text": "t"}, "not a safe file name"),
    ({"utt_id": "ok", "prompt_wav": "p0.wav", "target_text": "   "}, "empty target text"),
    ({"utt_id": "ok", "prompt_wav": "nope.wav", "target_text": "t"}, "prompt audio not found"),
    ({"utt_id": "ok", "prompt_wav": "bad.wav", "target_text": "t"}, "cannot read prompt audio"),
    ({"utt_id": "ok", "target_text": "t"}, "missing field"),
])
def test_bad_rows_are_one_clear_error(tiny_manifest, row, message):
    (tiny_manifest.parent / "bad.wav").write_bytes(b"RIFF not really a wav")
    path = tiny_manifest.parent / "bad.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match=message):
        load_prompt_set(str(path))


def test_duplicate_ids_and_unknown_set(tiny_manifest):
    lines = tiny_manifest.read_text().splitlines()
    dup = tiny_manifest.parent / "dup.jsonl"
    dup.write_text(lines[0] + "\n" + lines[0] + "\n")
    with pytest.raises(InputError, match="appears twice"):
        load_prompt_set(str(dup))
    with pytest.raises(TTSBenchError, match="Did you mean 'seedtts-en'"):
        load_prompt_set("seedtts-eng")
