"""Paired comparison of two stored runs: B - A per metric key, its paired bootstrap 95 % CI and p-value.

The stored per-utterance rows of each run are paired by utterance id and resampled together (the
same utterances drawn for A and B). Values come from stored rows only; nothing is re-scored. A
metric whose recipe fingerprint differs between the runs is compared anyway and flagged
(`same_recipe`), since the difference then mixes the recipe change with the system change.
`ttsbench compare` prints these rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ttsbench.errors import InputError
from ttsbench.metrics.stats import frame_columns, paired_bootstrap
from ttsbench.plugins import METRICS
from ttsbench.store import RunRecord, load_run


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
