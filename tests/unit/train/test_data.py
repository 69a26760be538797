"""Manifest reading and the latent/phone cache."""

from __future__ import annotations

import json

import pytest
import torch

from ttsbench.audio import read_audio
from ttsbench.errors import InputError
from ttsbench.systems.speech.training.data import LatentReader, build_cache, read_manifest
from ttsbench.systems.speech.mel import MelConfig, MelTokenizer


def test_cache_holds_exactly_what_the_tokenizer_encodes(tmp_path, speech_manifest, phones):
    entries = read_manifest(speech_manifest(n=3))
    tok = MelTokenizer()
    data = build_cache(entries, tmp_path / "cache", tok, phones)
    reader = LatentReader(data)
    for row, entry in enumerate(entries):
        wav, _ = read_audio(entry.wav, 24_000)
        expected = tok.encode(torch.from_numpy(wav)[None])[0]
        assert torch.equal(reader.latents(row), expected)
        assert data.frames[row] == expected.shape[0]
        assert data.phones[row] == phones.encode(entry.text, "en")
    assert data.speaker_names == ["spk0", "spk1"] and data.speakers == [0, 1, 0]
    meta = json.loads((data.latent_dir / "meta.json").read_text())
    assert meta["tokenizer"]["name"] == "mel" and meta["rows"] == 3


def test_cache_is_reused_and_keyed_by_tokenizer(tmp_path, speech_manifest, phones):
    entries = read_manifest(speech_manifest(n=2))
    first = build_cache(entries, tmp_path / "c", MelTokenizer(), phones)
    shard = first.latent_dir / "shard_00000.safetensors"
    stamp = shard.stat().st_mtime_ns
    again = build_cache(entries, tmp_path / "c", MelTokenizer(), phones)
    assert again.latent_dir == first.latent_dir and shard.stat().st_mtime_ns == stamp
    other = build_cache(entries, tmp_path / "c", MelTokenizer(MelConfig(n_mels=80)), phones)
    assert other.latent_dir != first.latent_dir


def test_csv_manifest_and_defaults(tmp_path, make_wav):
    make_wav("a.wav", seconds=0.2)
    (tmp_path / "m.csv").write_text("wav,text\na.wav,hello there\n")
    (entry,) = read_manifest(tmp_path / "m.csv")
    assert entry.wav == tmp_path / "a.wav" and entry.speaker == "" and entry.lang == "en"
    assert entry.id.endswith("-a")


@pytest.mark.parametrize("body,message", [
    ('{"text": "x"}\n', "no 'wav'"), ('{"wav": "a.wav", "text": " "}\n', "empty 'text'"),
    ("{not json\n", "not JSON")])
def test_bad_manifest_rows_name_the_row(tmp_path, body, message):
    (tmp_path / "m.jsonl").write_text(body)
    with pytest.raises(InputError, match=message):
        read_manifest(tmp_path / "m.jsonl")
