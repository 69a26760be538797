"""`ttsbench bitrate`: sweep the RVQ layers L' of a DiSTAR system; quality, kbps and TFLOPs per L'.

    ttsbench bitrate --system distar-base:checkpoint=ckpt/ --prompt-set seedtts-en --metrics seedtts-en
    ttsbench bitrate --system distar-tiny --prompt-set demo --metrics duration --layers 1,2,4 --limit 2

Each L' is one ordinary run directory (the system spec plus `layers=L'`), so a re-run resumes and
never redoes finished work, and every run is readable by `ttsbench report` and `ttsbench check`.
The sweep table (bitrate.csv, .md, .json) and figure (bitrate.png) go to
`<out>/bitrate/<system>-<hash of the base spec>/` unless --report names another folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ttsbench.cli_options import add_format_option, add_prompt_set_option, add_run_options
from ttsbench.errors import InputError

FORMATS = ("table", "md", "csv", "json", "latex", "html")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("bitrate", help="sweep a DiSTAR system's RVQ layers L': quality, kbps and TFLOPs per L'",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", required=True,
                   help="a DiSTAR system NAME[:key=value,...] without layers=, e.g. distar-base:checkpoint=PATH")
    add_prompt_set_option(p, required=True)
    p.add_argument("--metrics", help="comma-separated recipes (default: the prompt set's defaults)")
    p.add_argument("--layers", help="L' values: a range 1-9, a list 1,3,9, or both 1-3,9 (default 1..J)")
    add_run_options(p)
    p.add_argument("--seed", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--report", type=Path, help="folder of the sweep's table and figure "
                                               "(default <out>/bitrate/<system>-<spec hash>/)")
    add_format_option(p, FORMATS, "table")
    p.set_defaults(func=cmd_bitrate)
    return p


def parse_layers(text: str) -> list[int]:
    """'1-9' | '1,3,9' | '1-3,9' -> sorted unique L' values (each >= 1); anything else is one error."""
    out: set[int] = set()
    for part in text.split(","):
        m = _RANGE.match(part)
        if not m:
            raise InputError(f"--layers {text!r}: {part.strip()!r} is not a number or a range A-B; "
                             "use e.g. 1-9, 1,3,9 or 1-3,9")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if lo < 1 or hi < lo:
            raise InputError(f"--layers {text!r}: {part.strip()!r} is not a range of L' >= 1 (A-B with 1 <= A <= B)")
        out.update(range(lo, hi + 1))
    return sorted(out)


def with_layers(spec: Any, layers: int) -> Any:
    """The run spec of one L': the base system spec plus `layers=L'`."""
    from ttsbench.types import SystemSpec

    system = SystemSpec(spec.system.name, {**spec.system.options, "layers": layers}, spec.system.checkpoint)
    return replace(spec, system=system)


def base_spec(args: argparse.Namespace) -> Any:
    """The RunSpec of the sweep without `layers`; a non-DiSTAR system or a given layers= is one error."""
    from ttsbench.commands.run import spec_from_args
    from ttsbench.pipeline import check_options
    from ttsbench.plugins import SYSTEMS
    from ttsbench.spec import override, parse_metrics
    from ttsbench.systems.distar.system import DiSTARSystem

    spec = spec_from_args(argparse.Namespace(**{**vars(args), "spec": None}))
    cls = SYSTEMS.get(spec.system.name)
    if not (isinstance(cls, type) and issubclass(cls, DiSTARSystem)):
        raise InputError(f"system {spec.system.name!r} is not a DiSTAR system (no RVQ `layers` option); "
                         f"bitrate sweeps: {', '.join(SYSTEMS.names('distar*'))}")
    if "layers" in spec.system.options:
        raise InputError(f"--system {args.system!r} sets layers=; the sweep sets it per run: use --layers")
    if not spec.metrics:
        from ttsbench.prompt_sets import resolve_definition

        spec = override(spec, metrics=parse_metrics(",".join(resolve_definition(spec.prompt_set).default_metrics)))
    check_options(spec)  # before J is looked up (which reads the prompt set, or loads the system)
    return spec


