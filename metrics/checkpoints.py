"""Strict checkpoint loading: every key accounted for, shapes checked, one clear line on failure.

`strict=False` hides a wrong checkpoint (a different model loads "fine" and scores garbage), so the
recipes load with `load_checked`, which allows exactly the keys a recipe names as expected extras
(training-only heads) or as supplied elsewhere, and reports anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from ttsbench.errors import MissingModelError


def torch_load(path: Path, recipe: str) -> Any:
    """torch.load with weights_only=True (no pickled code runs); an unreadable file is one line."""
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - pickle errors, truncated zip archives, non-torch files
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MissingModelError(f"{recipe}: cannot read checkpoint {path}: {first[:200]}") from None


def _few(keys: Iterable[str], n: int = 4) -> str:
    keys = sorted(keys)
    more = f" and {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def load_checked(module: torch.nn.Module, state: Mapping[str, torch.Tensor], *, recipe: str, path: Path,
                 allowed_unexpected: tuple[str, ...] = (), may_be_missing: tuple[str, ...] = ()) -> list[str]:
    """Copy `state` into `module`, refusing unknown keys, missing keys and shape mismatches.

    Args:
        allowed_unexpected: key prefixes the file may hold that the module does not use.
        may_be_missing: key prefixes the module may keep from an earlier load (not in this file).

    Returns:
        The unexpected keys that were allowed and ignored (for the record).
    """
    own = module.state_dict()
    unexpected = [k for k in state if k not in own]
    bad = [k for k in unexpected if not k.startswith(allowed_unexpected)] if allowed_unexpected else unexpected
    if bad:
        raise MissingModelError(
            f"{recipe}: {path} is not the expected checkpoint: unexpected key(s) {_few(bad)}")
    missing = [k for k in own if k not in state and not (may_be_missing and k.startswith(may_be_missing))
               and not k.endswith("num_batches_tracked")]  # a BN counter; eval never reads it
    if missing:
        raise MissingModelError(f"{recipe}: {path} is not the expected checkpoint: missing key(s) {_few(missing)}")
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in state
              if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
    if shapes:
        raise MissingModelError(f"{recipe}: {path} has wrong shapes (file vs model): {_few(shapes, 2)}")
    with torch.no_grad():
        for key, value in state.items():
            if key in own:
                own[key].copy_(value)
    return sorted(set(unexpected) - set(bad))
