"""The registries every plugin lands in. Built-ins register by decorator; others by entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ttsbench.registry import Registry

SYSTEMS: Registry[Any] = Registry(
    "system", entry_point_group="ttsbench.systems", builtin_packages=["ttsbench.systems", "ttsbench.testing"],
    list_command="ttsbench list systems", symbol="SYSTEMS")
METRICS: Registry[Any] = Registry(
    "metric", entry_point_group="ttsbench.metrics", builtin_packages=["ttsbench.metrics"],
    list_command="ttsbench list metrics", symbol="METRICS")
ASR: Registry[Any] = Registry(
    "asr backend", entry_point_group="ttsbench.asr", builtin_packages=["ttsbench.metrics"],
    list_command="ttsbench list asr", symbol="ASR")
NORMALIZERS: Registry[Any] = Registry(
    "normalizer", entry_point_group="ttsbench.normalizers", builtin_packages=["ttsbench.metrics"],
    list_command="ttsbench list normalizers", old_groups=["ttsbench.recipes"],
    symbol="NORMALIZERS")


def _load_builtin_prompt_sets(registry: Registry[Any]) -> None:
    # lazy: ttsbench.prompt_sets imports this module (a cycle at import time)
    from ttsbench.prompt_sets import register_builtin_prompt_sets

    register_builtin_prompt_sets(registry)


PROMPT_SETS: Registry[Any] = Registry(
    "prompt set", entry_point_group="ttsbench.prompt_sets", builtin_loader=_load_builtin_prompt_sets,
    list_command="ttsbench list prompt-sets", old_groups=["ttsbench.testsets"])
ARCHS: Registry[Any] = Registry(  # Table 1's systems (metrics/cost/archs.py) and our models' (systems/*/cost.py)
    "architecture", entry_point_group="ttsbench.archs", builtin_packages=["ttsbench.metrics", "ttsbench.systems"],
    list_command="ttsbench list archs")
MODELS: Registry[Any] = Registry(  # our own models' cost hooks (ttsbench.metrics.cost.model_cost.ModelCost)
    "model", entry_point_group="ttsbench.models", builtin_packages=["ttsbench.systems"],
    list_command="ttsbench list models")

# `ttsbench list KIND`; the names these registries had before (kept for one release) in REGISTRY_ALIASES.


@dataclass(frozen=True)
class Trainer:
    """`ttsbench train NAME CONFIG`: the TOML config's dataclass and the function that trains
    (resuming from `<out>`) and returns the output folder; `description` for `ttsbench list trainers`."""

    config: type
    run: Callable[[Any], Path]
    description: str = ""


TRAINERS: Registry[Trainer] = Registry(  # registered by each trainer module (systems/*/train.py ...)
    "trainer", entry_point_group="ttsbench.trainers", builtin_packages=["ttsbench.systems"],
    list_command="ttsbench list trainers")

REGISTRIES: dict[str, Registry[Any]] = {
    "systems": SYSTEMS, "metrics": METRICS, "asr": ASR, "normalizers": NORMALIZERS,
    "prompt-sets": PROMPT_SETS, "archs": ARCHS, "models": MODELS, "trainers": TRAINERS,
}
REGISTRY_ALIASES = {"testsets": "prompt-sets", "recipes": "normalizers"}
