"""train(): a few steps on CPU, checkpoint contents, and resume giving the identical next-step loss."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
from torch import nn

from ttsbench.systems.ditar.checkpoint import latest_checkpoint, load_checkpoint
from ttsbench.systems.ditar.train import DataConfig, TrainConfig, train


class Losses(NamedTuple):
    total: torch.Tensor
    diff: torch.Tensor


class StandIn(nn.Module):
    """Noise-dependent loss over (phones, latents), so RNG restoration is exercised."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(128, 16)
        self.proj = nn.Linear(16 + latent_dim, latent_dim)

    def forward(self, batch):
        frames = batch.latents.shape[1]
        text = self.emb(batch.phones).mean(1, keepdim=True).expand(-1, frames, -1)
        pred = self.proj(torch.cat([text, batch.latents + torch.randn_like(batch.latents)], -1))
        mask = torch.arange(frames)[None] < batch.latent_lens[:, None]
        loss = ((pred - batch.latents) ** 2).mean(-1)[mask].mean()
        return Losses(loss, loss)


class Chars:
    def encode(self, text: str, lang: str) -> list[int]:
        return [1 + ord(c) % 97 for c in text if not c.isspace()]

    def describe(self) -> dict[str, str]:
        return {"name": "chars"}


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    import soundfile as sf

    rows = []
    for i in range(8):
        t = np.arange(int(24_000 * (0.3 + 0.1 * i))) / 24_000
        wav = 0.2 * np.sin(2 * np.pi * (150 + 20 * i) * t) * np.sin(2 * np.pi * 3 * t) ** 2
        sf.write(str(tmp_path / f"u{i}.wav"), wav.astype(np.float32), 24_000)
        rows.append({"wav": f"u{i}.wav", "text": f"sentence {i}", "speaker": "s"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "m.jsonl"


def run(cfg: TrainConfig) -> list[dict]:
    train(cfg, model_factory=lambda c, dim: StandIn(dim), frontend=Chars())
    return [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]


def config(manifest: Path, out: Path, steps: int) -> TrainConfig:
    data = DataConfig(manifest=manifest, cache_dir=manifest.parent / "cache", tokenizer="mel",
                      max_frames=60, num_workers=0)
    return TrainConfig(out=out, data=data, steps=steps, device="cpu", log_every=1, ckpt_every=100)


def test_resume_gives_the_identical_next_step_loss(manifest, tmp_path):
    straight = run(config(manifest, tmp_path / "a", steps=6))
    run(config(manifest, tmp_path / "b", steps=4))  # stops mid-epoch-2 (8 rows, ~3 batches/epoch)
    resumed = run(replace(config(manifest, tmp_path / "b", steps=6)))
    assert [r["step"] for r in resumed] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(straight, resumed):
        assert (a["step"], a["epoch"], a["total"], a["frames_per_step"]) == \
               (b["step"], b["epoch"], b["total"], b["frames_per_step"])


def test_checkpoint_holds_what_resume_needs(manifest, tmp_path):
    cfg = config(manifest, tmp_path / "c", steps=2)
    run(cfg)
    state = load_checkpoint(latest_checkpoint(cfg.out))
    assert state["format"] == "ttsbench.ditar.train/1" and state["step"] == 2
    assert {"model", "optimizer", "config", "rng", "data_position", "tokenizer", "frontend"} <= set(state)
    assert state["tokenizer"]["latent_dim"] == 64 and state["tokenizer"]["frame_rate"] == 40.0
    assert state["config"]["optim"]["betas"] == [0.9, 0.99] and len(state["rng"]) == 1
    assert not any(k.startswith("module.") for k in state["model"])
