"""Runs grouped by system (one group = the seeds of one system), and each run's per-utterance outcome.

A *side* of a comparison, and a row of a table, is one system on one prompt set: one run, or
several runs that differ only in their seed (F5-TTS averages three). `group_seeds` groups run
records that way; `Outcome` says, for one run and one metric recipe, which utterances were scored
(their stored statistics) and which failed (in synthesis or in scoring). Utterances that were not
attempted yet (a smaller `--limit`) are neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ttsbench.errors import InputError
from ttsbench.store import RunRecord


@dataclass(frozen=True)
class Outcome:
    """One run under one recipe: the ok rows' statistics by utt_id, and the utterances that failed."""

    ok: Mapping[str, Mapping[str, Any]]
    failed: frozenset[str]
    fingerprint_id: str | None

    @property
    def attempted(self) -> set[str]:
        return set(self.ok) | self.failed


def outcome(record: RunRecord, metric: str) -> Outcome:
    """The rows of `metric` under the fingerprint the run's manifest records (else its latest rows').

    Failed: the latest score row of that fingerprint failed, or the latest synthesis row did (such
    an utterance has no score row at all).
    """
    rows = [r for r in record.scores if r.metric == metric]
    entry = record.run.metrics.get(metric)
    fp = entry.fingerprint_id if entry else None
    if fp is None and rows:
        fp = rows[-1].fingerprint_id
    mine = [r for r in rows if r.fingerprint_id == fp]
    ok = {r.utt_id: r.stats for r in mine if r.ok}
    failed = {r.utt_id for r in mine if not r.ok} | {r.utt_id for r in record.synth if not r.ok}
    return Outcome(ok, frozenset(failed - set(ok)), fp)


def system_key(record: RunRecord) -> str:
    """What must agree for runs to be seeds of one system: the system spec and the prompt set (name
    and checksum); the seed is left out."""
    spec = record.run.spec
    system = spec.system.to_json() if spec is not None else {"name": record.system_name}
    checksum = record.run.prompt_set.checksum if record.run.prompt_set else None
    return json.dumps({"system": system, "prompt_set": record.prompt_set_name, "checksum": checksum},
                      sort_keys=True, default=str)


def seed_of(record: RunRecord) -> int | None:
    if record.summary is not None and record.summary.seed is not None:
        return record.summary.seed
    return record.run.spec.seed if record.run.spec is not None else None


def group_seeds(records: Iterable[RunRecord], key: Callable[[RunRecord], str] = system_key
                ) -> list[tuple[RunRecord, ...]]:
    """Records grouped by `key`, in first-seen order, each group's runs in seed order.

    Only runs with distinct seeds are seeds of one system: a group where two runs share a seed (the
    same run made twice, say) is left as single runs.
    """
    groups: dict[str, list[RunRecord]] = {}
    for rec in records:
        groups.setdefault(key(rec), []).append(rec)
    out: list[tuple[RunRecord, ...]] = []
    for group in groups.values():
        seeds = [seed_of(r) for r in group]
        if len(group) > 1 and (None in seeds or len(set(seeds)) < len(seeds)):
            out.extend((r,) for r in group)
        else:
            out.append(tuple(sorted(group, key=lambda r: seed_of(r) or 0)))
    return out


def one_system(records: Sequence[RunRecord], label: str) -> tuple[RunRecord, ...]:
    """The records of one side of a comparison, checked to be seeds of one system."""
    groups = group_seeds(records)
    if len(groups) > 1:
        names = "; ".join(f"{r.system_name} on {r.prompt_set_name}, seed {seed_of(r)} ({r.path})" for r in records)
        raise InputError(f"side {label} is not one system's seeds ({names}): a side is the runs of one "
                         "system on one prompt set that differ only in their seed")
    return groups[0]


def columns(rows: Mapping[str, Mapping[str, Any]], utt_ids: Sequence[str], names: Iterable[str]) -> dict[str, np.ndarray]:
    """Float columns of the stored statistics, in `utt_ids` order (NaN where a row lacks a value)."""
    out = {}
    for name in names:
        out[name] = np.array([_number(rows[u].get(name)) if u in rows else np.nan for u in utt_ids], dtype=float)
    return out


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
