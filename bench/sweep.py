"""DiSTAR's bitrate sweep: one ordinary, resumable run per L' (RVQ layers), and the sweep's report.

`ttsbench bitrate` parses its arguments and calls these. Each L' is the base system spec plus
`layers=L'`, so every run is readable by `ttsbench report` and `ttsbench check`, and a re-run
resumes; the sweep table (bitrate.csv, .md, .json) and figure (bitrate.png) go to
`<out>/bitrate/<system>-<hash of the base spec>/` (`report_dir`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError
from ttsbench.pipeline import run
from ttsbench.plugins import SYSTEMS
from ttsbench.reports.bitrate import BitrateTable, figure, render
from ttsbench.runner import load_context, prepare, run_paths
from ttsbench.schema import SystemEntry
from ttsbench.spec import RunSpec
from ttsbench.store import read_manifest
from ttsbench.types import SystemSpec


def takes_layers(system_cls: Any) -> bool:
    """Whether a system class declares an RVQ `layers` option (DiSTAR's L', what a sweep varies)."""
    return "layers" in getattr(getattr(system_cls, "Options", None), "__dataclass_fields__", {})


def with_layers(spec: RunSpec, layers: int) -> RunSpec:
    """The run spec of one L': the base system spec plus `layers=L'`."""
    system = SystemSpec(spec.system.name, {**spec.system.options, "layers": layers}, spec.system.checkpoint)
    return replace(spec, system=system)


def num_layers(spec: RunSpec, candidates: list[int]) -> int:
    """J: from a finished run of this sweep (no load), else by loading the system once on the CPU."""
    pset = prepare(spec)[0]  # the prompt set is read once; each L' only changes the run id
    for layers in [*candidates, 1]:
        manifest = run_paths(with_layers(spec, layers), pset).manifest
        entry = read_manifest(manifest).system if manifest.is_file() else None
        j = entry.detail("model_config", "num_layers") if entry else None
        if isinstance(j, int) and j >= 1:
            return j
    system = SYSTEMS.get(spec.system.name).load(spec.system, replace(load_context(spec), device="cpu"))
    info = system.describe()
    del system
    if "layers" not in info:
        raise InputError(f"system {spec.system.name!r} does not describe RVQ `layers`: not a DiSTAR system")
    return int(SystemEntry(describe=info).detail("model_config", "num_layers") or info["layers"])


def report_dir(spec: RunSpec) -> Path:
    """<out>/bitrate/<system>-<8 hex of the base spec (system, prompt set, seed)>/ (hash keys frozen)."""
    key = json.dumps({"system": spec.system.to_json(), "testset": spec.prompt_set, "seed": spec.seed}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return Path(spec.out) / "bitrate" / f"{spec.system.name.replace('/', '_')}-{digest}"


def sweep(spec: RunSpec, layers: list[int], *, progress: bool = True) -> dict[int, Path]:
    """One resumable `ttsbench.pipeline.run` per L'; returns the run directory of each."""
    roots = {}
    for i, L in enumerate(layers, 1):
        if progress:
            print(f"bitrate: L' = {L} ({i} of {len(layers)})", file=sys.stderr)
        roots[L] = run(with_layers(spec, L), progress=progress)
    return roots


def run_info(spec: RunSpec, roots: dict[int, Path]) -> dict[str, Any]:
    """What bitrate.json adds to the table: the base spec and the run directory of each L'."""
    return {"base_spec": spec.to_json(), "run_dirs": {str(k): str(v) for k, v in sorted(roots.items())}}


def write_report(folder: Path, table: BitrateTable, extra: dict[str, Any]) -> dict[str, Path]:
    """bitrate.csv, .md, .json (with `extra`) and .png in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {ext: folder / f"bitrate.{ext}" for ext in ("csv", "md", "json", "png")}
    for fmt in ("csv", "md", "json"):
        paths[fmt].write_text(render(table, fmt, extra), encoding="utf-8")
    figure(table).savefig(paths["png"], dpi=150)
    return paths
