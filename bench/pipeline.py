"""End-to-end jobs: `run` (synthesize + score + summarize) and `score` (audio made elsewhere)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import soundfile as sf

from ttsbench.errors import InputError
from ttsbench.plugins import SYSTEMS
from ttsbench.prompt_sets import load_prompt_set
from ttsbench.runner import RunPaths, load_context, prepare, synthesize_all, write_manifest
from ttsbench.schema import FAILED, OK, SynthRow, SystemEntry
from ttsbench.scoring import build_metric, score_all, summarize
from ttsbench.spec import MetricSpec, RunSpec
from ttsbench.store import append_jsonl, latest_synth, write_json
from ttsbench.types import SystemSpec


def check_options(spec: RunSpec) -> None:
    """Unknown system or metric names and misspelt or ill-typed options fail here, in one line,
    before any work: no prompt set read, no model loaded, no run directory made."""
    SYSTEMS.get(spec.system.name).parse_options(spec.system)
    for m in spec.metrics:
        build_metric(m)  # a metric parses its options when built; building loads nothing


def run(spec: RunSpec, *, progress: bool = True) -> Path:
    """Synthesize, score and summarize; resumes whatever an earlier call with the same spec did."""
    check_options(spec)
    pset, prompts, paths = prepare(spec)
    write_manifest(paths, spec, pset)
    loaded = synthesize_all(spec, prompts, paths, progress=progress)
    if loaded is not None:
        system, cost = loaded
        write_manifest(paths, spec, pset, system=system, cost=cost)
    synth = latest_synth(paths.synth)
    wav_of = {p.utt_id: paths.wav(p.utt_id) for p in prompts
              if p.utt_id in synth and synth[p.utt_id].ok and paths.wav(p.utt_id).is_file()}
    metric_info = score_all(spec.metrics, prompts, wav_of, paths.scores, load_context(spec), progress=progress)
    manifest = write_manifest(paths, spec, pset, metrics=metric_info)
    summary = summarize(paths.root.name, spec.system.name, pset.name, spec.seed, prompts, paths.synth,
                        paths.scores, metric_info, spec.metrics, manifest.cost)
    write_json(paths.summary, summary.to_json())
    return paths.root


def score_dir(wav_dir: Path, prompt_set: str, metrics: Sequence[MetricSpec], *, out: Path,
              name: str | None = None, audio_root: Path | None = None, limit: int | None = None,
              allow_missing: bool = False, device: str = "cpu", cache_dir: Path | None = None,
              progress: bool = True) -> Path:
    """Score `<utt_id>.wav` files that another tool generated for a prompt set.

    Missing wavs are an error by default (published scorers drop them silently, which flatters a
    system); with `allow_missing` they are counted as failed utterances instead.
    """
    for m in metrics:
        build_metric(m)  # unknown names and bad options fail before any work
    wav_dir = Path(wav_dir).resolve()
    if not wav_dir.is_dir():
        raise InputError(f"not a directory: {wav_dir}")
    pset = load_prompt_set(prompt_set, audio_root=audio_root)
    prompts = list(pset.prompts if limit is None else pset.prompts[:limit])
    missing = [p.utt_id for p in prompts if not (wav_dir / f"{p.utt_id}.wav").is_file()]
    if missing and not allow_missing:
        raise InputError(f"{len(missing)} of {len(prompts)} wavs missing in {wav_dir} (first: {missing[0]}.wav);"
                         " pass --allow-missing to score the rest and count these as failed")
    system = name or f"external-{wav_dir.name}"
    run_id = hashlib.sha256(f"{wav_dir}|{pset.checksum}".encode()).hexdigest()[:12]
    paths = RunPaths(Path(out) / pset.name / system / run_id)
    spec = RunSpec(system=_external_spec(system, wav_dir), prompt_set=prompt_set, metrics=tuple(metrics),
                   limit=limit, device=device, out=Path(out), audio_root=audio_root, cache_dir=cache_dir)
    write_manifest(paths, spec, pset, system=SystemEntry(name=system, external_dir=str(wav_dir)), cost=None)
    _record_external(paths, prompts, wav_dir, set(missing))
    wav_of = {p.utt_id: wav_dir / f"{p.utt_id}.wav" for p in prompts if p.utt_id not in missing}
    ctx = load_context(spec)
    metric_info = score_all(spec.metrics, prompts, wav_of, paths.scores, ctx, progress=progress)
    write_manifest(paths, spec, pset, metrics=metric_info)
    summary = summarize(paths.root.name, system, pset.name, 0, prompts, paths.synth, paths.scores,
                        metric_info, spec.metrics, None)
    write_json(paths.summary, summary.to_json())
    return paths.root


def _external_spec(name: str, wav_dir: Path) -> Any:
    return SystemSpec(name, {"external_dir": str(wav_dir)})


def _record_external(paths: RunPaths, prompts: Sequence[Any], wav_dir: Path, missing: set[str]) -> None:
    """synth.jsonl rows for audio made elsewhere: ok with duration, or failed 'missing'."""
    known = latest_synth(paths.synth)
    rows = []
    for p in prompts:
        old = known.get(p.utt_id)
        status = FAILED if p.utt_id in missing else OK
        if old is not None and old.status == status:
            continue
        if status == FAILED:
            rows.append(SynthRow(utt_id=p.utt_id, status=FAILED, error=f"missing {wav_dir}/{p.utt_id}.wav"))
            continue
        try:
            info = sf.info(str(wav_dir / f"{p.utt_id}.wav"))
        except Exception as err:
            raise InputError(f"cannot read {wav_dir / (p.utt_id + '.wav')}: {str(err).splitlines()[0]}") from None
        rows.append(SynthRow(utt_id=p.utt_id, status=OK, audio_seconds=info.duration,
                             sample_rate=info.samplerate, external=True))
    append_jsonl(paths.synth, [row.to_json() for row in rows])
