"""`hf-ctc`: a transformers CTC model (HuBERT / wav2vec 2.0), as ZipVoice's HuBERT scorer runs it.

Audio: soundfile float32, channels averaged, resampled to 16 kHz with soxr "HQ" (what
`librosa.resample`'s default `soxr_hq` calls). Features: the model's own feature extractor
(zero-mean unit-variance per utterance for hubert-large-ls960-ft). Decoding: greedy CTC, argmax
per frame, then the tokenizer's CTC decode (repeats merged, blanks dropped) with special tokens
kept, exactly as the transformers ASR pipeline does for CTC models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from ttsbench.metrics.asr.base import ASRBackend
from ttsbench.metrics.models import device_kind, require
from ttsbench.metrics.reference import hf_ctc_signature
from ttsbench.plugins import ASR

SAMPLE_RATE = 16_000


def load_mono_16k_soxr_hq(path: Path) -> np.ndarray:
    """ZipVoice's `load_waveform`: float32, mean of channels, soxr HQ to 16 kHz."""
    wav, sr = sf.read(str(path), dtype="float32")
    if wav.ndim == 2:
        wav = wav.mean(1)
    if sr != SAMPLE_RATE:

        wav = soxr.resample(wav, sr, SAMPLE_RATE, quality="HQ")
    return np.asarray(wav, dtype=np.float32)


@ASR.register("hf-ctc")
class HFCTC(ASRBackend):
    """transformers CTC ASR (AutoModelForCTC + AutoProcessor) from a local directory, greedy."""

    libraries = ("transformers", "torch", "soxr", "soundfile")
    extra = "hf"  # one utterance at a time: padding a batch would move the float sums slightly

    def __init__(self, model_path: Path, **kwargs) -> None:
        super().__init__(model_path, **kwargs)
        require("transformers", self.recipe, self.extra)
        # lazy: an optional backend, imported only when this recipe or system runs
        from transformers import AutoModelForCTC, AutoProcessor

        self.load_transformers(AutoProcessor, AutoModelForCTC, "a transformers CTC model")

    @classmethod
    def signature(cls, model_path: Path, recipe: str) -> dict[str, Any]:
        return hf_ctc_signature(model_path, recipe)

    def resolved(self) -> dict[str, Any]:
        return {"device": device_kind(self.device), "dtype": "float32",
                "audio": "soundfile float32, channel mean, soxr HQ to 16 kHz", "decoding": "greedy CTC, one file a call"}

    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        out = []
        for path in paths:
            inputs = self.processor(load_mono_16k_soxr_hq(path), sampling_rate=SAMPLE_RATE, return_tensors="pt")
            kwargs = {"input_values": inputs["input_values"].to(self.dev)}
            if "attention_mask" in inputs:
                kwargs["attention_mask"] = inputs["attention_mask"].to(self.dev)
            with self.torch.no_grad():
                ids = self.model(**kwargs).logits.argmax(dim=-1)[0]
            out.append(self.processor.decode(ids.cpu(), skip_special_tokens=False).strip())
        return out
