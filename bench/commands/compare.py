"""`ttsbench compare RUN_A RUN_B`: paired bootstrap of B - A on the prompts both runs scored
(`ttsbench.reports.compare`).

For every metric both runs hold (or `--metric NAME`), the stored per-utterance rows of each run are
paired by utterance id and resampled together (the same utterances drawn for A and B), which gives
the 95 % CI of the difference and a two-sided bootstrap p-value. Values come from stored rows only;
nothing is re-scored. A metric whose recipe fingerprint differs between the runs is compared anyway
and flagged, since the difference then mixes the recipe change with the system change.

    ttsbench compare runs/demo/espeak-ng/<id> runs/demo/piper-joe/<id>
    ttsbench compare RUN_A RUN_B --metric wer-whisper-tiny-en --key wer_micro --format json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ttsbench.cli_options import add_format_option, add_json_alias

FORMATS = ("table", "md", "csv", "json", "latex", "html")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("compare", help="paired bootstrap CI of the difference between two runs",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_a", type=Path, help="baseline run directory (A)")
    p.add_argument("run_b", type=Path, help="run directory compared with it (B); differences are B - A")
    p.add_argument("--metric", action="append", help="metric name (repeatable; default: every shared metric)")
    p.add_argument("--key", action="append", help="aggregate key (repeatable; default: every key with a CI)")
    p.add_argument("--resamples", type=int, default=None, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0)")
    add_format_option(p, FORMATS, "table")
    add_json_alias(p)
    p.set_defaults(func=cmd_compare)
    return p


def cmd_compare(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    # lazy: the pipeline loads the plugins
    from ttsbench.pipeline import merge_pending
    from ttsbench.reports.compare import compare_runs
    from ttsbench.reports.tabular import render_records, render_table

    merge_pending([args.run_a, args.run_b])  # sharded runs: summarize the shards finished since the last merge
    extra = {k: v for k, v in (("resamples", args.resamples), ("seed", args.seed)) if v is not None}
    rows = compare_runs(args.run_a, args.run_b, args.metric, args.key, **extra)
    if args.format in ("json", "csv"):
        print(render_records(rows, args.format), end="")
        return 0
    title = [f"A = {args.run_a}", f"B = {args.run_b}",
             f"paired bootstrap over the utterances both runs scored ({extra.get('resamples', 1000)} resamples, "
             f"seed {extra.get('seed', 0)}, 95 % percentile CI)"]
    floor = 1 / extra.get("resamples", 1000)  # a bootstrap p-value cannot resolve below 1 / resamples
    body = []
    for r in rows:
        notes = [] if r["same_recipe"] else ["recipe fingerprints differ"]
        if r["only_a"] or r["only_b"]:
            notes.append(f"unpaired: {r['only_a']} A, {r['only_b']} B")
        body.append([r["metric"], r["key"], f"{r['value_a']:.3f}", f"{r['value_b']:.3f}", f"{r['diff']:+.3f}",
                     f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
                     f"<{floor:g}" if r["p_value"] < floor else f"{r['p_value']:.3f}", str(r["n"]), "; ".join(notes)])
    header = ["metric", "key", "A", "B", "B - A", "95 % CI", "p", "n", "note"]
    print(render_table(header, body, args.format, title=title), end="")
    return 0
