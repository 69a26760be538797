"""The VAE tokenizer: paper shapes, discriminators, one training step, exact resume."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ttsbench.configio import load_config
from ttsbench.systems.speech.tokenizer import load_tokenizer
from ttsbench.systems.speech.training import distributed as D
from ttsbench.systems.speech.vae.config import DiscriminatorConfig, VAEConfig, VAELossConfig
from ttsbench.systems.speech.vae.discriminators import Discriminators
from ttsbench.systems.speech.vae.model import VAETokenizer
from ttsbench.systems.speech.vae.train import VAETrainConfig, VAETrainer, train_vae


def tiny_cfg(manifest: Path, out: Path, **kw) -> VAETrainConfig:
    return VAETrainConfig(manifest=manifest, out=out, vae=VAEConfig.tiny(), disc=DiscriminatorConfig.tiny(),
                          loss=VAELossConfig.tiny(), batch_size=2, segment_samples=6_000, num_workers=0,
                          log_every=1, device="cpu", **kw)


def test_paper_config_is_24k_to_40hz_by_64():
    cfg = VAEConfig()
    assert (cfg.sample_rate, cfg.hop_length, cfg.latent_dim) == (24_000, 600, 64)


def test_tiny_vae_posterior_shapes():
    vae = VAETokenizer(VAEConfig.tiny())
    out = vae(torch.randn(3, 24_000) * 0.1)
    assert out.dist.mean.shape == out.dist.logvar.shape == (3, 40, 64)
    assert out.wav.shape == (3, 24_000) and out.wav.abs().max() <= 1.0


def test_discriminators_cover_every_period_and_scale():
    disc = Discriminators(DiscriminatorConfig.tiny())
    out = disc(torch.randn(2, 6_000))
    assert len(out.scores) == len(out.features) == 2 + 2  # 2 periods + 2 scales
    assert all(s.shape[0] == 2 for s in out.scores)


def test_training_steps_move_the_loss(tmp_path, speech):
    cfg = replace(tiny_cfg(tmp_path / "m.jsonl", tmp_path / "out"), lr=2e-3)
    torch.manual_seed(0)
    trainer = VAETrainer(cfg, D.setup("cpu"))
    before = {k: v.clone() for k, v in trainer.disc.state_dict().items()}
    real = torch.from_numpy(speech(0.25, seed=1)).repeat(2, 1)
    mels = [trainer.step(real, step)["mel"] for step in range(4)]
    assert mels[-1] < mels[0]
    assert any(not torch.equal(before[k], v) for k, v in trainer.disc.state_dict().items())


def test_resume_continues_exactly(tmp_path, speech_manifest):
    manifest = speech_manifest(n=3)
    straight = tiny_cfg(manifest, tmp_path / "a", steps=3, ckpt_every=100)
    train_vae(straight)
    split = tiny_cfg(manifest, tmp_path / "b", steps=2, ckpt_every=100)
    train_vae(split)
    train_vae(replace(split, steps=3))  # picks up step_0000002.pt
    a = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    b = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in b] == [1, 2, 3]
    for key in ("loss_g", "loss_d", "mel", "kl"):
        assert a[2][key] == b[2][key], key
    tok = load_tokenizer(tmp_path / "b" / "tokenizer")
    assert tok.encode(torch.zeros(1, 1_200)).shape == (1, 2, 64)


def test_example_configs_parse(repo_root):
    for name in ("train_vae.toml", "train_vae_tiny.toml"):
        cfg = load_config(VAETrainConfig, repo_root / "configs" / name)
        assert cfg.vae.hop_length == 600 and cfg.vae.latent_dim == 64


@pytest.mark.slow  # two `ttsbench run` children
def test_training_ends_with_a_reconstruction_report(tmp_path, speech_manifest, speech):
    """The trainer measures the tokenizer on held-out speech: mel distance (0 for identical audio)
    and the harness's scores of the resynthesised dev audio (here `duration`, which needs no model)."""
    import numpy as np

    from ttsbench.systems.speech.vae.report import ReportConfig, mel_l1

    wav = speech(0.5, seed=3)
    same, n = mel_l1(wav, wav.copy(), 24_000)
    assert same == 0.0 and n > 0
    louder, _ = mel_l1(wav, 2 * wav, 24_000)
    assert abs(louder / n - np.log(2)) < 0.05  # x2 amplitude = ln 2 per mel value
    manifest = speech_manifest(n=3)
    cfg = tiny_cfg(manifest, tmp_path / "v", steps=1, ckpt_every=100,
                   report=ReportConfig(manifest=str(manifest), rows=2, metrics="duration"))
    train_vae(cfg)
    report = json.loads((tmp_path / "v" / "reconstruction.json").read_text())
    assert report["rows"] == 2 and report["mel_l1_logmel"] > 0 and report["step"] == 1
    assert report["resynth"]["duration"] > 0 and report["original"]["duration"] > 0
    last = json.loads((tmp_path / "v" / "log.jsonl").read_text().splitlines()[-1])
    assert last["reconstruction"]["mel_l1_logmel"] == report["mel_l1_logmel"]
