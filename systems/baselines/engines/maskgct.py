"""MaskGCT (Amphion, models/tts/maskgct): the helpers of maskgct_utils.py build the w2v-bert-2.0
semantic model, semantic codec, acoustic codec, T2S and the two S2A models from
models/tts/maskgct/config/maskgct.json; `safetensors.torch.load_model` loads each checkpoint of
amphion/MaskGCT; `MaskGCT_Inference_Pipeline(...).maskgct_inference(prompt_wav, prompt_text,
target_text, lang, lang, target_len=None, n_timesteps=, cfg=, n_timesteps_s2a=)`. The upstream
loads "facebook/w2v-bert-2.0" by hub id: that id is redirected to `DIR/w2v-bert-2.0`. Run with the
Amphion checkout as working directory (its config and stats paths are relative). 24 kHz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

CKPTS = {"semantic_codec": "semantic_codec/model.safetensors",
         "codec_encoder": "acoustic_codec/model.safetensors",
         "codec_decoder": "acoustic_codec/model_1.safetensors",
         "t2s_model": "t2s_model/model.safetensors",
         "s2a_model_1layer": "s2a_model/s2a_model_1layer/model.safetensors",
         "s2a_model_full": "s2a_model/s2a_model_full/model.safetensors"}
W2V_BERT = "facebook/w2v-bert-2.0"


def redirect(cls: Any, hub_id: str, local: str) -> None:
    """Make `cls.from_pretrained(hub_id)` read `local` instead (the upstream hard-codes the id)."""
    original = cls.from_pretrained.__func__

    def from_pretrained(klass: Any, name: Any, *args: Any, **kwargs: Any) -> Any:
        return original(klass, local if name == hub_id else name, *args, **kwargs)

    cls.from_pretrained = classmethod(from_pretrained)


class Engine:
    def __init__(self, weights: str, options: dict[str, Any], device: str) -> None:
        # lazy: the upstream exists only in the worker's environment
        import safetensors.torch
        import torch
        import transformers
        from models.tts.maskgct import maskgct_utils as mu

        root = Path(weights)
        redirect(transformers.Wav2Vec2BertModel, W2V_BERT, str(root / "w2v-bert-2.0"))
        redirect(transformers.SeamlessM4TFeatureExtractor, W2V_BERT, str(root / "w2v-bert-2.0"))
        dev = torch.device(device)
        cfg = mu.load_config("./models/tts/maskgct/config/maskgct.json")
        semantic_model, mean, std = mu.build_semantic_model(dev)
        parts = {"semantic_codec": mu.build_semantic_codec(cfg.model.semantic_codec, dev)}
        parts["codec_encoder"], parts["codec_decoder"] = mu.build_acoustic_codec(cfg.model.acoustic_codec, dev)
        parts["t2s_model"] = mu.build_t2s_model(cfg.model.t2s_model, dev)
        parts["s2a_model_1layer"] = mu.build_s2a_model(cfg.model.s2a_model.s2a_1layer, dev)
        parts["s2a_model_full"] = mu.build_s2a_model(cfg.model.s2a_model.s2a_full, dev)
        for key, rel in CKPTS.items():
            safetensors.torch.load_model(parts[key], str(root / rel))
        self.pipeline = mu.MaskGCT_Inference_Pipeline(
            semantic_model, parts["semantic_codec"], parts["codec_encoder"], parts["codec_decoder"],
            parts["t2s_model"], parts["s2a_model_1layer"], parts["s2a_model_full"], mean, std, dev)
        self.sample_rate = 24_000
        self.kwargs = {"n_timesteps": int(options.get("nfe", 50)), "cfg": float(options.get("cfg", 2.5)),
                       "n_timesteps_s2a": [int(s) for s in str(options.get("s2a_steps", "25,10,1,1,1,1,1,1,1,1,1,1"))
                                           .split(",")]}

    def info(self) -> dict[str, Any]:
        return dict(self.kwargs)

    def synthesize(self, item: dict[str, Any]) -> np.ndarray:
        wav = self.pipeline.maskgct_inference(item["prompt_wav"], item["prompt_text"], item["target_text"],
                                              item["lang"], item["lang"], target_len=None, **self.kwargs)
        return np.asarray(wav, dtype=np.float32).reshape(-1)
