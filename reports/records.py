"""Report rows: one system on one prompt set, read from a stored run or quoted from a paper.

A row holds, per column, a `Cell`: the number, its 95 % CI when the summary has one, how many
utterances it rests on, and its *group*: the thing that must agree for two numbers to be compared
(a metric's recipe fingerprint id, the scope of a FLOPs count, the device an RTF was timed on, or
the paper a number is quoted from). Tables put two groups in one column only with a footnote.
Reading never re-scores anything: every number comes from summary.json and run.json, or, for a
row that merges several runs of one system that differ only in their seed, from their stored
per-utterance rows: the mean over seeds of each seed's value on the utterances every seed scored,
with a 95 % CI from the bootstrap over utterances and seeds (`ttsbench.metrics.stats`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError, UnknownNameError
from ttsbench.metrics.stats import runs_bootstrap_ci
from ttsbench.plugins import METRICS
from ttsbench.reports.sides import columns, group_seeds, outcome, seed_of, system_key
from ttsbench.schema import CostEntry, MetricSummary, RunManifest, Summary
from ttsbench.store import RunRecord, find_runs, load_run

MEASURED = "measured"
QUOTED = "quoted"
TFLOPS = "tflops"  # column keys of the cost columns (metric columns are keyed by metric name)
RTF = "rtf"
# Rows of these systems are shown but never ranked: ground truth and vocoder resynthesis are bounds,
# not competitors (the papers leave their Human/Vocoder rows out of bold/underline too).
REFERENCE_SYSTEMS = frozenset({"ground-truth", "groundtruth", "gt", "human", "reference", "vocoder",
                               "vocoder-resynth", "resynth"})


@dataclass(frozen=True)
class Cell:
    """One number of a report and what it means.

    Attributes:
        value: the number in the unit its label states; None when it is missing.
        label: the column title with its unit, e.g. "WER (%)".
        higher_is_better: direction; None for descriptive numbers (never ranked).
        group: what must agree for numbers to be comparable (fingerprint id, scope, device, source).
        note: one line that explains the group in a footnote.
        comparable: False for offline stand-in recipes (not comparable with published numbers).
        ci_low: lower end of the 95 % bootstrap CI, if stored.
        ci_high: upper end of the 95 % bootstrap CI, if stored.
        n_scored: utterances the number averages over.
        n_failed: utterances whose scoring failed.
        approx: the source marks the number as approximate ("~" in the paper's TFLOPs column).
    """

    value: float | None
    label: str
    higher_is_better: bool | None
    group: str
    note: str = ""
    comparable: bool = True
    ci_low: float | None = None
    ci_high: float | None = None
    n_scored: int | None = None
    n_failed: int | None = None
    approx: bool = False


@dataclass(frozen=True)
class Row:
    """One table row: a system on a prompt set, measured by a run or quoted from a paper.

    `metrics` is keyed by metric name for measured rows; quoted rows key it by quantity
    ("WER", "SIM", "UTMOS") so that tables can place them under the matching measured column.
    """

    system: str
    prompt_set: str
    source: str = MEASURED
    metrics: Mapping[str, Cell] = field(default_factory=dict)
    tflops: Cell | None = None
    rtf: Cell | None = None
    n_expected: int | None = None
    n_synth_failed: int | None = None
    reference: bool = False
    marks: str = ""
    provenance: str = ""
    run_id: str = ""
    path: str = ""
    seeds: tuple[int | None, ...] = ()  # the runs' seeds; more than one: a mean over seeds


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def model_verdict(fingerprint: Mapping[str, Any]) -> str:
    """The footnote words for a recipe's reference-model check (`ttsbench.metrics.reference`), or ""."""
    check = fingerprint.get("model_check")
    if not isinstance(check, Mapping):
        return ""
    verdict, sha = check.get("verdict"), str(check.get("weights_sha256") or "")[:12]
    if verdict == "verified":
        return f"; weights verified (sha256 {sha}… is a published hash of {check.get('reference')})"
    if verdict == "unverified":
        return f"; comparable, weights unverified (sha256 {sha}… matches no published hash)"
    if verdict == "other model":
        return f"; other model, not comparable: {check.get('reference')} expected, sha256 {sha}… scored"
    return ""


def metric_cell(name: str, m: MetricSummary, key: str | None = None, verdict: str = "") -> Cell:
    """The cell of one summary.json metric entry (its primary key unless `key` is given); `verdict`: the
    reference-model words for the footnote (`model_verdict`)."""
    key = key or m.primary_key
    if key not in m.values and m.values and key != m.primary:
        raise InputError(f"metric {name!r} has no key {key!r}; it has {', '.join(sorted(m.values))}")
    fp = m.fingerprint_id or "unknown"
    label = m.label or name
    return Cell(value=_float(m.values.get(key)), label=label, higher_is_better=m.higher_is_better,
                group=fp, note=f"{label}: ttsbench recipe {name} (key {key}), fingerprint {fp}{verdict}",
                comparable=m.comparable,
                ci_low=_float(m.values.get(f"{key}_ci_low")), ci_high=_float(m.values.get(f"{key}_ci_high")),
                n_scored=m.n_scored, n_failed=m.n_failed)


def cost_cell(cost: CostEntry | None) -> Cell | None:
    """run.json `cost` (FLOPs per the stated scope) as a TFLOPs cell."""
    flops = _float(cost.flops) if cost else None
    if cost is None or flops is None:
        return None
    scope = cost.scope or "unstated scope"
    unit = cost.unit or "FLOPs (=2 MACs)"
    return Cell(value=flops / 1e12, label="TFLOPs", higher_is_better=False, group=scope,
                note=f"TFLOPs = 10^12 {unit}; method: {cost.method or 'unstated'}; scope: {scope}")


def rtf_cell(run: RunManifest, summary: Summary | None) -> Cell | None:
    """The run's real-time factor (wall seconds / audio seconds), grouped by device and batch size."""
    rtf = _float(summary.synth.rtf) if summary else None
    if rtf is None:
        return None
    device = run.device or "unknown device"
    batch = run.spec.batch_size if run.spec else "?"
    group = f"{device}, batch {batch}"
    return Cell(value=rtf, label="RTF", higher_is_better=False, group=group,
                note=f"RTF = synthesis wall seconds / generated audio seconds, on {group}")


def row_from_run(record: RunRecord, keys: Mapping[str, str] | None = None,
                 references: Iterable[str] = ()) -> Row:
    """A row from a `ttsbench.store.RunRecord` (its summary.json and run.json only)."""
    run, summary = record.run, record.summary
    system = record.system_name or "?"
    keys = keys or {}
    verdicts = {name: model_verdict(entry.fingerprint) for name, entry in run.metrics.items()}
    metrics = {name: metric_cell(name, m, keys.get(name), verdicts.get(name, ""))
               for name, m in (summary.metrics if summary else {}).items()}
    for name, entry in run.metrics.items():  # scored nothing yet: still a (blank) column
        if name not in metrics:
            metrics[name] = metric_cell(name, MetricSummary.unscored(entry), verdict=verdicts[name])
    reference = bool(run.system and run.system.detail("reference")) or system in REFERENCE_SYSTEMS \
        or system in set(references)
    return Row(system=system, prompt_set=record.prompt_set_name or "?", metrics=metrics,
               tflops=cost_cell(record.cost), rtf=rtf_cell(run, summary), n_expected=record.n_expected,
               n_synth_failed=summary.synth.failed if summary else None, reference=reference,
               run_id=record.run_id, path=str(record.path), seeds=(seed_of(record),))


def table_key(record: RunRecord) -> str:
    """Runs merge into one table row when they differ only in their seed: same system spec and
    prompt set (`system_key`), same recipe fingerprints, timed on the same device and batch size."""
    fps = {name: m.fingerprint_id for name, m in sorted(record.run.metrics.items())}
    batch = record.run.spec.batch_size if record.run.spec else None
    return json.dumps([system_key(record), fps, record.run.device, batch])


def seed_groups(records: Iterable[RunRecord], per_seed: bool = False) -> list[tuple[RunRecord, ...]]:
    """The runs of each table row: one run each with `per_seed`, else seeds merged (`table_key`)."""
    records = list(records)
    return [(r,) for r in records] if per_seed else group_seeds(records, table_key)


def row_from_runs(records: Sequence[RunRecord], keys: Mapping[str, str] | None = None,
                  references: Iterable[str] = ()) -> Row:
    """One row of a system's runs that differ only in their seed (one run: `row_from_run`)."""
    rows = [row_from_run(r, keys, references) for r in records]
    if len(rows) == 1:
        return rows[0]
    metrics = {name: _seed_cell(records, name, [r.metrics.get(name) for r in rows], (keys or {}).get(name))
               for name in rows[0].metrics}
    rtfs = [r.rtf.value for r in rows if r.rtf is not None and r.rtf.value is not None]
    rtf = replace(rows[0].rtf, value=sum(rtfs) / len(rtfs)) if rows[0].rtf and len(rtfs) == len(rows) else None
    failed = [r.n_synth_failed for r in rows]
    return replace(rows[0], metrics=metrics, rtf=rtf, run_id=",".join(r.run_id for r in rows),
                   path=", ".join(r.path for r in rows), seeds=tuple(s for r in rows for s in r.seeds),
                   n_synth_failed=None if None in failed else max(failed))


def _seed_cell(records: Sequence[RunRecord], name: str, cells: list[Cell | None], key: str | None) -> Cell:
    """A metric cell over seeds: from the stored rows when the recipe defines the key's statistic,
    else the mean of the seeds' summary values (no CI)."""
    first = cells[0]
    assert first is not None
    key = key or _primary(records[0], name)
    try:
        cls = METRICS.get(name)
    except UnknownNameError:  # a recipe this ttsbench does not know: its summaries only
        cls = None
    stats = cls.statistics() if hasattr(cls, "statistics") else {}
    if key in stats:
        outs = [outcome(r, name) for r in records]
        common = sorted(set.intersection(*(set(o.ok) for o in outs)))
        if common:
            runs = [columns(o.ok, common, stats[key].columns) for o in outs]
            value, low, high = runs_bootstrap_ci(runs, stats[key])
            failed = set.union(*(set(o.failed) for o in outs))
            return replace(first, value=_float(value), ci_low=_float(low), ci_high=_float(high),
                           n_scored=len(common), n_failed=len(failed))
    values = [c.value for c in cells if c is not None and c.value is not None]
    mean = sum(values) / len(values) if len(values) == len(cells) else None
    return replace(first, value=mean, ci_low=None, ci_high=None,
                   n_scored=min((c.n_scored for c in cells if c and c.n_scored is not None), default=None))


def _primary(record: RunRecord, name: str) -> str:
    m = record.summary.metrics.get(name) if record.summary else None
    if m is not None:
        return m.primary_key
    entry = record.run.metrics.get(name)
    return (entry.primary if entry else None) or "value"


def load_records(paths: Iterable[str | Path]) -> list[RunRecord]:
    """Every run at or below each path (run directories or any of their parents)."""
    return [load_run(p) for p in find_runs(paths)]


def load_rows(paths: Iterable[str | Path], keys: Mapping[str, str] | None = None,
              references: Iterable[str] = (), per_seed: bool = False) -> list[Row]:
    """Rows of every run at or below each path; runs that differ only in their seed make one row
    (the mean over seeds) unless `per_seed`."""
    return [row_from_runs(g, keys, references) for g in seed_groups(load_records(paths), per_seed)]
