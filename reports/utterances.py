"""What a listening page shows, per utterance of one prompt set: prompt, ground truth, every run's
output, its transcript diffed against the normalized reference, and per-utterance numbers.

Everything comes from stored records: the runs' synth and score rows and the prompt set the runs
recorded in their spec (for the prompt and ground-truth audio). A prompt set that cannot be loaded
here, or whose checksum differs from the runs', gives no prompt or ground-truth players, and the
page says why. Every text is data for the page builder (`ttsbench.reports.pages`), which escapes it.

Per-utterance numbers: each metric's stored per-utterance value (`PER_UTTERANCE`: WER in percent
from `utt_wer`, SIM-o, UTMOS, DNSMOS OVRL), the generated duration in seconds (synth rows) and, when
the set has ground-truth recordings, the ratio of generated to ground-truth duration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import soundfile as sf

from ttsbench.errors import TTSBenchError
from ttsbench.prompt_sets import load_prompt_set
from ttsbench.reports.audio_links import AudioLinks
from ttsbench.reports.sides import Outcome, outcome, seed_of
from ttsbench.reports.worddiff import word_diff
from ttsbench.store import RunRecord
from ttsbench.types import Prompt

# stored per-utterance column -> (scale to the shown unit, decimals, unit suffix of the label)
PER_UTTERANCE = {"utt_wer": (100.0, 1), "sim_o": (1.0, 3), "utmos": (1.0, 2), "ovrl_mos": (1.0, 2)}
DURATION, RATIO = "duration_s", "duration_ratio"


@dataclass(frozen=True)
class Column:
    """One per-utterance number of the page (a metric's, or the duration or its ratio)."""

    key: str  # metric name, or DURATION / RATIO
    label: str
    higher_is_better: bool | None
    field: str  # the stored column it reads ("" for duration and ratio)
    scale: float = 1.0
    decimals: int = 2

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "hib": self.higher_is_better, "dec": self.decimals}


@dataclass(frozen=True)
class Track:
    """One run's line on the page."""

    label: str
    record: RunRecord


@dataclass
class ListeningPage:
    """The data of one prompt set's listening page (JSON-ready `rows`; texts not yet escaped)."""

    prompt_set: str
    tracks: list[Track]
    columns: list[Column]
    rows: list[dict[str, Any]]
    transcripts_from: str | None
    has_prompts: bool
    has_ground_truth: bool
    notes: list[str] = field(default_factory=list)
    mismatches: int = 0  # diffs whose coloured words do not add up to the stored S/D/I

    def payload(self) -> dict[str, Any]:
        """What the page's script reads."""
        return {"prompt_set": self.prompt_set, "systems": [t.label for t in self.tracks],
                "columns": [c.to_json() for c in self.columns], "rows": self.rows,
                "transcripts_from": self.transcripts_from, "has_prompts": self.has_prompts,
                "has_gt": self.has_ground_truth}


def tracks(records: Sequence[RunRecord]) -> list[Track]:
    """One line per run, labelled by its system; seed and run id added where the label repeats."""
    names = [r.system_name or "?" for r in records]
    out = []
    for rec, name in zip(records, names):
        label = name
        if names.count(name) > 1:
            label = f"{name} seed {seed_of(rec)}"
            if [f"{n} seed {seed_of(r)}" for r, n in zip(records, names)].count(label) > 1:
                label += f" ({rec.run_id})"
        out.append(Track(label, rec))
    return out


def metric_columns(records: Sequence[RunRecord]) -> list[Column]:
    """The per-utterance number of each metric the runs scored, in first-seen order."""
    out: dict[str, Column] = {}
    for rec in records:
        for name, entry in rec.run.metrics.items():
            if name in out:
                continue
            sample = next((r.stats for r in rec.scores if r.metric == name and r.ok), None)
            if sample is None:
                continue
            stored = next((c for c in PER_UTTERANCE if c in sample), None)
            if stored is None:
                continue
            scale, decimals = PER_UTTERANCE[stored]
            label = entry.label or name
            out[name] = Column(name, label, entry.higher_is_better, stored, scale, decimals)
    return list(out.values())


def transcript_metric(records: Sequence[RunRecord]) -> str | None:
    """The first metric whose rows hold normalized texts (a WER recipe): its transcripts are shown."""
    for rec in records:
        for name in rec.run.metrics:
            if any(r.metric == name and r.ok and "hyp_norm" in r.stats for r in rec.scores):
                return name
    return None


def _prompts(records: Sequence[RunRecord]) -> tuple[dict[str, Prompt], list[str]]:
    """The prompt set's prompts by utt_id, as the runs recorded it; else none and the reason."""
    rec = records[0]
    spec = rec.run.spec
    if spec is None:
        return {}, ["the runs record no prompt set spec: no prompt or ground-truth players"]
    try:
        loaded = load_prompt_set(spec.prompt_set, audio_root=spec.audio_root, check_audio=False)
    except (TTSBenchError, OSError) as err:
        return {}, [(f"prompt set {spec.prompt_set!r} could not be loaded here ({err}): no prompt or "
                     "ground-truth players; target texts from the WER rows")]
    recorded = rec.run.prompt_set.checksum if rec.run.prompt_set else None
    if recorded and loaded.checksum != recorded:
        return {}, [(f"prompt set {spec.prompt_set!r} has changed since the runs ({loaded.checksum} here, "
                     f"{recorded} in run.json): its audio is not shown")]
    return {p.utt_id: p for p in loaded.prompts}, []


