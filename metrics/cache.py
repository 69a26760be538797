"""Content-keyed caches of ASR transcripts and speaker embeddings.

Keys are the SHA-256 of the audio file's bytes plus the id of the model fingerprint (model weights
hash, decoding parameters, audio loading), never a path or a name: the same audio scored by the same
model is served from the cache, anything else is recomputed. The text normalizer is not part of the
transcript key, so changing a normalizer re-scores without re-running ASR.

Layout under the runner's work dir (no cache when it is None)::

    asr/<model_id>.jsonl          {"audio": sha256, "text": "..."} one per line, append-only
    embeddings/<model_id>/<sha[:2]>/<sha>.npy   written atomically (temp file + rename)

Append-only JSONL and atomic renames keep concurrent writers (ranks, resumed runs) safe. Without a
work dir nothing is cached, not even in memory (benchmarks and one-off scoring measure the model).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ttsbench.paths import file_sha256, temp_path
from ttsbench.store import append_jsonl, read_jsonl


def audio_sha256(path: str | Path) -> str:
    """SHA-256 of an audio file's bytes."""
    return file_sha256(path)


def key_id(fingerprint: dict[str, Any]) -> str:
    """A 16-hex id of a model fingerprint (what the cache files are named by)."""
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()[:16]


class TranscriptCache:
    """audio sha256 -> transcript, for one ASR fingerprint. A None work dir caches nothing."""

    def __init__(self, work_dir: Path | None, fingerprint: dict[str, Any]) -> None:
        self.id = key_id(fingerprint)
        self.path = Path(work_dir) / "asr" / f"{self.id}.jsonl" if work_dir is not None else None
        self._texts: dict[str, str] = {}
        if self.path is not None:

            self._texts = {r["audio"]: r["text"] for r in read_jsonl(self.path) if "audio" in r}

    def get(self, audio: str) -> str | None:
        return self._texts.get(audio)

    def put(self, items: dict[str, str]) -> None:
        if self.path is None:
            return
        new = {k: v for k, v in items.items() if self._texts.get(k) != v}
        self._texts.update(new)
        if new:

            append_jsonl(self.path, [{"audio": k, "text": v} for k, v in new.items()])


class EmbeddingCache:
    """audio sha256 -> vector (embedding or score), for one model fingerprint (atomic .npy files)."""

    def __init__(self, work_dir: Path | None, fingerprint: dict[str, Any]) -> None:
        self.id = key_id(fingerprint)
        self.root = Path(work_dir) / "embeddings" / self.id if work_dir is not None else None
        self._memory: dict[str, np.ndarray] = {}

    def _file(self, audio: str) -> Path | None:
        return self.root / audio[:2] / f"{audio}.npy" if self.root is not None else None

    def get(self, audio: str) -> np.ndarray | None:
        if audio in self._memory:
            return self._memory[audio]
        path = self._file(audio)
        if path is not None and path.is_file():
            try:
                vec = np.load(path)
            except (OSError, ValueError):  # a torn file from a crash: recompute
                return None
            self._memory[audio] = vec
            return vec
        return None

    def put(self, audio: str, vec: np.ndarray) -> None:
        path = self._file(audio)
        if path is None:
            return
        vec = np.asarray(vec)
        self._memory[audio] = vec
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(path)
        with tmp.open("wb") as f:
            np.save(f, vec)
        tmp.replace(path)
