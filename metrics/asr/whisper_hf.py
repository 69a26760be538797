"""`hf-whisper`: Whisper through Hugging Face transformers, as seed-tts-eval's `run_wer.py` runs it.

Audio: soundfile (float64), mono required, `scipy.signal.resample` (FFT) to 16 kHz when the file is
at another rate. Features: `WhisperProcessor(wav, sampling_rate=16000)` (30 s log-mel window).
Decoding: fp32 weights, the model's own generation config (greedy), the decoder prompt
<|startoftranscript|><|LANG|><|transcribe|><|notimestamps|>. seed-tts-eval forces that prompt with
`forced_decoder_ids=processor.get_decoder_prompt_ids(language="english", task="transcribe")`;
transformers >= 4.38 builds the identical prompt from `language=` / `task=`, which is what we pass
(the old argument is deprecated). Text: `batch_decode(ids, skip_special_tokens=True)[0]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import soundfile as sf

from ttsbench.metrics.asr.base import ASRBackend
from ttsbench.metrics.models import require
from ttsbench.metrics.resample import fft_resample
from ttsbench.plugins import ASR

SAMPLE_RATE = 16_000


@ASR.register("hf-whisper")
class HFWhisper(ASRBackend):
    """transformers Whisper, fp32, greedy, forced language and task (seed-tts-eval English)."""

    libraries = ("transformers", "torch", "scipy", "soundfile")
    extra = "hf"

    def __init__(self, model_path: Path, **kwargs) -> None:
        super().__init__(model_path, **kwargs)
        require("transformers", self.recipe, self.extra)
        # lazy: an optional backend, imported only when this recipe or system runs
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self.load_transformers(WhisperProcessor, WhisperForConditionalGeneration, "a transformers Whisper model")
        self.language = str(self.params.get("language", "english"))
        self.task = str(self.params.get("task", "transcribe"))

    def load_audio(self, path: Path):
        wav, sr = sf.read(str(path))  # float64, as the reference reads it
        if wav.ndim != 1:
            raise ValueError(f"{path}: {wav.shape[1]} channels; this recipe (like seed-tts-eval) needs mono audio")
        return fft_resample(wav, sr, SAMPLE_RATE)

    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        out = []
        for path in paths:
            feats = self.processor(self.load_audio(path), sampling_rate=SAMPLE_RATE,
                                   return_tensors="pt").input_features.to(self.dev)
            with self.torch.no_grad():
                ids = self.model.generate(feats, language=self.language, task=self.task)
            out.append(self.processor.batch_decode(ids, skip_special_tokens=True)[0])
        return out
