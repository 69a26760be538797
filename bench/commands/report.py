"""`ttsbench report`: the report a researcher reads, from stored runs.

Tables in the papers' layout (Markdown, LaTeX, HTML, CSV) on stdout; with `--out DIR` a folder that
opens from `file://` or any static server: `index.html` (the table, significance against
`--reference`, plots), one listening page per prompt set (`listen-<set>.html`: every prompt, ground
truth and output, transcripts diffed against the reference text, sort and filter), the plots as SVG
and PNG (`ttsbench.reports.site`). A pure function of stored results: nothing is re-scored.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ttsbench.cli_options import add_format_option
from ttsbench.errors import InputError, TTSBenchWarning

FORMATS = ("md", "latex", "html", "csv")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="tables, listening pages, significance and plots from stored runs",
                       description="Tables in the papers' layout (systems as rows; bold best, underlined "
                                   "second; fingerprints, CIs and n per row) from run directories; with --out, "
                                   "a folder with index.html, a listening page per prompt set and the plots.")
    p.add_argument("runs", nargs="*", type=Path, help="run directories or any parents of them")
    p.add_argument("--paper", action="append", default=[], metavar="TABLE",
                   help="add quoted (not measured) rows of a published table: ditar-table1-a, ditar-table1-b or "
                        "ditar-table1 (both subsets); grow-table1 (GROW's WER/SIM on LS-PC, Seed-TTS en/zh; "
                        "-ls, -seedtts for parts); repeatable")
    add_format_option(p, FORMATS, "md")
    p.add_argument("--out", type=Path, help="write the report folder here (open index.html)")
    p.add_argument("--plot", type=Path, help="write the quality-vs-cost plot to this PNG")
    p.add_argument("--y", default="wer",
                   help="plot: quality column, a metric name or a label word (default wer)")
    p.add_argument("--x", choices=("tflops", "rtf"), help="plot: cost axis (default TFLOPs if any, else RTF)")
    p.add_argument("--key", action="append", default=[], metavar="METRIC=KEY",
                   help="show this aggregate key of a metric instead of its primary one; repeatable")
    p.add_argument("--reference", action="append", default=[], metavar="SYSTEM",
                   help="a reference row (shown, never ranked); the first one given is also the system every "
                        "other is tested against: cells that differ significantly are marked (paired "
                        "bootstrap, failure policy of `compare`); repeatable")
    p.add_argument("--failed", choices=("worst", "drop"), default="worst",
                   help="significance: a failed utterance counts as the worst value of its metric (default), "
                        "or is left out (drop), as in `ttsbench compare`")
    p.add_argument("--per-seed", action="store_true",
                   help="one row per run; by default runs that differ only in their seed make one row (the mean "
                        "over seeds, CI over utterances and seeds)")
    p.add_argument("--copy-audio", nargs="?", const="wav", choices=("wav", "flac", "copy"), default=None,
                   help="with --out: copy every file the listening pages play into DIR/audio, as 16-bit WAV "
                        "(the default), 16-bit FLAC, or as it is (copy), so the folder can be zipped and shared; "
                        "without it the pages link into the run directories")
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
    from ttsbench.reports.records import load_records
    from ttsbench.reports.site import ReportOptions, build_report, write_report
    from ttsbench.reports.tables import to_csv, to_html, to_latex, to_markdown

    if not args.runs and not args.paper:
        raise InputError("give run directories and/or --paper NAME")
    if args.copy_audio and not args.out:
        raise InputError("--copy-audio copies audio into the report folder: give --out DIR")
    if args.runs:
        # lazy: the pipeline loads the plugins
        from ttsbench.pipeline import merge_pending

        merge_pending(args.runs)  # sharded runs: summarize the shards finished since the last merge
    quoted = [row for name in args.paper for row in paper_rows(name)]  # a wrong name fails before any reading
    records = load_records(args.runs) if args.runs else []
    options = ReportOptions(keys=_keys(args.key), references=tuple(args.reference), failed=args.failed,
                            per_seed=args.per_seed, copy_audio=args.copy_audio, y=args.y, x=args.x)
    if args.out:
        report = write_report(args.out, records, quoted, options)
    else:
        report, _ = build_report(records, quoted, options)
    for note in report.notes:  # e.g. a --reference that has no run on some prompt set
        warnings.warn(note, TTSBenchWarning, stacklevel=1)
    df = report.table
    if args.plot:
        _plot(df, args, args.plot)
    render = {"md": to_markdown, "latex": to_latex, "html": to_html, "csv": to_csv}
    print(render[args.format](df), end="")
    return 0


def _plot(df, args: argparse.Namespace, path: Path) -> None:  # noqa: ANN001
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.reports.plots import quality_vs_cost

    fig = quality_vs_cost(df, y=args.y, x=args.x)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
