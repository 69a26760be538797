"""`ttsbench compare RUN_A RUN_B`: paired bootstrap of B - A on the prompts both runs scored.

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
from typing import Any

import pandas as pd

from ttsbench.cli_options import add_format_option, add_json_alias
from ttsbench.store import RunRecord

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


def metric_rows(record: RunRecord, name: str) -> tuple[pd.DataFrame, str | None]:
    """The ok rows of `name` under the fingerprint the run's manifest records (else the latest one),
    one per utt_id (the index), with the stored statistics as columns."""
    rows = [r for r in record.scores if r.metric == name]
    entry = record.run.metrics.get(name)
    fp = entry.fingerprint_id if entry else None
    if fp is None and rows:
        fp = rows[-1].fingerprint_id
    ok = {r.utt_id: r.to_json() for r in rows if r.fingerprint_id == fp and r.ok}  # one per utt_id
    frame = pd.DataFrame(list(ok.values()))
    return (frame.set_index("utt_id") if ok else frame), fp


def compare_runs(run_a: Path, run_b: Path, metrics: list[str] | None = None, keys: list[str] | None = None,
                 **bootstrap: int) -> list[dict[str, Any]]:
    """One dict per (metric, key): values of A and B, B - A, its paired 95 % CI and p-value."""
    from ttsbench.errors import InputError
    from ttsbench.metrics.stats import frame_columns, paired_bootstrap
    from ttsbench.plugins import METRICS
    from ttsbench.store import load_run

    a, b = load_run(run_a), load_run(run_b)
    shared = sorted(set(a.run.metrics) & set(b.run.metrics))
    names = metrics or shared
    if not names:
        raise InputError(f"the runs share no metric ({run_a}, {run_b})")
    out = []
    for name in names:
        cls = METRICS.get(name)
        if not hasattr(cls, "statistics"):
            raise InputError(f"metric {name!r} declares no bootstrap statistics; it cannot be compared")
        rows_a, fp_a = metric_rows(a, name)
        rows_b, fp_b = metric_rows(b, name)
        common = rows_a.index.intersection(rows_b.index)
        if len(common) == 0:
            raise InputError(f"{name}: no utterance was scored in both runs")
        stats = cls.statistics()
        wanted = keys or [k for k, s in stats.items() if s.ci]
        for key in wanted:
            if key not in stats:
                raise InputError(f"{name}: unknown key {key!r}; known: {', '.join(stats)}")
            cols_a = frame_columns(rows_a.loc[common], {key: stats[key]})
            cols_b = frame_columns(rows_b.loc[common], {key: stats[key]})
            res = paired_bootstrap(cols_a, cols_b, stats[key], key, **bootstrap)
            out.append({"metric": name, **res.to_json(), "only_a": len(rows_a) - len(common),
                        "only_b": len(rows_b) - len(common), "same_recipe": fp_a == fp_b,
                        "higher_is_better": cls.higher_is_better})
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    # lazy: tabulate is only needed to print; the parser is built at every CLI start
    from ttsbench.reports.tabular import render_records, render_table

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
