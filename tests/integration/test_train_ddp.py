"""`ttsbench train ditar|vae` under torchrun with two CPU processes (gloo): DDP and FSDP runs that
train a tiny DiTAR, checkpoint, and resume with the same losses as an uninterrupted run; the VAE's
GAN training under DDP."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from ttsbench.systems.speech.training.checkpoint import latest_checkpoint, load_checkpoint

CONFIG = textwrap.dedent('''
    out = "out"
    steps = 3
    device = "cpu"
    log_every = 1
    ckpt_every = 3
    [data]
    manifest = "m.jsonl"
    cache_dir = "cache"
    tokenizer = "mel"
    max_frames = 60
    num_workers = 0
    [model]
    size = "tiny"
''')


def train_ditar(torchrun, root: Path, *overrides: str) -> None:
    torchrun(root, "train", "ditar", "cfg.toml", *[arg for o in overrides for arg in ("--set", o)])


@pytest.mark.parametrize("parallel,exact", [
    pytest.param("ddp", False, marks=pytest.mark.slow), pytest.param("ddp", True, marks=pytest.mark.slow),
    pytest.param("fsdp", True, marks=pytest.mark.slow)])
def test_two_processes_train_and_resume(tmp_path, parallel, exact, torchrun):
    import soundfile as sf

    rows = []
    for i in range(8):
        t = np.arange(int(24_000 * (0.3 + 0.1 * i))) / 24_000
        sf.write(str(tmp_path / f"u{i}.wav"), (0.2 * np.sin(2 * np.pi * (140 + 9 * i) * t)).astype(np.float32), 24_000)
        rows.append({"wav": f"u{i}.wav", "text": f"card number {i} of clubs"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "cfg.toml").write_text(CONFIG)
    train_ditar(torchrun, tmp_path, f"parallel={parallel}")
    train_ditar(torchrun, tmp_path, f"parallel={parallel}", "steps=4")  # resumes at step 3, same world size
    log = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and all(np.isfinite(r["total"]) for r in log)
    assert all(r["model_tflops_per_sec"] > 0 for r in log)  # counted on every rank, summed
    state = load_checkpoint(latest_checkpoint(tmp_path / "out"))
    assert state["world_size"] == 2 and len(state["rng"]) == 2 and state["step"] == 4
    assert not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])  # ranks draw different noise
    assert state["model"]["lm.blocks.0.attn.qkv.weight"].shape == (96, 32)  # saved whole, even under FSDP

    if not exact:
        return
    straight = tmp_path / "straight"  # the same job without the interruption
    straight.mkdir()
    (straight / "cfg.toml").write_text(CONFIG.replace('"m.jsonl"', f'"{tmp_path / "m.jsonl"}"'))
    train_ditar(torchrun, straight, f"parallel={parallel}", "steps=4")
    again = [json.loads(line) for line in (straight / "out" / "log.jsonl").read_text().splitlines()]
    assert [r["total"] for r in again] == [r["total"] for r in log]


@pytest.mark.slow
def test_vae_trains_under_torchrun(tmp_path, repo_root, torchrun):
    import soundfile as sf

    t = np.arange(24_000) / 24_000
    sf.write(str(tmp_path / "a.wav"), (0.2 * np.sin(2 * np.pi * 170 * t)).astype(np.float32), 24_000)
    (tmp_path / "m.jsonl").write_text(json.dumps({"wav": "a.wav"}) + "\n")
    torchrun(tmp_path, "train", "vae", str(repo_root / "configs" / "train_vae_tiny.toml"), "--set", "manifest='m.jsonl'",
             "--set", "out='out'", "--set", "steps=2", "--set", "log_every=1", "--set", "device='cpu'",
             "--set", "segment_samples=6000")
    log = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and all(np.isfinite(r["loss_g"]) for r in log)
    state = load_checkpoint(latest_checkpoint(tmp_path / "out"))
    assert state["kind"] == "vae" and state["world_size"] == 2 and len(state["rng"]) == 2
