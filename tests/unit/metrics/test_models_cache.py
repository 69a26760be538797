"""Model location, SHA-256 memo and the content-keyed caches."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ttsbench.errors import MissingModelError
from ttsbench.metrics.cache import EmbeddingCache, TranscriptCache, audio_sha256
from ttsbench.metrics.models import ModelLocation, check_pin, sha256_file, weights_digest
from ttsbench.types import LoadContext

LOC = ModelLocation("rec", "model", "org/model", "https://example.org/model", required=("config.json",))


def test_location_resolution_order_and_messages(tmp_path):
    cache = tmp_path / "cache"
    (cache / "org/model").mkdir(parents=True)
    (cache / "org/model/config.json").write_text("{}")
    assert LOC.resolve(None, LoadContext(cache_dir=cache)) == cache / "org/model"
    explicit = tmp_path / "elsewhere"
    with pytest.raises(MissingModelError) as err:
        LOC.resolve(explicit, LoadContext(cache_dir=cache))  # the option wins, even if absent
    assert str(explicit) in str(err.value) and "https://example.org/model" in str(err.value)
    with pytest.raises(MissingModelError, match=r"\$TTSBENCH_CACHE/org/model"):
        LOC.resolve(None, LoadContext(cache_dir=None))
    (cache / "org/model/config.json").unlink()
    with pytest.raises(MissingModelError, match="incomplete model .no config.json"):
        LOC.resolve(None, LoadContext(cache_dir=cache))


def test_sha256_is_memoised_by_path_size_and_mtime(tmp_path):
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    memo = tmp_path / "memo"
    first = sha256_file(f, memo)
    assert first == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256("abc")
    assert sha256_file(f, memo) == first and len((memo / "sha256-memo.jsonl").read_text().splitlines()) == 1
    f.write_bytes(b"abd")
    os.utime(f, ns=(1, 1))
    assert sha256_file(f, memo) != first
    with pytest.raises(MissingModelError, match="expected 0000"):
        check_pin("rec", f, first, "0" * 64)


def test_directory_digest_covers_weight_files_only(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.safetensors").write_bytes(b"w")
    (tmp_path / "m" / "config.json").write_text("{}")
    d1 = weights_digest(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text('{"a": 1}')
    assert weights_digest(tmp_path / "m") == d1
    (tmp_path / "m" / "model.safetensors").write_bytes(b"x")
    assert weights_digest(tmp_path / "m") != d1


def test_transcript_cache_is_keyed_by_content_and_model(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    a.write_bytes(b"same audio")
    b.write_bytes(b"same audio")
    assert audio_sha256(a) == audio_sha256(b)  # a copy under another name hits the same entry
    c1 = TranscriptCache(tmp_path / "w", {"model": "m1"})
    c1.put({audio_sha256(a): "hello"})
    assert TranscriptCache(tmp_path / "w", {"model": "m1"}).get(audio_sha256(b)) == "hello"
    assert TranscriptCache(tmp_path / "w", {"model": "m2"}).get(audio_sha256(b)) is None
    assert TranscriptCache(None, {"model": "m1"}).get(audio_sha256(a)) is None  # no work dir: no disk cache


def test_embedding_cache_survives_a_torn_file(tmp_path):
    cache = EmbeddingCache(tmp_path, {"m": 1})
    cache.put("ab" * 32, np.arange(4, dtype=np.float32))
    fresh = EmbeddingCache(tmp_path, {"m": 1})
    np.testing.assert_array_equal(fresh.get("ab" * 32), np.arange(4, dtype=np.float32))
    path = next(tmp_path.rglob("*.npy"))
    path.write_bytes(b"\x93NUMPY torn")
    assert EmbeddingCache(tmp_path, {"m": 1}).get("ab" * 32) is None


def test_digest_hashes_what_the_loader_reads(tmp_path):
    m = tmp_path / "m"
    m.mkdir()
    (m / "model.safetensors").write_bytes(b"w")
    (m / "pytorch_model.bin").write_bytes(b"old")
    d1 = weights_digest(m)
    (m / "pytorch_model.bin").write_bytes(b"changed")  # transformers would load the safetensors
    assert weights_digest(m) == d1
