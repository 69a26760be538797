"""The registries every plugin lands in. Built-ins register by decorator; others by entry point."""

from __future__ import annotations

from typing import Any

from ttsbench.registry import Registry

SYSTEMS: Registry[Any] = Registry(
    "system", entry_point_group="ttsbench.systems", builtin_packages=["ttsbench.systems", "ttsbench.testing"],
    list_command="ttsbench list systems")
METRICS: Registry[Any] = Registry(
    "metric", entry_point_group="ttsbench.metrics", builtin_packages=["ttsbench.metrics"],
    list_command="ttsbench list metrics")
ASR: Registry[Any] = Registry(
    "asr backend", entry_point_group="ttsbench.asr", builtin_packages=["ttsbench.metrics"],
    list_command="ttsbench list asr")
RECIPES: Registry[Any] = Registry(
    "recipe", entry_point_group="ttsbench.recipes", builtin_packages=["ttsbench.metrics"],
    list_command="ttsbench list recipes")


def _load_builtin_testsets(registry: Registry[Any]) -> None:
    from ttsbench.testsets import register_builtin_testsets

    register_builtin_testsets(registry)


TESTSETS: Registry[Any] = Registry(
    "prompt set", entry_point_group="ttsbench.testsets", builtin_loader=_load_builtin_testsets,
    list_command="ttsbench list testsets")
ARCHS: Registry[Any] = Registry(
    "architecture", entry_point_group="ttsbench.archs", builtin_packages=["ttsbench.metrics"],
    list_command="ttsbench list archs")

REGISTRIES: dict[str, Registry[Any]] = {
    "systems": SYSTEMS, "metrics": METRICS, "asr": ASR, "recipes": RECIPES,
    "testsets": TESTSETS, "archs": ARCHS,
}
