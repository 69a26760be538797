"""Exponential moving average of the model's weights, for evaluation and export.

After every optimizer step: ema <- decay * ema + (1 - decay) * weights, for every trainable
parameter (buffers are not averaged: they come from the live model). With `warmup` the decay used
at update n (1-based) is min(decay, (1 + n) / (10 + n)), so early averages are not dominated by the
random initialisation (the common "EMA warm-up"; off by default: plain `decay` from step 1).

Checkpoint layout (the `ema_model_state_dict` key, in the layout of the `ema_pytorch` package that
F5-TTS-style trainers such as GROW save, so their loaders and ours read each other's files):

    "ema_model.<parameter name>"  fp32 tensor, full (unsharded), CPU
    "initted"                     bool tensor, True
    "step"                        int64 tensor, updates done

Under FSDP the averages are kept as DTensor shards like the parameters; `state_dict()` gathers them
(a collective: every rank calls it) and `load_state_dict()` re-shards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ttsbench.errors import InputError

PREFIX = "ema_model."
KEY = "ema_model_state_dict"


class EMA:
    """Shadow copies of `model`'s trainable parameters (the bare model: no DDP prefix)."""

    def __init__(self, model: nn.Module, decay: float, *, warmup: bool = False) -> None:
        if not 0.0 < decay < 1.0:
            raise InputError(f"ema decay = {decay}; expected 0 < decay < 1 (0 in the config turns EMA off)")
        self.decay, self.warmup, self.updates = float(decay), bool(warmup), 0
        self.params = {name: p for name, p in model.named_parameters() if p.requires_grad}
        self.shadow = {name: p.detach().clone().float() for name, p in self.params.items()}

    def current_decay(self) -> float:
        """The decay the next update uses."""
        n = self.updates + 1
        return min(self.decay, (1 + n) / (10 + n)) if self.warmup else self.decay

    @torch.no_grad()
    def update(self) -> None:
        """One step of the average towards the live weights."""
        weight = 1.0 - self.current_decay()
        for name, p in self.params.items():
            self.shadow[name].lerp_(p.detach().float(), weight)
        self.updates += 1

    def full_shadow(self) -> dict[str, torch.Tensor]:
        """name -> full fp32 CPU tensor (collective under FSDP)."""
        out = {}
        for name, value in self.shadow.items():
            full = value.full_tensor() if hasattr(value, "full_tensor") else value
            out[name] = full.detach().cpu().clone()
        return out

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {PREFIX + k: v for k, v in self.full_shadow().items()}
        state["initted"] = torch.tensor(True)
        state["step"] = torch.tensor(self.updates, dtype=torch.int64)
        return state

    @torch.no_grad()
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        weights = ema_weights(state)
        missing = sorted(set(self.shadow) - set(weights))
        if missing:
            raise InputError(f"EMA state lacks {len(missing)} parameter(s), e.g. {missing[:3]}")
        for name, target in self.shadow.items():
            full = weights[name].to(torch.float32)
            if hasattr(target, "device_mesh"):  # FSDP: re-shard the full tensor like the parameter
                # lazy: only FSDP runs hold DTensors
                from torch.distributed.tensor import distribute_tensor

                full = distribute_tensor(full.to(target.device), target.device_mesh, target.placements)
            target.copy_(full)
        self.updates = int(state.get("step", 0))

    def model_state(self, live: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A full model state dict: the live one (buffers, frozen weights) with averaged parameters."""
        shadow = self.full_shadow()
        return {k: shadow.get(k, v) for k, v in live.items()}


def ema_weights(state: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Parameter name -> tensor from an `ema_model_state_dict` (ours or ema_pytorch's layout)."""
    return {k[len(PREFIX):]: v for k, v in state.items() if k.startswith(PREFIX) and torch.is_tensor(v)}
