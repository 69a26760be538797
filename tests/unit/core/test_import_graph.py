"""The package import graph is the architecture (docs/ARCHITECTURE.md): layers import only downwards.

    core     ttsbench.{errors, types, registry, plugins, options, configio, audio, store, schema, spec,
             prompt_sets, console, cli_options, sentences}: imports nothing else of ttsbench
    metrics  ttsbench.metrics: core and itself (the cost layer, metrics.cost, never imports a model)
    systems  ttsbench.systems: core and the cost layer's types (ttsbench.metrics.cost), to own their cost
    reports  ttsbench.reports: core and metrics (statistics), never a system
    app      the jobs and the command line (cli, commands, pipeline, runner, scoring, corpus, testing): anything

Every import counts, at module level or inside a function, so a lazy import cannot hide an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FOLDERS = {"bench": "ttsbench", "systems": "ttsbench.systems", "metrics": "ttsbench.metrics",
           "reports": "ttsbench.reports"}
APP = ("ttsbench.cli", "ttsbench.__main__", "ttsbench.commands", "ttsbench.pipeline", "ttsbench.runner",
       "ttsbench.scoring", "ttsbench.corpus", "ttsbench.testing")
ALLOWED = {
    "core": {"core"},
    "metrics": {"core", "metrics"},
    "systems": {"core", "metrics.cost", "systems"},
    "reports": {"core", "metrics", "reports"},
    "app": {"core", "metrics", "systems", "reports", "app"},
}


def module_name(path: Path) -> str:
    folder = path.relative_to(ROOT).parts[0]
    rel = path.relative_to(ROOT / folder).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([FOLDERS[folder], *parts])


def layer(module: str) -> str:
    for prefix, name in (("ttsbench.metrics", "metrics"), ("ttsbench.systems", "systems"),
                         ("ttsbench.reports", "reports"), *((a, "app") for a in APP)):
        if module == prefix or module.startswith(prefix + "."):
            return name
    return "core"


def may_import(own: str, module: str) -> bool:
    allowed = ALLOWED[own]
    target = layer(module)
    if target == "metrics" and "metrics.cost" in allowed and "metrics" not in allowed:
        return module == "ttsbench.metrics.cost" or module.startswith("ttsbench.metrics.cost.")
    return target in allowed


def imports(path: Path) -> set[str]:
    """Every ttsbench module `path` imports (absolute imports; the code base uses no relative ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ttsbench")}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            if node.module and node.module.startswith("ttsbench"):
                found.add(node.module)
    return found


def sources() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_points_down_the_layers(path):
    own = layer(module_name(path))
    bad = sorted(m for m in imports(path) if not may_import(own, m))
    assert not bad, f"{module_name(path)} ({own}) may import only {sorted(ALLOWED[own])}; it imports {bad}"


def test_metrics_never_imports_systems():
    offenders = [(module_name(p), m) for p in sources() if layer(module_name(p)) == "metrics"
                 for m in imports(p) if m.startswith("ttsbench.systems")]
    assert not offenders


def test_the_layers_have_no_cycle():
    """Layer edges form a DAG, so the packages cannot import each other in a circle."""
    edges = {own: {t for t in allowed if t.split(".")[0] != own} for own, allowed in ALLOWED.items()}
    seen: list[str] = []

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"cycle: {' -> '.join((*path, node))}"
        for nxt in edges.get(node.split(".")[0], ()):
            visit(nxt.split(".")[0], (*path, node))
        seen.append(node)

    for node in ALLOWED:
        visit(node, ())
