"""XTTS-v2 (PyPI coqui-tts): `Xtts.init_from_config(config)`, `load_checkpoint(config,
checkpoint_dir=)`, `get_conditioning_latents(audio_path=[prompt])`, `inference(text, language,
gpt_cond_latent, speaker_embedding, temperature=)["wav"]`. No prompt text. 24 kHz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class Engine:
    def __init__(self, weights: str, options: dict[str, Any], device: str) -> None:
        # lazy: the upstream exists only in the worker's environment
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models.xtts import Xtts

        config = XttsConfig()
        config.load_json(str(Path(weights) / "config.json"))
        self.model = Xtts.init_from_config(config)
        self.model.load_checkpoint(config, checkpoint_dir=str(weights), eval=True)
        self.model.to(device)
        self.sample_rate = int(config.audio.output_sample_rate)
        self.temperature = float(options.get("temperature", 0.75))

    def info(self) -> dict[str, Any]:
        return {"class": "TTS.tts.models.xtts.Xtts", "temperature": self.temperature}

    def synthesize(self, item: dict[str, Any]) -> np.ndarray:
        latent, speaker = self.model.get_conditioning_latents(audio_path=[item["prompt_wav"]])
        lang = "zh-cn" if item["lang"] == "zh" else item["lang"]
        out = self.model.inference(item["target_text"], lang, latent, speaker, temperature=self.temperature)
        return np.asarray(out["wav"], dtype=np.float32).reshape(-1)
