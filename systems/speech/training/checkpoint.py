"""Training checkpoints: atomic writes, RNG states, finding the latest one to resume from.

A checkpoint is one `torch.save`d dict, loadable with `weights_only=True` (tensors, numbers,
strings, lists and dicts only). Files are `<out>/checkpoints/step_<7 digits>.pt`, written to a
temporary name and renamed, so a crash never leaves a torn file that resume would pick up.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ttsbench import locking
from ttsbench.errors import InputError, first_line
from ttsbench.paths import temp_path

CKPT_DIR = "checkpoints"
_STEP_RE = re.compile(r"^step_(\d{7,})\.pt$")


def rng_state() -> dict[str, Any]:
    """Python, NumPy, torch CPU and (if present) CUDA generator states, as plain values/tensors."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": _listify(random.getstate()),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()  # this rank's current device
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state()` captured."""
    random.setstate(_tuplify(state["python"]))
    np_state = state["numpy"]
    np.random.set_state((np_state["kind"], np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def checkpoint_path(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / CKPT_DIR / f"step_{step:07d}.pt"


def save_checkpoint(path: Path, payload: dict[str, Any], *, keep_last: int = 0) -> Path:
    """Write `payload` atomically; with keep_last > 0, delete all but the newest `keep_last`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    torch.save(payload, tmp)
    os.replace(tmp, path)
    if keep_last > 0:
        for old in list_checkpoints(path.parent.parent)[:-keep_last]:
            old.unlink(missing_ok=True)
    return path


def list_checkpoints(out_dir: Path) -> list[Path]:
    """Complete checkpoints under `out_dir/checkpoints`, oldest first."""
    folder = Path(out_dir) / CKPT_DIR
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_RE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(out_dir: Path) -> Path | None:
    found = list_checkpoints(out_dir)
    return found[-1] if found else None


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by `save_checkpoint` (weights_only: no code runs on load)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for corrupt or foreign files
        raise InputError(f"cannot read checkpoint {path}: {first_line(err)}") from None


def git_sha() -> str:
    """The commit of the code that trains (with '-dirty' for local edits), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _listify(value: Any) -> Any:
    return [_listify(v) for v in value] if isinstance(value, (tuple, list)) else value


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, (tuple, list)) else value


def exclusive(out_dir: Path, *, enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Hold `<out>/train.lock` while training, so two jobs never write one folder's checkpoints
    (`ttsbench.locking`: released by the OS when the process dies; a second job fails at once with
    the holder's pid). Under torchrun only rank 0 takes it (`enabled=rt.is_main`)."""
    return locking.exclusive(out_dir, "train.lock", what="training process", enabled=enabled)
