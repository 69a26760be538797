"""`ttsbench train distar` under torchrun with two CPU processes (gloo): a tiny DiSTAR on the codes of
a tiny RVQ trains, checkpoints (kind "distar"), resumes, and loads as the `distar-tiny` system."""

from __future__ import annotations

import json
import textwrap

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
    tokenizer = "rvq/tokenizer"
    max_frames = 60
    num_workers = 0
    [model]
    size = "tiny"
''')


@pytest.mark.slow
def test_two_processes_train_resume_and_load(tmp_path, torchrun):
    import soundfile as sf

    from ttsbench.systems.distar.rvq_train import RVQTrainConfig, train_rvq
    from ttsbench.types import LoadContext, Prompt, SystemSpec

    rows = []
    for i in range(8):
        t = np.arange(int(24_000 * (0.3 + 0.1 * i))) / 24_000
        sf.write(str(tmp_path / f"u{i}.wav"), (0.2 * np.sin(2 * np.pi * (140 + 9 * i) * t)).astype(np.float32), 24_000)
        rows.append({"wav": f"u{i}.wav", "text": f"card number {i} of clubs"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    train_rvq(RVQTrainConfig(manifest=tmp_path / "m.jsonl", out=tmp_path / "rvq", cache_dir=tmp_path / "cache",
                             num_layers=4, codebook_size=16, steps=5, frames_per_step=64, device="cpu"))
    (tmp_path / "cfg.toml").write_text(CONFIG)

    torchrun(tmp_path, "train", "distar", "cfg.toml")
    torchrun(tmp_path, "train", "distar", "cfg.toml", "--set", "steps=4")  # resumes at step 3
    log = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and all(np.isfinite(r["ce"]) for r in log)
    state = load_checkpoint(latest_checkpoint(tmp_path / "out"))
    assert state["kind"] == "distar" and state["world_size"] == 2 and state["step"] == 4
    assert state["model_config"]["num_layers"] == 4 and state["model_config"]["codebook_size"] == 16
    assert not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])  # ranks draw different masks

    from ttsbench.plugins import SYSTEMS

    ctx = LoadContext(device="cpu", cache_dir=None, work_dir=tmp_path / "work")
    system = SYSTEMS.get("distar-tiny").load(SystemSpec.parse(f"distar-tiny:checkpoint={tmp_path / 'out'},"
                                                              f"max_patches=2,stop_threshold=2.0,steps=2,layers=2"), ctx)
    assert not system.random_weights and system.describe()["layers"] == 2
    wav = system.synthesize([Prompt("a", tmp_path / "u3.wav", "card number three", "of clubs", "en")], seed=0)[0]
    assert wav.dtype == np.float32 and wav.size == 2 * 4 * 600 and np.isfinite(wav).all()
