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
import re
import sys
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


def base_spec(args: argparse.Namespace) -> Any:  # a RunSpec
    """The RunSpec of the sweep without `layers`; a non-DiSTAR system or a given layers= is one error."""
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.commands.run import spec_from_args
    from ttsbench.pipeline import check_options
    from ttsbench.plugins import SYSTEMS
    from ttsbench.spec import override, parse_metrics
    from ttsbench.sweep import takes_layers

    spec = spec_from_args(argparse.Namespace(**{**vars(args), "spec": None}))
    if not takes_layers(SYSTEMS.get(spec.system.name)):
        raise InputError(f"system {spec.system.name!r} is not a DiSTAR system (no RVQ `layers` option); "
                         f"bitrate sweeps: {', '.join(SYSTEMS.names('distar*'))}")
    if "layers" in spec.system.options:
        raise InputError(f"--system {args.system!r} sets layers=; the sweep sets it per run: use --layers")
    if not spec.metrics:
        # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
        from ttsbench.prompt_sets import resolve_definition

        spec = override(spec, metrics=parse_metrics(",".join(resolve_definition(spec.prompt_set).default_metrics)))
    check_options(spec)  # before J is looked up (which reads the prompt set, or loads the system)
    return spec


def cmd_bitrate(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.reports.bitrate import collect, render
    from ttsbench.sweep import num_layers, report_dir, run_info, sweep, write_report

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
