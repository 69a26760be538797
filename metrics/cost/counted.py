"""FLOPs counted by running (or tracing) a model: torch's FlopCounterMode and fvcore, each with a
handle for scaled-dot-product attention. Cross-checks of the analytic numbers.

Both count only the matrix products (linear/matmul/bmm/conv/attention), so they agree with A.4 up
to what A.4 leaves out on purpose (input/output projections, time MLPs, heads). Everything
returned is a `FlopCount` (MACs; `.flops` = 2 x MACs).

- `count_torch(fn, *args)`: FlopCounterMode over any callable (works with KV caches, loops, and on
  the "meta" device, so the paper-size models are counted without memory or compute). PyTorch's
  CPU attention kernel (`_scaled_dot_product_flash_attention_for_cpu`) is missing from its
  registry; we add it.
- `count_fvcore(module, inputs)`: fvcore's FlopCountAnalysis (a jit trace) with a handle for
  `aten::scaled_dot_product_attention`, which fvcore does not know.
- `CountedCost` / `total_of`: a model's counted pieces (FLOPs per call x calls per utterance);
  each model's own `cost.py` counts its pieces with one of the two counters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from ttsbench.errors import MissingDependencyError
from ttsbench.metrics.cost.spec import FlopCount


def _sdpa_flops(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, out_shape: Any = None,
                **kwargs: Any) -> int:
    """FLOPs of softmax(Q K^T) V: 2 B H S_q S_k D_h for QK^T and the same for AV."""
    b, h, s_q, d = query_shape
    s_k, d_v = key_shape[-2], value_shape[-1]
    return 2 * b * h * s_q * s_k * d + 2 * b * h * s_q * s_k * d_v


def _torch_mapping() -> dict[Any, Callable[..., int]]:
    aten = torch.ops.aten
    ops = [getattr(aten, name) for name in  # registry keys are OpOverloadPackets
           ("_scaled_dot_product_flash_attention_for_cpu",) if hasattr(aten, name)]
    return {op: _sdpa_flops for op in ops}


def count_torch(fn: Callable[..., Any], *args: Any, scope: str = "", **kwargs: Any) -> FlopCount:
    """Run `fn(*args, **kwargs)` under torch's FlopCounterMode; return the FLOPs it executed."""
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=_torch_mapping()) as counter:
        fn(*args, **kwargs)
    total = int(counter.get_total_flops())
    return FlopCount(macs=total // 2, method="torch", scope=scope or getattr(fn, "__qualname__", "callable"))


def _fvcore_sdpa_handle(inputs: list[Any], outputs: list[Any]) -> int:
    """MACs of aten::scaled_dot_product_attention for fvcore (which counts MACs, calling them flops)."""
    # lazy: an optional backend, imported only when this recipe or system runs
    from fvcore.nn.jit_handles import get_shape

    q, k, v = (get_shape(x) for x in inputs[:3])
    return _sdpa_flops(q, k, v) // 2


def count_fvcore(module: torch.nn.Module, inputs: tuple[Any, ...], *, scope: str = "") -> FlopCount:
    """Trace `module(*inputs)` with fvcore and count its MACs (SDPA included)."""
    try:
        # lazy: an optional backend, imported only when this recipe or system runs
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        raise MissingDependencyError("fvcore is not installed: pip install 'ttsbench[cost]'") from None
    analysis = FlopCountAnalysis(module, inputs)
    analysis.set_op_handle("aten::scaled_dot_product_attention", _fvcore_sdpa_handle)
    # Elementwise ops (RMSNorm's pow/mean/rsqrt, GELU, RoPE) are outside A.4's count: ignore them quietly.
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        macs = int(analysis.total())
    return FlopCount(macs=macs, method="fvcore", scope=scope or type(module).__name__)


Counter = Callable[..., FlopCount]


@dataclass(frozen=True)
class CountedCost:
    """A counted total with its per-piece FLOPs (per call) and how many calls one utterance makes."""

    total: FlopCount
    pieces: dict[str, tuple[int, int]]  # name -> (FLOPs per call, calls)


def total_of(pieces: dict[str, tuple[int, int]], counter: Counter, scope: str) -> CountedCost:
    """Sum per-call FLOPs x calls over the pieces of one utterance; `method` names the counter used."""
    flops = sum(per * calls for per, calls in pieces.values())
    method = "fvcore" if getattr(counter, "__name__", "") == "count_fvcore" else "torch"
    return CountedCost(FlopCount(macs=flops // 2, method=method, scope=scope), pieces)
