"""`ttsbench compare A B`: paired bootstrap of B - A on the prompts both systems attempted
(`ttsbench.reports.compare`).

For every metric both sides hold (or `--metric NAME`), the stored per-utterance rows are paired by
utterance id and resampled together (the same utterances drawn for A and B), which gives the 95 %
CI of the difference and a two-sided bootstrap p-value. Values come from stored rows only; nothing
is re-scored. A metric whose recipe fingerprint differs between the runs is compared anyway and
flagged, since the difference then mixes the recipe change with the system change.

Failed utterances (synthesis or scoring failed) count as the worst value of their metric by default
(WER 100 %, SIM 0, MOS 1), and the count imputed per side is printed; `--failed drop` leaves them
out instead, which compares a system that fails on hard prompts on the easier remainder.

Each side is a run directory or a folder holding one system's runs that differ only in their seed
(F5-TTS averages three): a side's value is the mean over its seeds, and the bootstrap resamples
utterances and seeds. To list a side's runs one by one, give side A's runs, then --vs and side B's.

    ttsbench compare runs/demo/espeak-ng/<id> runs/demo/piper-joe/<id>
    ttsbench compare runs/ls/f5tts runs/ls/ditar            (each folder: that system's seeds)
    ttsbench compare RUN_A1 RUN_A2 RUN_A3 --vs RUN_B1 RUN_B2 RUN_B3 --metric f5-en --key wer_macro
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ttsbench.cli_options import add_format_option, add_json_alias
from ttsbench.errors import InputError, TTSBenchWarning

FORMATS = ("table", "md", "csv", "json", "latex", "html")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("compare", help="paired bootstrap CI of the difference between two systems' runs",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                   help="A then B (each a run directory or a folder of one system's seeds); with --vs, "
                        "every RUN is side A")
    p.add_argument("--vs", nargs="+", type=Path, metavar="RUN", help="side B's runs (differences are B - A)")
    p.add_argument("--metric", action="append", help="metric name (repeatable; default: every shared metric)")
    p.add_argument("--key", action="append", help="aggregate key (repeatable; default: every key with a CI)")
    p.add_argument("--failed", choices=("worst", "drop"), default="worst",
                   help="a failed utterance counts as the worst value of its metric (default), or is "
                        "left out of the pairing (drop)")
    p.add_argument("--resamples", type=int, default=None, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0)")
    add_format_option(p, FORMATS, "table")
    add_json_alias(p)
    p.set_defaults(func=cmd_compare)
    return p


def _sides(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    if args.vs:
        return list(args.runs), list(args.vs)
    if len(args.runs) != 2:
        raise InputError(f"compare takes two runs (A B), or A's runs then --vs and B's runs; got {len(args.runs)}")
    return [args.runs[0]], [args.runs[1]]


def cmd_compare(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.pipeline import merge_pending
    from ttsbench.reports.compare import compare_sides, load_side
    from ttsbench.reports.tabular import render_records, render_table

    paths_a, paths_b = _sides(args)
    merge_pending([*paths_a, *paths_b])  # sharded runs: summarize the shards finished since the last merge
    side_a, side_b = load_side(paths_a, "A"), load_side(paths_b, "B")
    extra = {k: v for k, v in (("resamples", args.resamples), ("seed", args.seed)) if v is not None}
    rows = compare_sides(side_a, side_b, args.metric, args.key, args.failed, **extra)
    if args.failed == "drop":
        dropped = {(r["metric"], r["dropped_a"], r["dropped_b"]) for r in rows}
        warnings.warn("--failed drop: utterances that failed in either system are left out ("
                      + "; ".join(f"{m}: {a} failed in A, {b} in B" for m, a, b in sorted(dropped))
                      + "), so each system is compared only on what both managed", TTSBenchWarning, stacklevel=1)
    if args.format in ("json", "csv"):
        print(render_records(rows, args.format), end="")
        return 0
    header = ["metric", "key", "A", "B", "B - A", "95 % CI", "p", "n", "note"]
    body = [_line(r, extra.get("resamples", 1000)) for r in rows]
    print(render_table(header, body, args.format, title=_title(side_a, side_b, args.failed, extra),
                       notes=_failure_notes(rows)), end="")
    return 0


def _side_text(records: tuple, label: str) -> str:
    if len(records) == 1:
        return f"{label} = {records[0].path}"
    seeds = ", ".join(str(s) for s in (r.run.spec.seed if r.run.spec else None for r in records))
    return f"{label} = {records[0].system_name}: {len(records)} runs (seeds {seeds}), under {records[0].path.parent}"


def _title(side_a: tuple, side_b: tuple, failed: str, extra: dict) -> list[str]:
    seeds = " and seeds" if len(side_a) > 1 or len(side_b) > 1 else ""
    policy = ("failed utterances count as the worst value of their metric (WER 100 %, SIM 0, MOS 1)"
              if failed == "worst" else "failed utterances left out (--failed drop)")
    method = (f"paired bootstrap over the utterances both attempted{seeds} ({extra.get('resamples', 1000)} "
              f"resamples, seed {extra.get('seed', 0)}, 95 % percentile CI); {policy}")
    return [_side_text(side_a, "A"), _side_text(side_b, "B"), method]


def _line(r: dict, resamples: int) -> list[str]:
    floor = 1 / resamples  # a bootstrap p-value cannot resolve below 1 / resamples
    notes = [] if r["same_recipe"] else ["recipe fingerprints differ"]
    if r["failed"] == "worst" and (r["imputed_a"] or r["imputed_b"]):
        notes.append(f"imputed as worst: {r['imputed_a']} A, {r['imputed_b']} B")
    if r["dropped_a"] or r["dropped_b"]:
        notes.append(f"failed, left out: {r['dropped_a']} A, {r['dropped_b']} B")
    if r["left_out"]:
        notes.append(f"{r['left_out']} failed everywhere, no reference length: left out")
    if r["only_a"] or r["only_b"]:
        notes.append(f"unpaired: {r['only_a']} A, {r['only_b']} B")
    p = r["p_value"]
    return [r["metric"], r["key"], f"{r['value_a']:.3f}", f"{r['value_b']:.3f}", f"{r['diff']:+.3f}",
            f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]", f"<{floor:g}" if p < floor else f"{p:.3f}",
            str(r["n"]), "; ".join(notes)]


def _failure_notes(rows: list[dict]) -> list[str]:
    """One line per metric: how many failed utterances each side had and what became of them."""
    seen: dict[str, str] = {}
    for r in rows:
        if r["metric"] in seen:
            continue
        if r["failed"] == "worst":
            seen[r["metric"]] = (f"{r['metric']}: imputed as the worst value: {r['imputed_a']} in A, "
                                 f"{r['imputed_b']} in B (utterance x run)")
        else:
            seen[r["metric"]] = (f"{r['metric']}: left out as failed: {r['dropped_a']} in A, {r['dropped_b']} in B")
    return list(seen.values())
