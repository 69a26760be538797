"""The package import graph is the architecture (docs/ARCHITECTURE.md): layers import only downwards.

    core     ttsbench.{errors, types, registry, plugins, options, configio, audio, store, schema, jsonfields,
             spec, prompt_sets, console, cli_options, sentences}: imports nothing else of ttsbench
    metrics  ttsbench.metrics: core and itself (the cost layer, metrics.cost, never imports a model)
    systems  ttsbench.systems: core and the cost layer's types (ttsbench.metrics.cost), to own their cost
    reports  ttsbench.reports: core and metrics (statistics), never a system
    app      the jobs and the command line (cli, commands, pipeline, runner, scoring, sweep, corpus,
             testing): anything

Every import counts, at module level or inside a function, so a lazy import cannot hide an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FOLDERS = {"bench": "ttsbench", "systems": "ttsbench.systems", "metrics": "ttsbench.metrics",
           "reports": "ttsbench.reports"}
APP = ("ttsbench.cli", "ttsbench.__main__", "ttsbench.commands", "ttsbench.pipeline", "ttsbench.runner", "ttsbench.torchaudio_standin",
       "ttsbench.scoring", "ttsbench.sweep", "ttsbench.corpus", "ttsbench.testing", "ttsbench.launcher", "ttsbench.gpu_check")
CORE = ("ttsbench", "ttsbench.errors", "ttsbench.types", "ttsbench.registry", "ttsbench.plugins", "ttsbench.options",
        "ttsbench.configio", "ttsbench.audio", "ttsbench.store", "ttsbench.schema", "ttsbench.jsonfields",
        "ttsbench.spec", "ttsbench.prompt_sets", "ttsbench.console", "ttsbench.cli_options", "ttsbench.sentences",
        "ttsbench.paths", "ttsbench.locking", "ttsbench.shards")
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


def test_every_bench_module_has_a_layer():
    """A new module in bench/ is placed on purpose: in CORE (imported by everyone) or in APP."""
    unplaced = [m for m in map(module_name, sources()) if layer(m) == "core" and m not in CORE]
    assert not unplaced, f"add these to CORE or APP (and to docs/ARCHITECTURE.md): {unplaced}"


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


def lazy_imports_without_a_reason(path: Path) -> list[int]:
    """Line numbers of imports inside functions that carry no `# lazy: why` comment (on the import's
    line, or above it or above the run of imports it belongs to)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = []
    for fn in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or node is fn:
                continue
            i = node.lineno - 1
            while i > 0 and lines[i - 1].strip().startswith(("import ", "from ")):
                i -= 1  # the first import of a consecutive run
            if "# lazy:" not in lines[node.lineno - 1] and not lines[i - 1].strip().startswith("# lazy:"):
                bad.append(node.lineno)
    return sorted(set(bad))


def test_every_import_inside_a_function_says_why():
    """Imports sit at the top of a module; one kept inside a function (an optional backend, a slow
    library, the torch-free CLI start) says why in a `# lazy:` comment."""
    bad = {str(p.relative_to(ROOT)): lines for p in sources() if (lines := lazy_imports_without_a_reason(p))}
    assert not bad, f"imports inside functions without a '# lazy:' reason: {bad}"


def test_building_the_cli_parser_loads_no_torch_or_pandas():
    import subprocess
    import sys

    code = ("import sys, ttsbench.cli as c; c.build_parser(); "
            "print(','.join(m for m in ('torch', 'pandas', 'matplotlib', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
