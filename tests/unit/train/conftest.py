"""Fixtures for the training tests: speech-like synthetic audio and a manifest over it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def speechlike(seconds: float, sr: int = 24_000, seed: int = 0) -> np.ndarray:
    """A voiced, pitch-gliding harmonic signal with syllable-rate amplitude modulation (float32)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 110 + 40 * rng.random() + 20 * np.sin(2 * np.pi * (0.5 + rng.random()) * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    wav = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * (3 + 2 * rng.random()) * t) ** 2
    return (0.1 * envelope * wav + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture
def speech_manifest(tmp_path: Path):
    """Write `n` speech-like wavs (24 kHz) and a JSONL manifest; returns the manifest path."""
    import soundfile as sf

    def make(n: int = 6, seconds: tuple[float, float] = (0.6, 1.4), sr: int = 24_000) -> Path:
        rows = []
        for i in range(n):
            dur = seconds[0] + (seconds[1] - seconds[0]) * i / max(n - 1, 1)
            path = tmp_path / "wavs" / f"u{i}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), speechlike(dur, sr, seed=i), sr)
            rows.append({"wav": f"wavs/u{i}.wav", "text": f"utterance number {i} says hello",
                         "speaker": f"spk{i % 2}", "lang": "en"})
        manifest = tmp_path / "manifest.jsonl"
        manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return manifest

    return make


@pytest.fixture
def speech():
    """`speech(seconds, sr=24000, seed=0)` -> a speech-like float32 waveform."""
    return speechlike


@pytest.fixture(scope="session")
def phones():
    """The model's real G2P front end (espeak-ng through phonemizer, shipped by espeakng-loader)."""
    from ttsbench.systems.speech.frontend import PhoneFrontend

    return PhoneFrontend()


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here on one intra-op thread (`one_thread`, tests/conftest.py)."""
