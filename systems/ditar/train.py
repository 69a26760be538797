"""Train DiTAR: `ttsbench train ditar CONFIG`, one process or under torchrun (DDP / FSDP).

    torchrun --nproc_per_node 8 -m ttsbench train ditar configs/train_ditar_0.6b.toml

The loop, data pipeline, checkpoints and exact resume are the shared trainer's
(`ttsbench.systems.speech.training.trainer`); this module builds DiTAR from the `[model]` table
(`size = "0.6b"` and/or DiTARConfig fields), sized to the tokenizer's latents and the phone table.
"""

from __future__ import annotations

from pathlib import Path

from ttsbench.plugins import TRAINERS, Trainer
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.ditar.model import DiTAR
from ttsbench.systems.speech.training.trainer import TrainConfig, model_config, train

__all__ = ["TrainConfig", "build_model", "train_ditar"]


def build_model(cfg: TrainConfig, latent_dim: int, phone_vocab: int) -> DiTAR:
    """DiTAR from `cfg.model` (a size preset and/or DiTARConfig fields), sized to the data."""
    return DiTAR(model_config(DiTARConfig, cfg.model, latent_dim, phone_vocab))


def train_ditar(cfg: TrainConfig) -> Path:
    """Train (resuming from the newest checkpoint under `cfg.out`) until `cfg.steps`; returns `cfg.out`."""
    return train(cfg, model_factory=build_model)


TRAINERS.add("ditar", Trainer(TrainConfig, train_ditar, "DiTAR (configs/train_ditar_*.toml); DDP / FSDP under torchrun"))
