"""ZipVoice / ZipVoice-Distill (k2-fsa/ZipVoice on GitHub), following zipvoice/bin/infer_zipvoice.py:
EmiliaTokenizer(token_file), ZipVoice or ZipVoiceDistill(**model.json["model"], vocab_size, pad_id),
`load_checkpoint(filename=model.pt, model=, strict=True)`, Vocos from a local folder, VocosFbank,
then `generate_sentence_raw_evaluation(...)` (the evaluation path: no silence trimming) with
num_step/guidance_scale 16/1.0 (zipvoice) or 8/3.0 (distill), t_shift 0.5, target_rms 0.1,
feat_scale 0.1, speed 1.0. 24 kHz (model.json's feature.sampling_rate)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DEFAULTS = {"zipvoice": (16, 1.0), "zipvoice_distill": (8, 3.0)}


class Engine:
    def __init__(self, weights: str, options: dict[str, Any], device: str) -> None:
        # lazy: the upstream exists only in the worker's environment
        import torch
        from zipvoice.bin import infer_zipvoice as upstream
        from zipvoice.models.zipvoice import ZipVoice
        from zipvoice.models.zipvoice_distill import ZipVoiceDistill
        from zipvoice.tokenizer.tokenizer import EmiliaTokenizer
        from zipvoice.utils.checkpoint import load_checkpoint
        from zipvoice.utils.feature import VocosFbank

        self.variant = str(options.get("variant", "zipvoice"))
        root = Path(weights) / self.variant
        config = json.loads((root / "model.json").read_text(encoding="utf-8"))
        self.tokenizer = EmiliaTokenizer(token_file=str(root / "tokens.txt"))
        cls = ZipVoice if self.variant == "zipvoice" else ZipVoiceDistill
        self.model = cls(**config["model"], vocab_size=self.tokenizer.vocab_size, pad_id=self.tokenizer.pad_id)
        load_checkpoint(filename=str(root / "model.pt"), model=self.model, strict=True)
        self.device = torch.device(device)
        self.model = self.model.to(self.device).eval()
        self.vocoder = upstream.get_vocoder(str(Path(weights) / "vocos-mel-24khz")).to(self.device).eval()
        self.features = VocosFbank()
        self.generate = upstream.generate_sentence_raw_evaluation
        self.sample_rate = int(config["feature"]["sampling_rate"])
        steps, guidance = DEFAULTS[self.variant]
        self.kwargs = {"num_step": int(options.get("nfe", steps)),
                       "guidance_scale": float(options.get("cfg", guidance)),
                       "speed": 1.0, "t_shift": float(options.get("t_shift", 0.5)), "target_rms": 0.1,
                       "feat_scale": 0.1, "sampling_rate": self.sample_rate}

    def info(self) -> dict[str, Any]:
        return {"variant": self.variant, **self.kwargs}

    def synthesize(self, item: dict[str, Any]) -> np.ndarray:
        # lazy: soundfile is in the upstream's environment (lhotse needs it)
        import soundfile as sf

        with tempfile.TemporaryDirectory() as tmp:
            out = str(Path(tmp) / "out.wav")
            self.generate(save_path=out, prompt_text=item["prompt_text"], prompt_wav=item["prompt_wav"],
                          text=item["target_text"], model=self.model, vocoder=self.vocoder,
                          tokenizer=self.tokenizer, feature_extractor=self.features, device=self.device,
                          **self.kwargs)
            wav, _ = sf.read(out, dtype="float32", always_2d=True)
        return wav.mean(axis=1)
