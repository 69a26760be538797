"""`faster-whisper`: CTranslate2 Whisper through faster-whisper, as F5-TTS's `run_asr_wer` runs it.

faster-whisper decodes the file itself (PyAV, resampled to 16 kHz by its own resampler), so the path
is passed, as F5 does. Decoding: `transcribe(path, beam_size=5, language="en")` with faster-whisper's
defaults otherwise (temperature fallback, condition_on_previous_text, no VAD). The text is the
segments joined with spaces. F5 runs large-v3 in float16 on CUDA; on CPU float16 is not available,
so `compute_type` defaults to float16 on CUDA and float32 on CPU (recorded in the transcript cache key).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ttsbench.metrics.asr.base import ASRBackend
from ttsbench.metrics.models import require, torch_device
from ttsbench.plugins import ASR


def resolve_compute_type(requested: str, device: str) -> str:
    """'auto' -> float16 on CUDA, float32 on CPU; anything else as given."""
    if requested != "auto":
        return requested
    return "float16" if device.startswith("cuda") else "float32"


@ASR.register("faster-whisper")
class FasterWhisper(ASRBackend):
    """faster-whisper (CTranslate2) Whisper from a local model directory; beam search, fixed language."""

    libraries = ("faster-whisper", "ctranslate2", "av")
    extra = "offline"

    def __init__(self, model_path: Path, **kwargs) -> None:
        super().__init__(model_path, **kwargs)
        require("faster_whisper", self.recipe, self.extra)
        # lazy: an optional backend, imported only when this recipe or system runs
        from faster_whisper import WhisperModel

        device = torch_device(self.device)
        self.compute_type = resolve_compute_type(str(self.params.get("compute_type", "auto")), device)
        self.beam_size = int(self.params.get("beam_size", 5))
        self.language = str(self.params.get("language", "en"))
        threads = int(self.params.get("cpu_threads", 0))
        try:
            self.model = WhisperModel(str(self.model_path), device="cuda" if device.startswith("cuda") else "cpu",
                                      compute_type=self.compute_type, cpu_threads=threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as err:  # ctranslate2 rejects a wrong or partial model
            raise self.load_error("a CTranslate2 Whisper model", err) from None

    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        out = []
        for path in paths:
            segments, _ = self.model.transcribe(str(path), beam_size=self.beam_size, language=self.language)
            out.append("".join(" " + s.text for s in segments).strip())  # F5: hypo += " " + segment.text
        return out
