"""Two CPU processes under torchrun (gloo): DDP and FSDP training run, checkpoint and resume."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from ttsbench.systems.ditar.checkpoint import latest_checkpoint, load_checkpoint

SCRIPT = textwrap.dedent('''
    import sys
    from typing import NamedTuple
    import torch
    from torch import nn
    from ttsbench.systems.ditar.configio import load_config
    from ttsbench.systems.ditar.train import TrainConfig, train

    class Losses(NamedTuple):
        total: torch.Tensor

    class StandIn(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.emb, self.proj = nn.Embedding(128, 8), nn.Linear(8 + dim, dim)
            self.blocks = nn.ModuleList(nn.Linear(dim, dim) for _ in range(2))  # FSDP units
        def forward(self, batch):
            T = batch.latents.shape[1]
            text = self.emb(batch.phones).mean(1, keepdim=True).expand(-1, T, -1)
            pred = self.proj(torch.cat([text, batch.latents + torch.randn_like(batch.latents)], -1))
            for block in self.blocks:
                pred = pred + block(pred)
            mask = torch.arange(T)[None] < batch.latent_lens[:, None]
            return Losses(((pred - batch.latents) ** 2).mean(-1)[mask].mean())

    class Chars:
        def encode(self, text, lang): return [1 + ord(c) % 97 for c in text if not c.isspace()]
        def describe(self): return {"name": "chars"}

    train(load_config(TrainConfig, sys.argv[1], sys.argv[2:]), model_factory=lambda c, d: StandIn(d),
          frontend=Chars())
''')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(tmp_path: Path, *overrides: str) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()), str(tmp_path / "run.py"), str(tmp_path / "cfg.toml"), *overrides]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_two_processes_train_and_resume(tmp_path, parallel):
    import soundfile as sf

    rows = []
    for i in range(8):
        t = np.arange(int(24_000 * (0.3 + 0.1 * i))) / 24_000
        sf.write(str(tmp_path / f"u{i}.wav"), (0.2 * np.sin(2 * np.pi * 140 * t)).astype(np.float32), 24_000)
        rows.append({"wav": f"u{i}.wav", "text": f"row {i}"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "run.py").write_text(SCRIPT)
    (tmp_path / "cfg.toml").write_text(textwrap.dedent('''
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
    '''))
    torchrun(tmp_path, f"parallel={parallel}")
    torchrun(tmp_path, f"parallel={parallel}", "steps=4")  # resumes at step 3 with the same world size
    log = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert all(np.isfinite(r["total"]) for r in log)
    state = load_checkpoint(latest_checkpoint(tmp_path / "out"))
    assert state["world_size"] == 2 and len(state["rng"]) == 2 and state["step"] == 4
    assert not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])  # ranks draw different noise
    assert state["model"]["blocks.0.weight"].shape == (64, 64)  # saved unsharded, even under FSDP
