"""Learning-rate schedules and gradient accumulation of the patch-model trainer.

LR at optimizer step s (0-based), peak LR `peak`, warm-up W steps, decay over D steps after it:

    s < W                      peak * (s + 1) / W                 (linear warm-up; W = 0: none)
    schedule = "constant"      peak                                (the paper: constant 1e-4)
    schedule = "cosine"        floor + (peak - floor) * (1 + cos(pi * u)) / 2,   u = min(1, (s - W) / D)
    schedule = "linear"        peak - (peak - floor) * u
    floor = peak * final_lr_ratio

Gradient accumulation: one optimizer step sums the gradients of `grad_accum` micro-batches, each
loss scaled by 1 / grad_accum, so the step's gradient is the mean of the micro-batches' mean
losses. That equals the gradient of one batch holding them all exactly when the model's loss is a
mean over equally sized micro-batches (the test checks this); with token-budget batches of unequal
frame counts it is the usual approximation (each micro-batch weighs the same). Under DDP the
gradients are all-reduced once per optimizer step (`no_sync` on the other micro-batches).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import nn

SCHEDULES = ("constant", "cosine", "linear")


def lr_at(step: int, peak: float, *, warmup_steps: int = 0, schedule: str = "constant", decay_steps: int = 0,
          final_lr_ratio: float = 0.0) -> float:
    """The LR of optimizer step `step` (module docstring)."""
    if warmup_steps > 0 and step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    if schedule == "constant" or decay_steps <= 0:
        return peak
    u = min(1.0, (step - warmup_steps) / decay_steps)
    floor = peak * final_lr_ratio
    if schedule == "cosine":
        return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * u))
    return peak - (peak - floor) * u


def accumulate(runner: nn.Module, micro_batches: Sequence[Any], forward: Callable[[nn.Module, Any], Any],
               ) -> Iterator[Any]:
    """Forward + backward each micro-batch with loss / len(micro_batches); yields each loss object.

    `forward(runner, batch)` returns the model's loss object (with `.total`). Under DDP every
    micro-batch but the last runs in `no_sync()`, so gradients are all-reduced once.
    """
    k = len(micro_batches)
    for i, batch in enumerate(micro_batches):
        last = i == k - 1
        sync = contextlib.nullcontext() if last or not hasattr(runner, "no_sync") else runner.no_sync()
        with sync:
            losses = forward(runner, batch)
            loss = losses.total
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss {float(loss.detach())} (micro-batch {i + 1} of {k})")
            (loss / k).backward()
        yield losses
