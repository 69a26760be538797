"""`ttsbench report`: comparison tables (Markdown, LaTeX, HTML, CSV) and a quality-vs-cost plot.

A pure function of stored results: it reads summary.json and run.json, never re-runs a scorer.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path

from ttsbench.cli_options import add_format_option
from ttsbench.errors import InputError

FORMATS = ("md", "latex", "html", "csv")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="comparison tables and a quality-vs-cost plot from stored runs",
                       description="Tables in the papers' layout (systems as rows; bold best, underlined "
                                   "second; fingerprints, CIs and n per row) from run directories.")
    p.add_argument("runs", nargs="*", type=Path, help="run directories or any parents of them")
    p.add_argument("--paper", action="append", default=[], metavar="TABLE",
                   help="add quoted (not measured) rows of a published table: ditar-table1-a, ditar-table1-b or "
                        "ditar-table1 (both subsets); repeatable")
    add_format_option(p, FORMATS, "md")
    p.add_argument("--out", type=Path, help="write report.md/.tex/.html/.csv and quality_vs_cost.png here")
    p.add_argument("--plot", type=Path, help="write the quality-vs-cost plot to this PNG")
    p.add_argument("--y", default="wer",
                   help="plot: quality column, a metric name or a label word (default wer)")
    p.add_argument("--x", choices=("tflops", "rtf"), help="plot: cost axis (default TFLOPs if any, else RTF)")
    p.add_argument("--key", action="append", default=[], metavar="METRIC=KEY",
                   help="show this aggregate key of a metric instead of its primary one; repeatable")
    p.add_argument("--reference", action="append", default=[], metavar="SYSTEM",
                   help="treat this system as a reference row (shown, never ranked); repeatable")
    p.set_defaults(func=cmd_report)
    return p


def _keys(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        metric, sep, key = item.partition("=")
        if not sep or not metric or not key:
            raise InputError(f"--key wants METRIC=KEY, got {item!r}")
        out[metric] = key
    return out


def cmd_report(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.reports.paper import paper_rows
    from ttsbench.reports.records import load_rows
    from ttsbench.reports.tables import build_table, to_csv, to_html, to_latex, to_markdown

    if not args.runs and not args.paper:
        raise InputError("give run directories and/or --paper NAME")
    if args.runs:
        # lazy: the pipeline loads the plugins
        from ttsbench.pipeline import merge_pending

        merge_pending(args.runs)  # sharded runs: summarize the shards finished since the last merge
    quoted = [row for name in args.paper for row in paper_rows(name)]  # a wrong name fails before any reading
    rows = (load_rows(args.runs, _keys(args.key), args.reference) if args.runs else []) + quoted
    df = build_table(rows)
    render = {"md": to_markdown, "latex": to_latex, "html": to_html, "csv": to_csv}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for fmt, suffix in (("md", "md"), ("latex", "tex"), ("csv", "csv")):
            (args.out / f"report.{suffix}").write_text(render[fmt](df), encoding="utf-8")
        plot = _plot(df, args, args.out / "quality_vs_cost.png")
        (args.out / "report.html").write_text(_page(to_html(df), plot), encoding="utf-8")
    if args.plot:
        _plot(df, args, args.plot, required=True)
    print(render[args.format](df), end="")
    return 0


def _plot(df, args: argparse.Namespace, path: Path, required: bool = False) -> Path | None:  # noqa: ANN001
    """Save the plot; with --out only, a table without a cost or quality column simply has no plot."""
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.reports.plots import quality_vs_cost

    try:
        fig = quality_vs_cost(df, y=args.y, x=args.x)
    except InputError:
        if required:
            raise
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    return path


def _page(table: str, plot: Path | None) -> str:
    img = f'<p><img src="{html.escape(plot.name, quote=True)}" alt="quality vs cost"></p>\n' if plot else ""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>ttsbench report</title>\n'
            "<style>table{border-collapse:collapse}"
            "td,th{padding:2px 8px;border-bottom:1px solid #ddd}</style>\n"
            f"</head>\n<body>\n{table}{img}</body>\n</html>\n")
