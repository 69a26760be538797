"""Scoring generated audio with metric recipes, resumably, and the run summary.

Rows are keyed by (utt_id, metric, fingerprint_id): a finished key is never scored again, and a
changed recipe (new fingerprint) scores afresh beside the old rows. Utterances whose synthesis
failed are not scored; the summary counts them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ttsbench.audio import read_audio
from ttsbench.console import progress as progress_bar
from ttsbench.errors import InputError, TTSBenchError, first_line
from ttsbench.metrics.base import Need
from ttsbench.plugins import METRICS
from ttsbench.schema import (
    FAILED,
    OK,
    CostEntry,
    MetricEntry,
    MetricSummary,
    ScoreRow,
    ShardsSummary,
    Summary,
    SynthCounts,
)
from ttsbench.spec import MetricSpec
from ttsbench.store import append_jsonl, latest_scores, latest_synth
from ttsbench.types import LoadContext, Prompt, ScoreItem

SCORE_BATCH = 8


def build_metric(spec: MetricSpec) -> Any:
    """The metric of `spec`, its options parsed (cheap: models load in setup()). An unknown name or a
    misspelt or ill-typed option is one TTSBenchError line."""
    return METRICS.get(spec.name)(spec.options)


class MetricPool:
    """Metrics set up once and reused by every run of a job (the cells of a matrix): one load of
    each scoring model, keyed by recipe name, options and load context."""

    def __init__(self) -> None:
        self._ready: dict[tuple[str, str, LoadContext], Any] = {}

    def ready(self, spec: MetricSpec, metric: Any, ctx: LoadContext) -> Any:
        """The set-up metric of `spec` in `ctx`: `metric`, set up now, unless one is set up already."""
        key = (spec.name, json.dumps(spec.to_json(), sort_keys=True), ctx)
        if key not in self._ready:
            metric.setup(ctx)
            self._ready[key] = metric
        return self._ready[key]


def score_all(metric_specs: Sequence[MetricSpec], prompts: Sequence[Prompt], wav_of: dict[str, Path],
              scores_path: Path, ctx: LoadContext, *, progress: bool = True,
              resynth_of: dict[str, Path] | None = None, pool: MetricPool | None = None) -> dict[str, MetricEntry]:
    """Score every (utterance, metric) not yet scored; returns run.json's `metrics` entries.

    `wav_of` maps utt_id -> generated wav for the utterances that were synthesized. New rows are
    appended to `scores_path`; what is done already is read from every score file of its run
    directory (all shards'), so nothing is scored twice.
    """
    metrics = [build_metric(s) for s in metric_specs]  # unknown names fail before any work
    info: dict[str, MetricEntry] = {}
    done = latest_scores(scores_path.parent)
    for spec, metric in zip(metric_specs, metrics):
        info[spec.name] = describe_metric(metric, spec)
        scorable = [p for p in prompts if p.utt_id in wav_of]
        if not scorable:
            continue
        lacking = {p.utt_id: why for p in scorable if (why := lacks(metric, p))}
        if len(lacking) == len(scorable):  # nothing to score: say so before loading any model
            raise InputError(f"metric {spec.name!r} needs {next(iter(lacking.values()))} for every utterance; "
                             f"none of the {len(scorable)} prompts has it")
        # setup first: it may pin the weights' hash into the fingerprint, which keys finished rows
        metric = (pool or MetricPool()).ready(spec, metric, ctx)
        info[spec.name] = describe_metric(metric, spec)
        fp = metric.fingerprint_id()
        todo = [p for p in scorable if not _finished(done.get((p.utt_id, spec.name, fp)))]
        if not todo:
            continue
        bar = progress_bar(len(todo), f"score {spec.name}", progress)
        for start in range(0, len(todo), SCORE_BATCH):
            chunk = todo[start:start + SCORE_BATCH]
            rows = [_row(p.utt_id, spec.name, fp, error=f"{spec.name} needs {lacking[p.utt_id]}, which this "
                                                         "prompt lacks") for p in chunk if p.utt_id in lacking]
            rows += _score_chunk(metric, spec.name, fp, [p for p in chunk if p.utt_id not in lacking], wav_of,
                                 resynth_of or {})
            append_jsonl(scores_path, [row.to_json() for row in rows])
            bar.update(len(chunk))
        bar.close()
    return info


def lacks(metric: Any, prompt: Prompt) -> str | None:
    """What the prompt lacks of the inputs the metric declares it reads (`Metric.needs`), or None."""
    needs = metric.needs
    if Need.PROMPT_TEXT in needs and not prompt.prompt_text.strip():
        return "the prompt's transcript (prompt_text)"
    if Need.REFERENCE_AUDIO in needs and prompt.reference_wav is None:
        return "the ground-truth recording (reference_wav)"
    if Need.PROMPT_AUDIO in needs and prompt.prompt_wav is None:
        return "the prompt audio (prompt_wav)"
    return None


def _finished(row: ScoreRow | None) -> bool:
    return row is not None and row.ok


def describe_metric(metric: Any, spec: MetricSpec) -> MetricEntry:
    """run.json's entry of a metric recipe as it scores now."""
    return MetricEntry(version=str(metric.version), fingerprint=metric.fingerprint(),
                       fingerprint_id=metric.fingerprint_id(), options=spec.to_json()["options"],
                       higher_is_better=metric.higher_is_better, primary=metric.primary,
                       comparable=metric.comparable, label=metric.label or spec.name)


def _score_chunk(metric: Any, name: str, fp: str, prompts: Sequence[Prompt], wav_of: dict[str, Path],
                 resynth_of: dict[str, Path]) -> list[ScoreRow]:
    items, rows = [], []
    if not prompts:
        return rows
    for p in prompts:
        try:
            items.append(_item(p, wav_of[p.utt_id], resynth_of.get(p.utt_id)))
        except TTSBenchError as err:
            rows.append(_row(p.utt_id, name, fp, error=str(err)))
    try:
        stats = metric.score_batch(items)
        rows += [_row(i.utt_id, name, fp, stats=s) for i, s in zip(items, stats)]
    except TTSBenchError:
        raise  # a setup-level problem (missing model, dependency): stop with one line
    except Exception:
        for item in items:  # find the one that fails
            try:
                rows.append(_row(item.utt_id, name, fp, stats=metric.score(item)))
            except TTSBenchError:
                raise
            except Exception as err:
                rows.append(_row(item.utt_id, name, fp, error=f"{type(err).__name__}: {first_line(err)}"))
    return rows


def _item(p: Prompt, wav_path: Path, resynth: Path | None) -> ScoreItem:
    wav, sr = read_audio(wav_path)
    return ScoreItem(utt_id=p.utt_id, wav=wav, sample_rate=sr, wav_path=wav_path, target_text=p.target_text,
                     lang=p.lang, prompt_wav=p.prompt_wav, prompt_text=p.prompt_text,
                     reference_wav=p.reference_wav, resynth_prompt_wav=resynth)


def _row(utt_id: str, metric: str, fp: str, *, stats: dict[str, Any] | None = None,
         error: str | None = None) -> ScoreRow:
    return ScoreRow(utt_id=utt_id, metric=metric, fingerprint_id=fp, status=OK if error is None else FAILED,
                    error=error, stats=stats or {})


def summarize(run_id: str, system: str, prompt_set: str, seed: int, prompts: Sequence[Prompt],
              root: Path, metric_info: Mapping[str, MetricEntry], metric_specs: Sequence[MetricSpec],
              cost: CostEntry | None, shards: ShardsSummary | None = None) -> Summary:
    """summary.json: counts (expected / synthesized / scored / failed) and every metric's aggregates,
    over the rows of every synth and score file in the run directory `root` (all shards')."""
    ids = {p.utt_id for p in prompts}
    synth = [r for utt, r in latest_synth(root).items() if utt in ids]
    ok = [r for r in synth if r.ok]
    failed = [r for r in synth if not r.ok]
    wall = sum({r.batch_id: r.seconds or 0.0 for r in ok}.values())  # one clock per batch
    audio = sum(r.audio_seconds or 0.0 for r in ok)
    counts = SynthCounts(ok=len(ok), failed=len(failed), missing=len(prompts) - len(synth),
                         failed_ids=tuple(sorted(r.utt_id for r in failed)),
                         errors={r.utt_id: r.error for r in failed}, audio_seconds=audio, wall_seconds=wall,
                         # wall seconds / audio seconds, over this run's batches
                         rtf=(wall / audio) if audio else None)
    scores = latest_scores(root)
    metrics = {}
    for spec in metric_specs:
        m = metric_info[spec.name]
        rows = [r for (u, name, fp), r in scores.items()
                if name == spec.name and fp == m.fingerprint_id and u in ids]
        good = pd.DataFrame([r.to_json() for r in rows if r.ok])
        values = build_metric(spec).aggregate(good) if len(good) else {}
        metrics[spec.name] = MetricSummary(
            label=m.label, primary=m.primary, higher_is_better=m.higher_is_better, comparable=m.comparable,
            fingerprint_id=m.fingerprint_id, version=m.version, n_scored=len(good),
            n_failed=len(rows) - len(good), n_unscored=len(prompts) - len(rows),
            values={k: float(v) for k, v in values.items()})
    return Summary(run_id=run_id, system=system, prompt_set=prompt_set, seed=seed, n_expected=len(prompts),
                   synth=counts, metrics=metrics, cost=cost, shards=shards)
