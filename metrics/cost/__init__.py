"""The cost layer: analytic FLOPs (DiTAR paper, Appendix A.4), counted FLOPs, and speed.

Units and scope, always: FLOPs = 2 x MACs; one utterance (default: 3 s prompt, 10 s target,
7 text tokens/s); NFE = network calls per diffusion solve; CFG doubles the guided network's passes;
vocoders excluded. Every count is a `FlopCount(macs, method, scope)`.

What lives here is model-independent (this package never imports a model):

- ``spec.py``: ``ArchSpec`` (the networks of a system), ``Block``, ``Length``, ``CostSetup`` (prompt /
  target seconds, text rate, NFE, guidance, patch size, history, L'), ``FlopCount``.
- ``formulas.py`` and ``analytic.py``: the A.4 formulas (appendix typos fixed) over an ArchSpec:
  ``analytic_flops(spec, setup)``, ``breakdown(spec, setup)``.
- ``archs.py``: the Table 1 systems we only read about, registered in ``ARCHS``.
- ``counted.py``: FLOPs counted by ``torch.utils.flop_counter`` or fvcore (with an SDPA handle).
- ``speed.py``: the timing harness (RTF, first-patch latency, throughput) and ``workloads.py``: any
  registered system timed through its ``synthesize``.
- ``model_cost.py``: ``ModelCost``, the hooks one of our own models registers in ``MODELS`` from its
  own folder (``systems/<model>/cost.py``: its ArchSpecs, counted FLOPs, speed workload, parameters).
- ``table.py``: the rows of ``ttsbench flops``.
- ``system_cost(system)``: what the runner stores in run.json when ``system.arch()`` returns an
  ArchSpec: ``{"flops", "unit", "scope", "detail", "method", "macs"}`` (``scope``: the setup,
  identical across systems; ``detail``: this system's counted networks).
"""

from __future__ import annotations

from typing import Any

from ttsbench.metrics.cost.analytic import analytic_flops, breakdown, detail, setup_scope
from ttsbench.metrics.cost.spec import UNIT, ArchSpec, Block, CostSetup, FlopCount, Length


def system_cost(system: Any, setup: CostSetup | None = None) -> dict[str, Any] | None:
    """run.json's cost entry for a loaded system: analytic FLOPs of one A.4-setup utterance.

    Returns None when the system has no architecture spec. The system's own inference settings
    (NFE, CFG, patch size) are in its spec, so the number describes the run as configured.
    """
    spec = system.arch()
    if spec is None:
        return None
    if not isinstance(spec, ArchSpec):
        raise TypeError(f"{type(system).__name__}.arch() returned {type(spec).__name__}, expected ArchSpec")
    setup = setup or CostSetup()
    count = analytic_flops(spec, setup)
    # `scope` is the same for every system under one setup, so reports put them in one column
    # group; what was counted for this system is in `detail`.
    return {"flops": float(count.flops), "tflops": count.tflops, "unit": UNIT, "scope": setup_scope(setup),
            "detail": detail(spec, setup), "method": count.method, "macs": float(count.macs), "arch": spec.name}


__all__ = ["UNIT", "ArchSpec", "Block", "CostSetup", "FlopCount", "Length", "analytic_flops", "breakdown",
           "system_cost"]