def _seconds(path: Any) -> float | None:
    try:
        return float(sf.info(str(path)).duration)
    except (RuntimeError, OSError):
        return None


@dataclass(frozen=True)
class _Source:
    """What one run line reads: its synth rows and, per shown metric, the column and the outcome."""

    track: Track
    synth: Mapping[str, Any]
    metrics: Mapping[str, tuple[Column, Outcome]]
    words: Outcome | None


def listening_page(records: Sequence[RunRecord], links: AudioLinks, prompt_set: str) -> ListeningPage:
    """The listening page of one prompt set's runs (their audio linked or copied by `links`)."""
    prompts, notes = _prompts(records)
    columns = metric_columns(records)
    words = transcript_metric(records)
    sources = [_Source(t, {r.utt_id: r for r in t.record.synth},
                       {c.key: (c, outcome(t.record, c.key)) for c in columns},
                       outcome(t.record, words) if words else None) for t in tracks(records)]
    has_gt = any(p.reference_wav is not None for p in prompts.values())
    extra = [Column(DURATION, "Duration (s)", None, "")]
    if has_gt:
        extra.append(Column(RATIO, "Duration / ground truth", None, ""))
    page = ListeningPage(prompt_set, [s.track for s in sources], [*columns, *extra], [], words,
                         bool(prompts), has_gt, notes)
    for utt in _order(prompts, sources):
        page.rows.append(_row(utt, prompts.get(utt), sources, links, page))
    if page.mismatches:
        page.notes.append(f"{page.mismatches} transcript diff(s) do not add up to the stored S/D/I counts "
                          "(marked on their line): the rows were aligned by another jiwer or normalizer")
    page.notes.extend(links.problems)
    return page


def _order(prompts: Mapping[str, Prompt], sources: Sequence[_Source]) -> list[str]:
    """The utterances some run attempted: in the prompt set's order, then any the set does not hold."""
    attempted: dict[str, None] = {}
    for s in sources:
        attempted.update(dict.fromkeys(s.synth))
        for _, o in s.metrics.values():
            attempted.update(dict.fromkeys(sorted(o.attempted)))
    return [u for u in prompts if u in attempted] + [u for u in attempted if u not in prompts]


def _row(utt: str, prompt: Prompt | None, sources: Sequence[_Source], links: AudioLinks,
         page: ListeningPage) -> dict[str, Any]:
    gt_seconds = _seconds(prompt.reference_wav) if prompt and prompt.reference_wav else None
    text = prompt.target_text if prompt else ""
    outs = []
    for source in sources:
        line = _line(utt, source, gt_seconds, links)
        page.mismatches += "dm" in line
        ref = line.pop("ref", "")
        text = text or ref  # the set's target text; without the set, the WER row's reference
        outs.append(line)
    return {"id": utt, "text": text,
            "prompt": links.href(prompt.prompt_wav, "prompts") if prompt else None,
            "gt": links.href(prompt.reference_wav, "ground-truth") if prompt and prompt.reference_wav else None,
            "gt_s": None if gt_seconds is None else round(gt_seconds, 3), "out": outs}


def _line(utt: str, source: _Source, gt_seconds: float | None, links: AudioLinks) -> dict[str, Any]:
    """One run's output of one utterance: status, player, per-utterance numbers, transcript diff."""
    record = source.track.record
    synth = source.synth.get(utt)
    line: dict[str, Any] = {"st": "missing" if synth is None else "ok" if synth.ok else "failed"}
    if line["st"] == "failed":
        line["err"] = synth.error or "synthesis failed"
    elif line["st"] == "ok":
        line["a"] = links.href(record.path / "wavs" / f"{utt}.wav", record.run_id, utt)
    values: dict[str, float | None] = {}
    for key, (col, o) in source.metrics.items():
        stats = o.ok.get(utt)
        value = None if stats is None else stats.get(col.field)
        values[key] = None if value is None else round(float(value) * col.scale, 6)
        if utt in o.failed and line["st"] == "ok":
            line.setdefault("err", f"{key}: scoring failed")
    if line["st"] == "ok" and synth.audio_seconds is not None:
        values[DURATION] = round(synth.audio_seconds, 3)
        if gt_seconds:
            values[RATIO] = round(synth.audio_seconds / gt_seconds, 3)
    line["v"] = values
    stats = source.words.ok.get(utt) if source.words is not None else None
    if stats is not None:
        diff = word_diff(str(stats.get("ref_norm") or ""), str(stats.get("hyp_norm") or ""))
        line.update(ref=str(stats.get("ref_raw") or ""), hyp=str(stats.get("hyp_raw") or ""), d=diff.to_json())
        if not diff.matches(stats):
            line["dm"] = (f"diff shows S={diff.S} D={diff.D} I={diff.I} N={diff.N}; stored "
                          f"S={stats.get('S')} D={stats.get('D')} I={stats.get('I')} N={stats.get('N')}")
    return line
