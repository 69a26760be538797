"""Typed TOML configs with overrides; checkpoint files and RNG state."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ttsbench.errors import InputError
from ttsbench.systems.ditar import checkpoint as ckpt
from ttsbench.systems.ditar.configio import load_config, to_dict
from ttsbench.systems.ditar.train import TrainConfig, lr_at


def test_ditar_configs_parse_with_overrides(repo_root):
    cfg = load_config(TrainConfig, repo_root / "configs" / "train_ditar_0.6b.toml",
                      ["optim.lr=3e-4", "data.max_frames=7500", "out=elsewhere", "optim.betas=[0.8, 0.95]"])
    assert cfg.optim.lr == 3e-4 and cfg.optim.betas == (0.8, 0.95) and cfg.data.max_frames == 7_500
    assert str(cfg.out) == "elsewhere" and cfg.model == {"size": "0.6b"}
    for name in ("train_ditar_1b.toml", "train_ditar_tiny.toml"):
        assert load_config(TrainConfig, repo_root / "configs" / name).steps > 0


def test_paper_optimizer_defaults(repo_root):
    cfg = load_config(TrainConfig, repo_root / "configs" / "train_ditar_0.6b.toml")
    assert (cfg.optim.lr, cfg.optim.betas, cfg.data.max_frames, cfg.steps) == (1e-4, (0.9, 0.99), 15_000, 500_000)
    assert lr_at(0, cfg.optim) == lr_at(400_000, cfg.optim) == 1e-4  # constant LR


def test_warmup_is_linear_then_constant(repo_root):
    cfg = load_config(TrainConfig, repo_root / "configs" / "train_ditar_tiny.toml", ["optim.warmup_steps=10"])
    assert lr_at(0, cfg.optim) == pytest.approx(cfg.optim.lr / 10)
    assert lr_at(9, cfg.optim) == lr_at(10, cfg.optim) == cfg.optim.lr


@pytest.mark.parametrize("override,message", [
    ("optim.lrr=1", "unknown key"), ("steps=many", "expected int"), ("nonsense", "expected key.path=value")])
def test_bad_overrides_are_one_line_errors(repo_root, override, message):
    with pytest.raises(InputError, match=message):
        load_config(TrainConfig, repo_root / "configs" / "train_ditar_tiny.toml", [override])


def test_config_round_trips_through_a_dict(repo_root):
    from ttsbench.systems.ditar.configio import from_dict

    cfg = load_config(TrainConfig, repo_root / "configs" / "train_ditar_0.6b.toml")
    assert from_dict(TrainConfig, to_dict(cfg)) == cfg


def test_rng_state_round_trip():
    ckpt.seed_everything(5)
    state = ckpt.rng_state()
    first = (random.random(), np.random.rand(), torch.rand(3))
    ckpt.set_rng_state(state)
    again = (random.random(), np.random.rand(), torch.rand(3))
    assert first[0] == again[0] and first[1] == again[1] and torch.equal(first[2], again[2])


def test_checkpoints_are_atomic_listed_and_pruned(tmp_path):
    for step in (5, 10, 15):
        ckpt.save_checkpoint(ckpt.checkpoint_path(tmp_path, step), {"step": step, "rng": ckpt.rng_state()},
                             keep_last=2)
    (tmp_path / "checkpoints" / "step_0000020.pt.part").write_bytes(b"torn")  # a crash mid-write
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step_0000010.pt", "step_0000015.pt"]
    state = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path))
    assert state["step"] == 15
    with pytest.raises(InputError, match="cannot read checkpoint"):
        ckpt.load_checkpoint(tmp_path / "checkpoints" / "step_0000020.pt.part")


def test_a_second_job_on_one_folder_is_refused(tmp_path):
    import os

    with ckpt.exclusive(tmp_path):
        with pytest.raises(InputError, match=f"in use by another training process \\(pid {os.getpid()}\\)"):
            with ckpt.exclusive(tmp_path):
                pass
    with ckpt.exclusive(tmp_path):  # released on exit
        pass
