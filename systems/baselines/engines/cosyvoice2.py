"""CosyVoice 2 (FunAudioLLM/CosyVoice on GitHub): `CosyVoice2(model_dir)` then
`inference_zero_shot(tts_text, prompt_text, prompt_wav, stream=False)`, whose chunks ("tts_speech",
shape (1, T)) are concatenated. The repository's root and third_party/Matcha-TTS must be importable
(the adapter puts them on PYTHONPATH from `repo=`). 24 kHz (the yaml's sample_rate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class Engine:
    def __init__(self, weights: str, options: dict[str, Any], device: str) -> None:
        # lazy: the upstream exists only in the worker's environment
        from cosyvoice.cli.cosyvoice import CosyVoice2

        self.model = CosyVoice2(str(Path(weights)), load_jit=False, load_trt=False, fp16=False)
        self.sample_rate = int(self.model.sample_rate)
        self.options = options

    def info(self) -> dict[str, Any]:
        return {"class": "cosyvoice.cli.cosyvoice.CosyVoice2", "stream": False}

    def synthesize(self, item: dict[str, Any]) -> np.ndarray:
        chunks = [out["tts_speech"].cpu().numpy().reshape(-1)
                  for out in self.model.inference_zero_shot(item["target_text"], item["prompt_text"],
                                                            item["prompt_wav"], stream=False)]
        return np.concatenate(chunks).astype(np.float32)
