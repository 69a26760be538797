"""Test-wide setup: never reach a model hub; small synthetic audio fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def make_wav(tmp_path: Path):
    """Write a short tone (or given samples) as a wav and return its path."""
    import soundfile as sf

    def make(name: str = "a.wav", seconds: float = 0.5, sr: int = 16_000, channels: int = 1,
             freq: float = 220.0, samples: np.ndarray | None = None) -> Path:
        if samples is None:
            t = np.arange(int(seconds * sr)) / sr
            samples = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
            if channels > 1:
                samples = np.stack([samples] * channels, axis=1)
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), samples, sr)
        return path

    return make


@pytest.fixture
def tiny_manifest(tmp_path: Path, make_wav):
    """A 3-prompt JSONL prompt set with real (synthetic) audio files."""
    import json

    rows = []
    for i in range(3):
        make_wav(f"set/p{i}.wav", seconds=0.4 + 0.1 * i, freq=200 + 50 * i)
        rows.append({"utt_id": f"utt{i}", "prompt_wav": f"p{i}.wav", "prompt_text": f"prompt {i}",
                     "target_text": f"the target sentence number {i}", "lang": "en"})
    path = tmp_path / "set" / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def one_thread():
    """One intra-op thread: on a shared 2-core machine two competing threads are far slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def torchrun():
    """Run `python -m ttsbench ARGS...` under torchrun with 2 CPU processes (gloo) in `cwd`; assert it exits 0."""
    import socket
    import subprocess
    import sys

    def run(cwd: Path, *args: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(port), "-m", "ttsbench", *args]
        done = subprocess.run(cmd, cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]

    return run
