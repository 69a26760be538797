"""The interface through which one of our own models owns its cost.

A model's folder (e.g. `systems/ditar/cost.py`) builds its architecture specs (registered in
`ARCHS`) and one `ModelCost` (registered in `MODELS` under the model's name); the cost layer then
counts, times and sizes the model without knowing it:

- `ttsbench flops --counted`: an `ArchSpec` whose `model` names a `MODELS` entry is counted by
  that entry's `counted` function (torch's FlopCounterMode on the meta device);
- `ttsbench speed --system <name>-<size>`: `workload(size, cfg)` builds the timed model workload;
- `ttsbench params --model <name>`: `parameters(config)` counts each component.

The cost layer itself (`ttsbench.metrics.cost`) holds only the spec types, the A.4 formulas, the
analytic and counted machinery and the timing harness; it never imports a model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ttsbench.errors import InputError
from ttsbench.metrics.cost.spec import ArchSpec, CostSetup
from ttsbench.metrics.cost.speed import SpeedConfig, Workload

# (spec, setup, NFE or None for the spec's own, guidance on) -> TFLOPs of one utterance, counted
CountedFn = Callable[[ArchSpec, CostSetup, "int | None", bool], float]


@dataclass(frozen=True)
class ModelCost:
    """What the cost layer knows of one of our models (see the module docstring).

    name: the prefix of its registered names: "ditar" -> `ditar-<size>` systems, specs and workloads.
    label: how tables name the model ("DiTAR").
    sizes: size -> the model config of that preset (what `--set FIELD=VALUE` overrides).
    nominal: size -> the size the paper states ("~0.6 B"), shown beside our exact counts.
    parameters: config -> parameters per component (meta device: no memory), with a "total".
    parameters_note: one line saying what the components are (the header of `ttsbench params`).
    counted: torch-counted TFLOPs of the model behind a spec (`spec.model_config`), one utterance.
    workload: (size, SpeedConfig) -> the timed workload of `ttsbench speed` (random weights).
    description: one line for `ttsbench list models`.
    """

    name: str
    label: str
    sizes: Mapping[str, Any]
    parameters: Callable[[Any], dict[str, int]]
    counted: CountedFn
    workload: Callable[[str, SpeedConfig], Workload]
    nominal: Mapping[str, str] = field(default_factory=dict)
    parameters_note: str = ""
    description: str = ""

    def config(self, size: str) -> Any:
        """The preset config of `size`; an unknown size is one line listing the known ones."""
        if size.lower() not in self.sizes:
            raise InputError(f"unknown {self.label} size {size!r}; choose one of {', '.join(self.sizes)}")
        return self.sizes[size.lower()]


def parameter_count(*parts: Any) -> int:
    """Parameters of modules (or bare parameters), e.g. for a `ModelCost.parameters` breakdown."""
    return sum(p.numel() for m in parts for p in (m.parameters() if hasattr(m, "parameters") else [m]))
