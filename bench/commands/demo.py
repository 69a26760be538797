"""`ttsbench demo`: the main job on the embedded defaults, offline, on CPU.

Runs every default system of the embedded `demo` prompt set (real LibriVox speech) with its
default offline metrics, then renders the comparison table (stdout) and the report folder
(`<out>/report/index.html`: the table with significance against the ground truth, a listening page,
plots).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("demo", help="run the embedded demo (offline systems and metrics) and render a report")
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="where runs and the report go")
    p.add_argument("--systems", help="comma-separated systems (default: the demo set's defaults)")
    p.add_argument("--metrics", help="comma-separated metric recipes (default: the demo set's defaults)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)
    return p


def cmd_demo(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.cli import main
    from ttsbench.commands.run import print_summary
    from ttsbench.pipeline import check_options, run
    from ttsbench.prompt_sets import resolve_definition
    from ttsbench.spec import RunSpec, parse_metrics
    from ttsbench.types import SystemSpec

    definition = resolve_definition("demo")
    systems = args.systems.split(",") if args.systems else list(definition.default_systems)
    metrics = parse_metrics(args.metrics) if args.metrics else parse_metrics(",".join(definition.default_metrics))
    specs = [RunSpec(system=SystemSpec.parse(name), prompt_set="demo", metrics=metrics, seed=args.seed,
                     limit=args.limit, out=args.out) for name in systems]
    for spec in specs:  # every system's options, before the first one runs
        check_options(spec)
    roots, codes = [], []
    for spec in specs:
        roots.append(run(spec, progress=not args.quiet))
        codes.append(print_summary(roots[-1]))
        print()
    report_dir = args.out / "report"
    reference = ["--reference", "ground-truth"] if "ground-truth" in systems else []
    code = main(["report", *map(str, roots), "--out", str(report_dir), *reference])
    if code == 0:
        print(f"\nReport: open {report_dir / 'index.html'} (listening page: "
              f"{report_dir / 'listen-demo.html'})")
    return code or max(codes)  # 1 when a system's run scored nothing