def num_layers(spec: Any, candidates: list[int]) -> int:
    """J: from a finished run of this sweep (no load), else by loading the system once on the CPU."""
    from ttsbench.runner import load_context, prepare, run_paths
    from ttsbench.schema import SystemEntry
    from ttsbench.store import read_manifest

    pset = prepare(spec)[0]  # the prompt set is read once; each L' only changes the run id
    for layers in [*candidates, 1]:
        manifest = run_paths(with_layers(spec, layers), pset).manifest
        entry = read_manifest(manifest).system if manifest.is_file() else None
        j = entry.detail("model_config", "num_layers") if entry else None
        if isinstance(j, int) and j >= 1:
            return j
    from ttsbench.plugins import SYSTEMS

    system = SYSTEMS.get(spec.system.name).load(spec.system, replace(load_context(spec), device="cpu"))
    info = system.describe()
    del system
    if "layers" not in info:
        raise InputError(f"system {spec.system.name!r} does not describe RVQ `layers`: not a DiSTAR system")
    return int(SystemEntry(describe=info).detail("model_config", "num_layers") or info["layers"])


def report_dir(spec: Any) -> Path:
    """<out>/bitrate/<system>-<8 hex of the base spec (system, prompt set, seed)>/ (hash keys frozen)."""
    key = json.dumps({"system": spec.system.to_json(), "testset": spec.prompt_set, "seed": spec.seed}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return Path(spec.out) / "bitrate" / f"{spec.system.name.replace('/', '_')}-{digest}"


def sweep(spec: Any, layers: list[int], *, progress: bool = True) -> dict[int, Path]:
    """One resumable `ttsbench.pipeline.run` per L'; returns the run directory of each."""
    from ttsbench.pipeline import run

    roots = {}
    for i, L in enumerate(layers, 1):
        if progress:
            print(f"bitrate: L' = {L} ({i} of {len(layers)})", file=sys.stderr)
        roots[L] = run(with_layers(spec, L), progress=progress)
    return roots


def run_info(spec: Any, roots: dict[int, Path]) -> dict[str, Any]:
    """What bitrate.json adds to the table: the base spec and the run directory of each L'."""
    return {"base_spec": spec.to_json(), "run_dirs": {str(k): str(v) for k, v in sorted(roots.items())}}


def write_report(folder: Path, table: Any, extra: dict[str, Any]) -> dict[str, Path]:
    """bitrate.csv, .md, .json (with `extra`) and .png in `folder`."""
    from ttsbench.reports.bitrate import figure, render

    folder.mkdir(parents=True, exist_ok=True)
    paths = {ext: folder / f"bitrate.{ext}" for ext in ("csv", "md", "json", "png")}
    for fmt in ("csv", "md", "json"):
        paths[fmt].write_text(render(table, fmt, extra), encoding="utf-8")
    figure(table).savefig(paths["png"], dpi=150)
    return paths


def cmd_bitrate(args: argparse.Namespace) -> int:
    from ttsbench.reports.bitrate import collect, render

    spec = base_spec(args)
    wanted = parse_layers(args.layers) if args.layers is not None else []
    j = num_layers(spec, wanted)
    bad = [L for L in wanted if L > j]
    if bad:
        raise InputError(f"--layers {args.layers!r}: L' = {', '.join(map(str, bad))} outside 1..{j} "
                         f"({spec.system.name} has J = {j} RVQ layers)")
    layers = wanted or list(range(1, j + 1))
    roots = sweep(spec, layers, progress=not args.quiet)
    table = collect(list(roots.values()))
    folder = args.report or report_dir(spec)
    extra = run_info(spec, roots)
    write_report(folder, table, extra)
    print(render(table, args.format, extra), end="")
    if not args.quiet:
        print(f"bitrate report: {folder}", file=sys.stderr)
    return 0
