"""Chatterbox (PyPI chatterbox-tts): `ChatterboxTTS.from_local(dir, device)` then
`generate(text, audio_prompt_path=, exaggeration=, cfg_weight=, temperature=)`, shape (1, T) at
`model.sr` (24 kHz). The upstream always applies its Perth watermark. No prompt text."""

from __future__ import annotations

from typing import Any

import numpy as np


class Engine:
    def __init__(self, weights: str, options: dict[str, Any], device: str) -> None:
        # lazy: the upstream exists only in the worker's environment
        from chatterbox.tts import ChatterboxTTS

        self.model = ChatterboxTTS.from_local(weights, device)
        self.sample_rate = int(self.model.sr)
        self.kwargs = {k: float(options[k]) for k in ("exaggeration", "cfg_weight", "temperature") if k in options}

    def info(self) -> dict[str, Any]:
        return {"class": "chatterbox.tts.ChatterboxTTS", "watermarked": True, **self.kwargs}

    def synthesize(self, item: dict[str, Any]) -> np.ndarray:
        wav = self.model.generate(item["target_text"], audio_prompt_path=item["prompt_wav"], **self.kwargs)
        return np.asarray(wav.cpu().numpy(), dtype=np.float32).reshape(-1)
