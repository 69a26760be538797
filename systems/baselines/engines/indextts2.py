"""IndexTTS-2 (index-tts/index-tts on GitHub): `IndexTTS2(cfg_path=DIR/config.yaml, model_dir=DIR,
device=, aux_paths=)` then `infer(spk_audio_prompt=, text=, output_path=None)` -> (sampling_rate,
int16 samples). aux_paths points the helper models the upstream would fetch itself (w2v-bert-2.0,
the MaskGCT semantic codec, CAMPPlus, BigVGAN) at local copies. No prompt text. 22.05 kHz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# aux_paths key -> path under the weights dir (each helper kept in its hub repository's layout)
AUX = {"w2v_bert": "w2v-bert-2.0", "semantic_codec": "MaskGCT/semantic_codec/model.safetensors",
       "campplus": "campplus/campplus_cn_common.bin", "bigvgan": "bigvgan"}


class Engine:
    def __init__(self, weights: str, options: dict[str, Any], device: str) -> None:
        # lazy: the upstream exists only in the worker's environment
        from indextts.infer_v2 import IndexTTS2

        root = Path(weights)
        self.aux = {key: str(root / rel) for key, rel in AUX.items()}
        self.model = IndexTTS2(cfg_path=str(root / "config.yaml"), model_dir=str(root), use_fp16=False,
                               device=device, use_qwen_emo=False, aux_paths=self.aux)
        self.sample_rate = 22_050

    def info(self) -> dict[str, Any]:
        return {"class": "indextts.infer_v2.IndexTTS2", "aux_paths": self.aux}

    def synthesize(self, item: dict[str, Any]) -> np.ndarray:
        sr, wav = self.model.infer(spk_audio_prompt=item["prompt_wav"], text=item["target_text"],
                                   output_path=None)
        if int(sr) != self.sample_rate:
            raise RuntimeError(f"IndexTTS2 returned {sr} Hz, expected {self.sample_rate}")
        return np.asarray(wav, dtype=np.float32).reshape(-1) / 32768.0
