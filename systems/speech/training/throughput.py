"""Training throughput: model FLOPs of a step, counted, and MFU against the device's dense peak.

What is counted: the matrix products (mm, bmm, addmm, convolutions, scaled-dot-product attention)
that one optimizer step's forward *and* backward pass run on this rank, by
`torch.utils.flop_counter.FlopCounterMode` over the real batch (padding included, attention over
the full S x S even where a causal mask hides half of it, as in the DiTAR paper's Appendix A.4).
Elementwise ops, norms and embedding lookups are not counted. FLOPs = 2 x MACs.

Counting every step would slow training (the counter sees every op in Python), so the first step of
each logging window is counted and the window is charged that step's FLOPs per latent frame times
its frames. Token-budget batches are padded to about the same number of frames, so the estimate
moves little from window to window; it is labelled as such in the log ("flops_scope").

MFU = model FLOPs per second / (world size x peak dense FLOPs per device). Peaks are the vendors'
dense bf16 tensor-core numbers (no 2:4 sparsity) of `PEAK_BF16_TFLOPS`; on any other device, or to
use another precision's peak, set `peak_tflops` in the training config, else MFU is not reported.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch
from torch.utils.flop_counter import FlopCounterMode

# Dense bf16 tensor-core peaks per GPU (TFLOPs = 1e12 FLOPs/s), from the vendors' data sheets.
# Matched in order against torch.cuda.get_device_name(); the first match wins.
PEAK_BF16_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H200", 989.4),
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.4),  # SXM5 ("NVIDIA H100 80GB HBM3")
    ("H800", 989.4),
    ("GH200", 989.4),
    ("B200", 2250.0),
    ("A100", 312.0),
    ("A800", 312.0),
    ("L40S", 362.1),
    ("L40", 181.05),  # before "L4", which it contains
    ("A10G", 70.0),
    ("L4", 121.0),
)


def peak_tflops(device: torch.device, configured: float | None = None) -> tuple[float | None, str]:
    """(peak dense TFLOPs of one device, where the number comes from); (None, reason) when unknown."""
    if configured:
        return float(configured), "config peak_tflops"
    if device.type != "cuda":
        return None, f"no peak known for {device.type}: set peak_tflops"
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_BF16_TFLOPS:
        if key in name:
            return value, f"{name}: dense bf16 data-sheet peak"
    return None, f"no peak known for {name!r}: set peak_tflops"


class StepCounter:
    """Counts one step per window: `counting(step)` wraps forward + backward, `record` keeps the result."""

    def __init__(self, every: int) -> None:
        self.every = max(int(every), 1)
        self.flops, self.frames = 0, 0  # the counted step of the current window
        self._mode: torch.utils.flop_counter.FlopCounterMode | None = None

    def counting(self, step: int) -> AbstractContextManager:
        """A FlopCounterMode for the first step of a window (`step` = steps done before it), else a no-op."""
        if step % self.every and self.frames:
            return nullcontext()

        self._mode = FlopCounterMode(display=False)
        return self._mode

    def record(self, frames: int) -> None:
        if self._mode is not None:
            self.flops, self.frames, self._mode = int(self._mode.get_total_flops()), int(frames), None

    @property
    def flops_per_frame(self) -> float:
        return self.flops / self.frames if self.frames else 0.0
