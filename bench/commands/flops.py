"""`ttsbench flops`: analytic FLOPs per utterance (DiTAR paper, Appendix A.4) beside Table 1.

    ttsbench flops                                  all nine Table 1 systems, the paper's setup
    ttsbench flops --system ditar-0.6b --nfe 10     one system, 10 LocDiT calls per patch
    ttsbench flops --target-seconds 20 --format json
    ttsbench flops --system ditar-0.6b --system 'distar-*' --breakdown   DiSTAR beside DiTAR
    ttsbench flops --system distar-base --layers 4                    DiSTAR with L' = 4 RVQ layers
    ttsbench flops --system 'distar-*' --layers 9     skips distar-tiny (J = 4) with a note on stderr
"""

from __future__ import annotations

import argparse
import sys

from ttsbench.cli_options import add_format_option

FORMATS = ("table", "md", "csv", "json", "latex", "html")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("flops", help="analytic FLOPs per utterance (DiTAR A.4) beside the paper's Table 1",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", action="append", metavar="NAME",
                   help="an architecture name or pattern ('ditar-*', '*': all; `ttsbench list archs`); "
                        "repeatable; default: Table 1's nine. A pattern skips (with a note on stderr) the "
                        "DiSTAR specs with fewer RVQ layers than --layers")
    p.add_argument("--prompt-seconds", type=float, default=3.0, help="speech prompt length (default 3)")
    p.add_argument("--target-seconds", type=float, default=10.0, help="generated speech (default 10)")
    p.add_argument("--text-rate", type=float, default=7.0, help="text tokens per second (default 7)")
    p.add_argument("--nfe", type=int, help="network calls per diffusion solve (default: each system's own)")
    p.add_argument("--no-cfg", action="store_true", help="count without classifier-free guidance")
    p.add_argument("--patch-size", type=int,
                   help="DiTAR / DiSTAR patch size P (default: the spec's; DiTAR 4, DiSTAR 8)")
    p.add_argument("--history", type=int, help="DiTAR / DiSTAR historical patches (default: the spec's, 1)")
    p.add_argument("--layers", type=int, metavar="L",
                   help="active RVQ layers L' for DiSTAR specs (default: all J; other systems ignore it)")
    p.add_argument("--exact-ffn", action="store_true",
                   help="count the third matrix of gated (SwiGLU) FFNs; A.4 counts two")
    p.add_argument("--breakdown", action="store_true", help="one line per counted network")
    p.add_argument("--counted", action="store_true",
                   help="also count our own models (ditar-<size>, nar-dit-<size>, distar-*) with torch's "
                        "FlopCounterMode on the meta device; projections and time MLPs A.4 leaves out make it "
                        "slightly higher")
    add_format_option(p, FORMATS, "table")
    p.set_defaults(func=cmd_flops)
    return p


def setup_from_args(args: argparse.Namespace):  # noqa: ANN201 - CostSetup, imported lazily
    # lazy: the cost layer imports torch; `ttsbench --help` must not
    from ttsbench.metrics.cost import CostSetup

    return CostSetup(prompt_seconds=args.prompt_seconds, target_seconds=args.target_seconds,
                     text_rate=args.text_rate, nfe=args.nfe, guidance=False if args.no_cfg else None,
                     patch_size=args.patch_size, history=args.history, exact_ffn=args.exact_ffn,
                     layers=args.layers)


def cmd_flops(args: argparse.Namespace) -> int:
    # lazy: the cost layer and the registries import torch and every model; `ttsbench --help` must not
    from ttsbench.metrics.cost.table import flops_display, flops_rows, select_specs
    from ttsbench.reports.tabular import render_records, render_table

    setup = setup_from_args(args)
    specs, skipped = select_specs(args.system, setup)
    for note in skipped:  # systems a pattern reached that --layers cannot count
        print(f"ttsbench flops: skipped {note}", file=sys.stderr)
    rows = flops_rows(specs, setup, counted=args.counted)
    if args.format in ("json", "csv"):
        print(render_records(rows, args.format), end="")
        return 0
    title, header, body, notes = flops_display(rows, setup, show_blocks=args.breakdown)
    print(render_table(header, body, args.format, title=title, notes=notes), end="")
    return 0
