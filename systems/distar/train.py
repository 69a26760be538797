"""Train DiSTAR: `ttsbench train distar CONFIG`, one process or under torchrun (DDP / FSDP).

    torchrun --nproc_per_node 8 -m ttsbench train distar configs/train_distar_base.toml

The shared trainer (`ttsbench.systems.speech.training.trainer.train`) runs unchanged: the same TOML layout
(`[data]`, `[optim]`, `[model]`, steps, checkpoints, exact resume, token-budget batches, bf16
autocast on CUDA), with DiSTAR built by `build_model`. Differences:

- `data.tokenizer` must be a trained RVQ tokenizer folder (`ttsbench train rvq` writes
  `<out>/tokenizer`): the cache then holds integer codes (T, J), and the model's `num_layers` and
  `codebook_size` come from that tokenizer (a `[model]` value that disagrees is an error).
- `[model]` holds `DiSTARConfig` fields, or `size = "base" | "medium" | "tiny"` plus overrides.
- Checkpoints are DiTAR's format with `kind = "distar"`; the `distar-*` systems load them.

The paper trains the AR part at lr 0.75e-4 and the rest at 1.5e-4: `optim.lr` is the MDM's and
`optim.module_lr` gives the AR modules (phone_embed, agg_embed, encoder, lm, stop_head) theirs
(configs/train_distar_base.toml).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError, MissingModelError
from ttsbench.plugins import TRAINERS, Trainer
from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.distar.model import DiSTAR
from ttsbench.systems.speech.tokenizer import CONFIG_FILE
from ttsbench.systems.speech.training.trainer import TrainConfig, model_config, train


def rvq_info(source: str) -> dict[str, Any]:
    """num_layers and codebook_size of the RVQ tokenizer folder the data is encoded with."""
    folder = Path(source).expanduser()
    meta_path = folder / CONFIG_FILE
    if not meta_path.is_file():
        raise MissingModelError(f"DiSTAR trains on RVQ codes: data.tokenizer = {source!r} must be the folder of a "
                                f"trained RVQ tokenizer (`ttsbench train rvq` writes <out>/tokenizer)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("name") != "rvq":
        raise InputError(f"{meta_path}: tokenizer {meta.get('name')!r} makes continuous latents; DiSTAR needs an "
                         f"RVQ tokenizer (`ttsbench train rvq`)")
    config = meta.get("config") or {}
    return {"num_layers": int(config["num_layers"]), "codebook_size": int(config["codebook_size"])}


def build_model(cfg: TrainConfig, codes: dict[str, int], phone_vocab: int) -> Any:
    """DiSTAR from `cfg.model` (a size preset and/or DiSTARConfig fields), sized to the codes and phones."""
    for key, value in codes.items():
        if key in cfg.model and int(cfg.model[key]) != value:
            raise InputError(f"[model] {key} = {cfg.model[key]}, but the RVQ tokenizer has {key} = {value}")
    return DiSTAR(model_config(DiSTARConfig, {**cfg.model, **codes}, 0, phone_vocab))


def train_distar(cfg: TrainConfig) -> Path:
    """Train (resuming from the newest checkpoint under `cfg.out`) until `cfg.steps`; returns `cfg.out`."""
    codes = rvq_info(cfg.data.tokenizer)
    return train(cfg, model_factory=lambda c, _latent_dim, vocab: build_model(c, codes, vocab))


TRAINERS.add("distar", Trainer(TrainConfig, train_distar, "DiSTAR on a trained RVQ tokenizer's codes "
                                                          "(configs/train_distar_*.toml)"))
