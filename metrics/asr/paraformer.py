"""`paraformer`: funasr's AutoModel on a local model directory, as seed-tts-eval (zh) and F5 run it.

seed-tts-eval calls `AutoModel(model="paraformer-zh")`; funasr's hub alias table resolves that name
on ModelScope to `iic/speech_seaco_paraformer_large_asr_nat-zh-cn-16k-common-vocab8404-pytorch`
(SeACo-Paraformer). We never resolve aliases: the directory of that resolved model is loaded with
no VAD and no punctuation model, `disable_update=True` (no version check over the network), and
each file is decoded on its own with `generate(input=path, batch_size_s=300)` (batching and the
number of GPUs move paraformer's output, per F5's note). funasr is the `funasr` extra.

Features: funasr computes Kaldi fbanks with torchaudio when it imports, else with kaldi-native-fbank
(torchaudio's PyPI build does not import beside a CPU torch 2.13); which one ran is in the fingerprint.
funasr's own checkpoint loader accepts a file with missing keys (it warns, then reports "All keys
matched"), which is one more reason the recipe checks the model's signature and hash first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ttsbench.metrics.asr.base import ASRBackend
from ttsbench.metrics.models import device_kind, require, torch_device
from ttsbench.metrics.reference import paraformer_signature
from ttsbench.plugins import ASR

RESOLVED_MODEL_ID = "iic/speech_seaco_paraformer_large_asr_nat-zh-cn-16k-common-vocab8404-pytorch"


@ASR.register("paraformer")
class Paraformer(ASRBackend):
    """funasr SeACo-Paraformer (zh) from a local model directory, one utterance per call."""

    libraries = ("funasr", "torch", "torchaudio", "kaldi-native-fbank", "soundfile")
    extra = "funasr"

    def __init__(self, model_path: Path, **kwargs) -> None:
        super().__init__(model_path, **kwargs)
        funasr = require("funasr", self.recipe, self.extra)

        self.batch_size_s = int(self.params.get("batch_size_s", 300))
        try:
            # ncpu: funasr would otherwise set torch's thread count to 4 for the whole process
            self.model = funasr.AutoModel(model=str(self.model_path), device=torch_device(self.device),
                                          disable_update=True, disable_pbar=True, log_level="WARNING",
                                          ncpu=torch.get_num_threads())
        except Exception as err:  # noqa: BLE001 - funasr raises RuntimeError / AssertionError / KeyError for a wrong dir
            raise self.load_error("a funasr Paraformer model", err) from None

    @classmethod
    def signature(cls, model_path: Path, recipe: str) -> dict[str, Any]:
        return paraformer_signature(model_path, recipe)

    def resolved(self) -> dict[str, Any]:
        # lazy: an optional backend, imported only when this recipe or system runs
        from funasr.utils import fbank

        backend = "torchaudio.compliance.kaldi" if getattr(fbank, "_HAS_TORCHAUDIO", True) else "kaldi-native-fbank"
        return {"device": device_kind(self.device), "dtype": "float32", "fbank": backend,
                "audio": "funasr load_audio: torchaudio.load, else soundfile float32 (channel mean)",
                "decoding": f"funasr generate, one file a call, batch_size_s={self.batch_size_s}, no VAD or punctuation"}

    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        out = []
        for path in paths:
            res = self.model.generate(input=str(path), batch_size_s=self.batch_size_s, disable_pbar=True)
            out.append(str(res[0]["text"]) if res else "")
        return out
