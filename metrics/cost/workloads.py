"""What `ttsbench speed` times: our models on the paper's fixed workload, or any registered system.

- ``<model>-<size>`` of every `MODELS` entry (``ditar-<size>``, ``distar-<size>``,
  ``nar-dit-<size>``): that model's own workload, built in its `systems/<model>/cost.py` (random
  weights, timing only; the fixed amount of speech per row that Table 7 needs).
- any other registered system: its `synthesize` on the embedded demo prompts (batch rows cycle
  through them); wall time includes its vocoder; audio seconds are what it returned.
"""

from __future__ import annotations

from typing import Any

from ttsbench.metrics.cost.speed import SpeedConfig, Workload
from ttsbench.plugins import MODELS, SYSTEMS
from ttsbench.prompt_sets import load_prompt_set
from ttsbench.types import LoadContext, SystemSpec


class SystemWorkload:
    """Any registered system's `synthesize`, on the embedded demo prompts."""

    streaming = False

    def __init__(self, name: str, cfg: SpeedConfig) -> None:
        spec = SystemSpec.parse(name)
        cls = SYSTEMS.get(spec.name)
        self.system = cls.load(spec, LoadContext.from_env(device=cfg.device))
        self.random_weights = bool(cls.capabilities.random_weights)
        self.name, self.cfg = name, cfg
        self.pool = load_prompt_set("demo").prompts
        self.batch: list[Any] = []

    def prepare(self, batch: int) -> None:
        self.batch = [self.pool[i % len(self.pool)] for i in range(batch)]

    def run(self) -> float:
        wavs = self.system.synthesize(self.batch, seed=self.cfg.seed)
        return sum(len(w) for w in wavs) / len(wavs) / self.system.sample_rate

    def first(self) -> None:
        self.run()

    def describe(self) -> dict[str, Any]:
        return {"model": type(self.system).__name__, "workload": "synthesize() on the demo prompts, vocoder included"}


def build_workload(name: str, cfg: SpeedConfig, *, end_to_end: bool = False) -> Workload:
    """`<model>-<size>` of a `MODELS` entry (ditar-0.6b, distar-base, nar-dit-tiny ...: the model's own
    workload), or any registered system name (with `:options`) through `synthesize`; `end_to_end`
    sends the model names through their registered system too."""
    if not end_to_end:
        for model_name, model in MODELS.items():
            size = name[len(model_name) + 1:] if name.startswith(model_name + "-") else None
            if size in model.sizes:
                return model.workload(size, cfg)
    return SystemWorkload(name, cfg)
