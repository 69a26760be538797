"""Significance against a reference system: which table cells differ from the reference for real.

`ttsbench report --reference SYSTEM` compares, on each prompt set, every other measured system with
the reference run(s) there: per metric column, the paired bootstrap of `ttsbench compare` over the
utterances both attempted, with its failure policy (a failed utterance counts as the worst value of
its metric by default) and several seeds per side where a row merges them. A cell is marked ▲
(significantly better than the reference) or ▼ (significantly worse) when the two-sided p-value is
below `ALPHA`; every compared cell carries the difference, its 95 % CI and p on hover, and the
index page lists them all in a second table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ttsbench.errors import TTSBenchError, UnknownNameError
from ttsbench.plugins import METRICS
from ttsbench.reports.compare import compare_sides
from ttsbench.store import RunRecord

ALPHA = 0.05
BETTER, WORSE, SAME = "better", "worse", "same"  # the marks are drawn by ttsbench.reports.render


def _key(records: Sequence[RunRecord], name: str, keys: Mapping[str, str]) -> str | None:
    if name in keys:
        return keys[name]
    summary = records[0].summary.metrics.get(name) if records[0].summary else None
    entry = records[0].run.metrics.get(name)
    return summary.primary_key if summary else (entry.primary if entry else None)


def significance(groups: Sequence[tuple[RunRecord, ...]], reference: str, keys: Mapping[str, str] | None = None,
                 failed: str = "worst") -> tuple[list[dict[str, Any]], list[str]]:
    """(one result per compared cell, notes on what could not be compared).

    Each result is a `compare_sides` row plus `prompt_set`, `system`, `reference`, `run_id` (the
    compared row's, as in the table frame) and `verdict` (better / worse / same).
    """
    keys = keys or {}
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    by_set: dict[str, list[tuple[RunRecord, ...]]] = {}
    for g in groups:
        by_set.setdefault(g[0].prompt_set_name or "?", []).append(g)
    for prompt_set, members in by_set.items():
        refs = [g for g in members if g[0].system_name == reference]
        if not refs:
            notes.append(f"no run of the reference {reference!r} on {prompt_set}: nothing marked there")
            continue
        if len(refs) > 1:
            notes.append(f"{len(refs)} setups of {reference!r} on {prompt_set}; significance is against the "
                         f"first ({refs[0][0].path})")
        ref = refs[0]
        for g in members:
            if g is ref:
                continue
            results.extend(_compare(ref, g, prompt_set, reference, keys, failed, notes))
    return results, notes


def _compare(ref: tuple[RunRecord, ...], other: tuple[RunRecord, ...], prompt_set: str, reference: str,
             keys: Mapping[str, str], failed: str, notes: list[str]) -> list[dict[str, Any]]:
    out = []
    system = other[0].system_name or "?"
    for name in other[0].run.metrics:
        if name not in ref[0].run.metrics:
            continue
        try:
            cls = METRICS.get(name)
        except UnknownNameError:
            continue
        key = _key(other, name, keys)
        if not hasattr(cls, "statistics") or key not in cls.statistics():
            continue  # a descriptive number (duration) or a key without a per-utterance statistic
        try:
            rows = compare_sides(ref, other, [name], [key], failed)
        except TTSBenchError as err:
            notes.append(f"{system} vs {reference} on {prompt_set}, {name}: not compared ({err})")
            continue
        for r in rows:
            out.append({"prompt_set": prompt_set, "system": system, "reference": reference,
                        "run_id": ",".join(rec.run_id for rec in other), **r, "verdict": verdict(r)})
    return out


def verdict(result: Mapping[str, Any]) -> str:
    """better / worse (than the reference) when p < ALPHA in the metric's direction, else same."""
    p, diff, hib = result["p_value"], result["diff"], result["higher_is_better"]
    if hib is None or math.isnan(p) or p >= ALPHA or diff == 0:  # NaN: fewer than 2 utterances
        return SAME
    return BETTER if (diff > 0) == bool(hib) else WORSE


def tip(result: Mapping[str, Any], decimals: int = 3) -> str:
    """One line for a cell's hover: the difference from the reference, its CI, p and what was paired."""
    d = decimals
    policy = ("failed utterances as worst: " f"{result['imputed_b']} here, {result['imputed_a']} reference"
              if result["failed"] == "worst" else f"failed left out: {result['dropped_b']} here, "
              f"{result['dropped_a']} reference")
    return (f"vs {result['reference']}: {result['diff']:+.{d}f} [{result['ci_low']:.{d}f}, {result['ci_high']:.{d}f}], "
            f"p {'< 0.001' if result['p_value'] < 0.001 else '= ' + format(result['p_value'], '.3g')}, "
            f"n = {result['n']} ({policy})")


def add_significance(df: pd.DataFrame, results: Sequence[Mapping[str, Any]], reference: str,
                     failed: str = "worst") -> pd.DataFrame:
    """The table frame with `<column>_sig` (better / worse / same) and `<column>_sig_tip` (the hover
    line) for every compared cell; `df.attrs["significance"]` says against what and how."""
    out = df.copy()
    out.attrs = dict(df.attrs)
    for r in results:
        col = r["metric"]
        if col not in out.columns:
            continue
        for suffix in ("_sig", "_sig_tip"):
            if f"{col}{suffix}" not in out.columns:
                out[f"{col}{suffix}"] = None
        hit = out.index[(out["run_id"] == r["run_id"]) & (out["prompt_set"] == r["prompt_set"])]
        for i in hit:
            out.at[i, f"{col}_sig"] = r["verdict"]
            out.at[i, f"{col}_sig_tip"] = tip(r)
    out.attrs["significance"] = {"reference": reference, "failed": failed, "alpha": ALPHA}
    return out
