"""The tiny GROW checkpoint of tests/fixtures/grow/ written in GROW's own formats (scripts/make_grow_goldens.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "grow"


@pytest.fixture(scope="session")
def grow_meta() -> dict:
    return json.loads((FIXTURES / "grow_tiny_meta.json").read_text())


@pytest.fixture(scope="session")
def grow_goldens() -> dict[str, torch.Tensor]:
    return load_file(str(FIXTURES / "grow_tiny_goldens.safetensors"))


@pytest.fixture(scope="session")
def grow_state() -> dict[str, torch.Tensor]:
    """GROW's state dict (its key names) of the tiny model the goldens came from."""
    return load_file(str(FIXTURES / "grow_tiny_weights.safetensors"))


def write_pretrain_ckpt(folder: Path, state: dict[str, torch.Tensor], yaml_text: str) -> Path:
    """GROW's pretrain layout: EMA weights under ema_model_state_dict, keys `ema_model.*`, plus initted/step."""
    folder.mkdir(parents=True, exist_ok=True)
    ema = {f"ema_model.{k}": v for k, v in state.items()}
    ema.update(initted=torch.tensor(True), step=torch.tensor(200_000))
    path = folder / "model_200000.pt"
    torch.save({"ema_model_state_dict": ema}, path)
    (folder / "config.yaml").write_text(yaml_text)
    return path


def write_rl_ckpt(folder: Path, state: dict[str, torch.Tensor], yaml_text: str) -> Path:
    """GROW's RL layout: the policy's state under model_state_dict, plus optimizer/scheduler/update."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model_750.pt"
    torch.save({"model_state_dict": dict(state), "optimizer_state_dict": {}, "scheduler_state_dict": {},
                "update": 750}, path)
    (folder / "config.yaml").write_text(yaml_text)
    return path


@pytest.fixture
def grow_ckpt(tmp_path: Path, grow_state, grow_meta) -> Path:
    return write_pretrain_ckpt(tmp_path / "01_pretrain", grow_state, grow_meta["config_yaml"])
