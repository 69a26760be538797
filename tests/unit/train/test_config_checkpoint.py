"""Typed TOML configs with overrides; checkpoint files and RNG state."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ttsbench.errors import InputError
from ttsbench.systems.speech.training import checkpoint as ckpt
from ttsbench.configio import load_config, to_dict
from ttsbench.systems.speech.training.trainer import TrainConfig, lr_at


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
    from ttsbench.configio import from_dict

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


def test_module_lr_gives_modules_their_own_peak(repo_root):
    from ttsbench.systems.speech.training.trainer import param_groups

    cfg = load_config(TrainConfig, repo_root / "configs" / "train_distar_base.toml")
    assert cfg.optim.lr == 1.5e-4 and cfg.optim.module_lr["lm"] == 0.75e-4
    net = torch.nn.ModuleDict({"lm": torch.nn.ModuleDict({"a": torch.nn.Linear(2, 3), "b": torch.nn.Linear(3, 3)}),
                               "mdm": torch.nn.Linear(3, 4)})
    groups = param_groups(net, 0.01, 1.5e-4, {"lm": 0.75e-4, "lm.b": 2e-4})  # the longest path wins
    by_param = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    assert by_param[id(net["lm"]["a"].weight)] == (0.75e-4, 0.01) and by_param[id(net["lm"]["a"].bias)] == (0.75e-4, 0)
    assert by_param[id(net["lm"]["b"].weight)] == (2e-4, 0.01) and by_param[id(net["mdm"].weight)] == (1.5e-4, 0.01)
    assert len(by_param) == 6 and len(groups) == 6
    with pytest.raises(InputError, match=r"\['lmm'\] name no trainable parameters; top-level modules: \['lm', 'mdm'\]"):
        param_groups(net, 0.01, 1e-4, {"lmm": 1e-4})


def test_warmup_scales_each_peak(repo_root):
    cfg = load_config(TrainConfig, repo_root / "configs" / "train_ditar_tiny.toml", ["optim.warmup_steps=4"])
    assert lr_at(1, cfg.optim, 0.5) == pytest.approx(0.25) and lr_at(4, cfg.optim, 0.5) == 0.5


def test_distar_module_lr_splits_ar_part_from_mdm(repo_root):
    from ttsbench.systems.distar.config import SIZES
    from ttsbench.systems.distar.model import DiSTAR
    from ttsbench.systems.speech.training.trainer import param_groups

    cfg = load_config(TrainConfig, repo_root / "configs" / "train_distar_base.toml")
    model = DiSTAR(SIZES["tiny"])
    lr_of = {id(p): g["lr"] for g in param_groups(model, 0.0, cfg.optim.lr, cfg.optim.module_lr) for p in g["params"]}
    for name, p in model.named_parameters():
        assert lr_of[id(p)] == (1.5e-4 if name.startswith("mdm.") else 0.75e-4), name
