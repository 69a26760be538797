"""Spark-TTS (SparkAudio/Spark-TTS on GitHub): `SparkTTS(model_dir, device)` from cli/SparkTTS.py,
then `inference(text, prompt_speech_path=, prompt_text=, temperature=, top_k=, top_p=)` with the
upstream's defaults (0.8, 50, 0.95). 16 kHz (config.yaml's sample_rate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class Engine:
    def __init__(self, weights: str, options: dict[str, Any], device: str) -> None:
        # lazy: the upstream exists only in the worker's environment
        import torch
        from cli.SparkTTS import SparkTTS

        self.model = SparkTTS(Path(weights), torch.device(device))
        self.sample_rate = int(self.model.sample_rate)
        self.kwargs = {"temperature": float(options.get("temperature", 0.8)),
                       "top_k": int(options.get("top_k", 50)), "top_p": float(options.get("top_p", 0.95))}

    def info(self) -> dict[str, Any]:
        return {"class": "cli.SparkTTS.SparkTTS", **self.kwargs}

    def synthesize(self, item: dict[str, Any]) -> np.ndarray:
        # lazy: the upstream exists only in the worker's environment
        import torch

        with torch.no_grad():
            wav = self.model.inference(item["target_text"], prompt_speech_path=Path(item["prompt_wav"]),
                                       prompt_text=item["prompt_text"] or None, **self.kwargs)
        return np.asarray(wav, dtype=np.float32).reshape(-1)
