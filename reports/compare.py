"""Paired comparison of two systems' stored runs: B - A per metric key, its paired bootstrap 95 % CI
and p-value, under an explicit failure policy.

Each side is one run, or several runs of one system that differ only in their seed
(`ttsbench.reports.sides`). Utterances are paired by utterance id over those that every run of
both sides attempted; a side's value is the mean over its runs. Values come from stored rows only;
nothing is re-scored. A metric whose recipe fingerprint differs between runs is compared anyway and
flagged (`same_recipe`), since the difference then mixes the recipe change with the system change.

Failure policy (`failed`), for an utterance that failed in synthesis or scoring in some run:

- "worst" (default): it counts as the worst value of its metric (`ttsbench.metrics.stats.WORST`:
  WER 100 %, the score of an empty transcript; SIM 0; MOS 1), so a system that fails on hard
  prompts is not compared on the easier remainder. The WER counts of a failed utterance need its
  reference length N, taken from any run that scored it; one that no run scored is left out of the
  keys that need N (`left_out`).
- "drop": it is left out of the pairing (what compare did before), counted in `dropped_a/_b`.

`ttsbench compare` prints these rows; `ttsbench report --reference` marks cells with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ttsbench.errors import InputError
from ttsbench.metrics.stats import Statistic, impute_worst, paired_bootstrap_runs
from ttsbench.plugins import METRICS
from ttsbench.reports.sides import Outcome, columns, one_system, outcome, seed_of
from ttsbench.store import RunRecord, find_runs, load_run

FAILED_POLICIES = ("worst", "drop")


@dataclass(frozen=True)
class Pairing:
    """The aligned columns of every run of both sides, and what the failure policy did."""

    utt_ids: tuple[str, ...]
    runs_a: tuple[dict[str, np.ndarray], ...]
    runs_b: tuple[dict[str, np.ndarray], ...]
    imputed_a: int = 0  # (utterance, run) values counted as the worst value, side A
    imputed_b: int = 0
    dropped_a: int = 0  # utterances left out because a run of side A failed them ("drop")
    dropped_b: int = 0
    left_out: int = 0  # failed in every run and needing a reference length no run stored
    only_a: int = 0  # attempted by some run of A but not by every run of both sides
    only_b: int = 0


def load_side(paths: Iterable[str | Path], label: str) -> tuple[RunRecord, ...]:
    """The runs at or below `paths`, checked to be seeds of one system."""
    return one_system([load_run(p) for p in find_runs(paths)], label)


def pair(outs_a: Sequence[Outcome], outs_b: Sequence[Outcome], names: Sequence[str], policy: str = "worst",
         declared: Mapping[str, float] | None = None) -> Pairing:
    """Align the columns `names` of every run on the utterances all of them attempted, under `policy`."""
    if policy not in FAILED_POLICIES:
        raise InputError(f"failure policy {policy!r}; one of {', '.join(FAILED_POLICIES)}")
    everyone = [*outs_a, *outs_b]
    common = set.intersection(*(o.attempted for o in everyone))
    only_a = len(set.union(*(o.attempted for o in outs_a)) - common)
    only_b = len(set.union(*(o.attempted for o in outs_b)) - common)
    utts = sorted(common)
    if policy == "drop":
        keep = [u for u in utts if all(u in o.ok for o in everyone)]
        dropped = [u for u in utts if u not in set(keep)]
        return Pairing(tuple(keep), tuple(columns(o.ok, keep, names) for o in outs_a),
                       tuple(columns(o.ok, keep, names) for o in outs_b),
                       dropped_a=sum(any(u in o.failed for o in outs_a) for u in dropped),
                       dropped_b=sum(any(u in o.failed for o in outs_b) for u in dropped),
                       only_a=only_a, only_b=only_b)
    n_words = np.array([_reference_length(u, everyone) for u in utts], dtype=float)
    try:
        runs = [impute_worst(columns(o.ok, utts, names), np.array([u in o.failed for u in utts], dtype=bool),
                             n_words, declared) for o in everyone]
    except KeyError as err:
        raise InputError(f"no worst value is known for the stored column {err.args[0]!r}, so failed "
                         "utterances cannot be counted as the worst value; pass --failed drop (or declare "
                         "`worst` on the recipe)") from None
    failed = np.stack([np.array([u in o.failed for u in utts], dtype=bool) for o in everyone])
    needs_n = any(c in ("D", "N") and c not in (declared or {}) for c in names)
    unknown = failed.any(axis=0) & np.isnan(n_words) if needs_n else np.zeros(len(utts), dtype=bool)
    keep_mask = ~unknown
    runs = [{k: v[keep_mask] for k, v in cols.items()} for cols in runs]
    kept = failed[:, keep_mask]
    return Pairing(tuple(u for u, k in zip(utts, keep_mask) if k), tuple(runs[:len(outs_a)]),
                   tuple(runs[len(outs_a):]), imputed_a=int(kept[:len(outs_a)].sum()),
                   imputed_b=int(kept[len(outs_a):].sum()), left_out=int(unknown.sum()),
                   only_a=only_a, only_b=only_b)


def _reference_length(utt: str, outs: Sequence[Outcome]) -> float:
    """N (reference tokens) of an utterance from any run that scored it; NaN when none did or the
    recipe stores none."""
    for o in outs:
        row = o.ok.get(utt)
        if row is not None and row.get("N") is not None:
            return float(row["N"])
    return float("nan")


def compare_sides(side_a: Sequence[RunRecord], side_b: Sequence[RunRecord], metrics: Sequence[str] | None = None,
                  keys: Sequence[str] | None = None, failed: str = "worst", **bootstrap: int) -> list[dict[str, Any]]:
    """One dict per (metric, key): values of A and B, B - A, its paired 95 % CI and p-value, and
    how the failure policy treated failed utterances (see the module docstring)."""
    shared = sorted(set.intersection(*(set(r.run.metrics) for r in (*side_a, *side_b))))
    names = list(metrics or shared)
    if not names:
        raise InputError(f"the runs share no metric ({side_a[0].path}, {side_b[0].path})")
    out = []
    for name in names:
        cls = METRICS.get(name)
        if not hasattr(cls, "statistics"):
            raise InputError(f"metric {name!r} declares no bootstrap statistics; it cannot be compared")
        stats: dict[str, Statistic] = cls.statistics()
        outs_a, outs_b = [outcome(r, name) for r in side_a], [outcome(r, name) for r in side_b]
        fps = {o.fingerprint_id for o in (*outs_a, *outs_b)}
        for key in keys or [k for k, s in stats.items() if s.ci]:
            if key not in stats:
                raise InputError(f"{name}: unknown key {key!r}; known: {', '.join(stats)}")
            p = pair(outs_a, outs_b, stats[key].columns, failed, getattr(cls, "worst", None))
            if not p.utt_ids:
                raise InputError(f"{name}: no utterance was scored in both runs"
                                 + (" (every shared one failed in one of them; --failed drop)" if failed == "drop"
                                    else ""))
            res = paired_bootstrap_runs(p.runs_a, p.runs_b, stats[key], key, **bootstrap)
            out.append({"metric": name, **res.to_json(), "failed": failed, "imputed_a": p.imputed_a,
                        "imputed_b": p.imputed_b, "dropped_a": p.dropped_a, "dropped_b": p.dropped_b,
                        "left_out": p.left_out, "only_a": p.only_a, "only_b": p.only_b,
                        "runs_a": len(side_a), "runs_b": len(side_b),
                        "seeds_a": [seed_of(r) for r in side_a], "seeds_b": [seed_of(r) for r in side_b],
                        "same_recipe": len(fps) == 1, "higher_is_better": cls.higher_is_better})
    return out


def compare_runs(run_a: str | Path | Sequence[str | Path], run_b: str | Path | Sequence[str | Path],
                 metrics: Sequence[str] | None = None, keys: Sequence[str] | None = None, failed: str = "worst",
                 **bootstrap: int) -> list[dict[str, Any]]:
    """`compare_sides` on run directories: each side a run directory, a list of them, or a folder
    holding one system's runs (its seeds)."""
    side_a = load_side([run_a] if isinstance(run_a, (str, Path)) else run_a, "A")
    side_b = load_side([run_b] if isinstance(run_b, (str, Path)) else run_b, "B")
    return compare_sides(side_a, side_b, metrics, keys, failed, **bootstrap)
