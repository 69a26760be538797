"""End-to-end jobs: `run` (synthesize + score + summarize), `score_dir` (audio made elsewhere) and
`rescore` (a run directory with new metrics).

Each job holds its run directory's lock (`ttsbench.locking`) while it writes: a second job on the
same directory stops at once in one line naming the holder, instead of doubling rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ttsbench.audio import check_output, read_audio
from ttsbench.errors import InputError, TTSBenchError, first_line
from ttsbench.locking import exclusive
from ttsbench.paths import path_component
from ttsbench.plugins import SYSTEMS
from ttsbench.prompt_sets import PromptSet, load_prompt_set
from ttsbench.runner import RunPaths, load_context, prepare, synthesize_all, write_manifest
from ttsbench.schema import FAILED, OK, CostEntry, Summary, SynthRow, SystemEntry
from ttsbench.scoring import build_metric, score_all, summarize
from ttsbench.spec import MetricSpec, RunSpec, override
from ttsbench.store import append_jsonl, clear_temp_files, latest_synth, read_manifest, write_json
from ttsbench.types import Prompt, SystemSpec


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
    with exclusive(paths.root, what="ttsbench job"):
        clear_temp_files(paths.root)
        return _run_locked(spec, pset, prompts, paths, progress)


def _run_locked(spec: RunSpec, pset: PromptSet, prompts: list[Prompt], paths: RunPaths, progress: bool) -> Path:
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

    Missing wavs are an error by default, naming them (published scorers drop them silently, which
    flatters a system); with `allow_missing` they are counted as failed utterances instead. A wav
    that cannot be read, or that fails the runner's output checks (NaN or inf, empty, silent, too
    short), fails that utterance with its reason; the rest is scored.
    """
    for m in metrics:
        build_metric(m)  # unknown names and bad options fail before any work
    if limit is not None and limit < 0:
        raise InputError(f"--limit must be >= 0, got {limit}")
    system = path_component(name, "--name") if name else path_component(f"external-{Path(wav_dir).name}",
                                                                        "name", encode=True)
    wav_dir = Path(wav_dir).resolve()
    if not wav_dir.is_dir():
        raise InputError(f"not a directory: {wav_dir}")
    pset = load_prompt_set(prompt_set, audio_root=audio_root, limit=limit)
    prompts = list(pset.prompts if limit is None else pset.prompts[:limit])
    missing = [p.utt_id for p in prompts if not (wav_dir / f"{p.utt_id}.wav").exists()]
    if missing and not allow_missing:
        shown = ", ".join(f"{u}.wav" for u in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(f"{len(missing)} of {len(prompts)} wavs missing in {wav_dir}: {shown}; "
                         "pass --allow-missing to score the rest and count these as failed")
    run_id = external_run_id(wav_dir, pset)
    paths = RunPaths(Path(out) / path_component(pset.name, "prompt-set name") / system / run_id)
    spec = RunSpec(system=_external_spec(system, wav_dir), prompt_set=prompt_set, metrics=tuple(metrics),
                   limit=limit, device=device, out=Path(out), audio_root=audio_root, cache_dir=cache_dir)
    with exclusive(paths.root, what="ttsbench job"):
        clear_temp_files(paths.root)
        write_manifest(paths, spec, pset, system=SystemEntry(name=system, external_dir=str(wav_dir)), cost=None)
        _record_external(paths, prompts, wav_dir)
        return _score_and_summarize(paths, spec, pset, prompts, wav_of=_external_wavs(paths, prompts, wav_dir),
                                    system=system, seed=0, cost=None, progress=progress)


def rescore(run_dir: Path, metrics: Sequence[MetricSpec] | None = None, *, limit: int | None = None,
            device: str | None = None, audio_root: Path | None = None, cache_dir: Path | None = None,
            progress: bool = True) -> Path:
    """Score an existing run directory again (with `metrics`, else those it records): nothing is
    synthesized. A directory whose run.json no longer describes it (an edited spec hashes to another
    run id) is refused in one line rather than scored as another run somewhere else."""
    run_dir = Path(run_dir).resolve()
    manifest = read_manifest(run_dir / "run.json")
    saved = manifest.spec
    if saved is None:
        raise InputError(f"{run_dir / 'run.json'} records no run spec: re-run it with `ttsbench run`")
    spec = override(replace(saved, out=run_dir.parents[2]), metrics=tuple(metrics) if metrics else None,
                    limit=limit, device=device, audio_root=audio_root, cache_dir=cache_dir)
    if spec.limit is not None and spec.limit < 0:
        raise InputError(f"--limit must be >= 0, got {spec.limit}")
    for m in spec.metrics:
        build_metric(m)
    pset = load_prompt_set(spec.prompt_set, audio_root=spec.audio_root, limit=spec.limit)
    prompts = list(pset.prompts if spec.limit is None else pset.prompts[: spec.limit])
    external = manifest.system.external_dir if manifest.system else None
    expected = external_run_id(Path(external), pset) if external else spec.run_id(pset.checksum, pset.key)
    if expected != run_dir.name:
        raise InputError(f"{run_dir}: its run.json describes another run (its spec and prompt set give run id "
                         f"{expected}, the folder is {run_dir.name}): restore run.json, or start that run with "
                         "`ttsbench run`")
    paths = RunPaths(run_dir)
    with exclusive(paths.root, what="ttsbench job"):
        clear_temp_files(paths.root)
        if external:
            wav_of = _external_wavs(paths, prompts, Path(external))
        else:
            synth = latest_synth(paths.synth)
            wav_of = {p.utt_id: paths.wav(p.utt_id) for p in prompts
                      if p.utt_id in synth and synth[p.utt_id].ok and paths.wav(p.utt_id).is_file()}
        return _score_and_summarize(paths, spec, pset, prompts, wav_of=wav_of,
                                    system=manifest.system.name if external and manifest.system else spec.system.name,
                                    seed=0 if external else spec.seed, cost=manifest.cost, progress=progress)


def _score_and_summarize(paths: RunPaths, spec: RunSpec, pset: PromptSet, prompts: list[Prompt], *,
                         wav_of: dict[str, Path], system: str, seed: int, cost: CostEntry | None,
                         progress: bool) -> Path:
    metric_info = score_all(spec.metrics, prompts, wav_of, paths.scores, load_context(spec), progress=progress)
    write_manifest(paths, spec, pset, metrics=metric_info)
    summary = summarize(paths.root.name, system, pset.name, seed, prompts, paths.synth, paths.scores,
                        metric_info, spec.metrics, cost)
    write_json(paths.summary, summary.to_json())
    return paths.root


def external_run_id(wav_dir: Path, pset: PromptSet) -> str:
    """The run id of audio scored from elsewhere: the folder and the prompt set's checksum."""
    return hashlib.sha256(f"{Path(wav_dir).resolve()}|{pset.checksum}".encode()).hexdigest()[:12]


def nothing_scored(summary: Summary) -> bool:
    """Whether a finished job produced no usable number: no utterance synthesized (or readable), or
    metrics asked for and none of them scored a single utterance (the CLI then exits 1)."""
    if summary.synth.ok == 0:
        return True
    return bool(summary.metrics) and all(m.n_scored == 0 for m in summary.metrics.values())


def _external_spec(name: str, wav_dir: Path) -> Any:
    return SystemSpec(name, {"external_dir": str(wav_dir)})


def _record_external(paths: RunPaths, prompts: Sequence[Prompt], wav_dir: Path) -> None:
    """synth.jsonl rows for audio made elsewhere: ok with its duration, or failed with the reason
    (missing; unreadable; NaN, empty or silent as the runner's output checks say)."""
    known = latest_synth(paths.synth)
    rows = []
    for p in prompts:
        row = _external_row(p, wav_dir / f"{p.utt_id}.wav")
        old = known.get(p.utt_id)
        if old is None or (old.status, old.error) != (row.status, row.error):
            rows.append(row)
    append_jsonl(paths.synth, [row.to_json() for row in rows])


def _external_row(prompt: Prompt, path: Path) -> SynthRow:
    if not path.exists():
        return SynthRow(utt_id=prompt.utt_id, status=FAILED, error=f"missing {path}")
    try:
        wav, rate = read_audio(path)
        check_output(wav, utt_id=prompt.utt_id, sample_rate=rate)
    except TTSBenchError as err:
        return SynthRow(utt_id=prompt.utt_id, status=FAILED, error=first_line(err))
    return SynthRow(utt_id=prompt.utt_id, status=OK, audio_seconds=len(wav) / rate, sample_rate=rate, external=True)


def _external_wavs(paths: RunPaths, prompts: Sequence[Prompt], wav_dir: Path) -> dict[str, Path]:
    """The external wavs whose synth row is ok (readable and passing the output checks)."""
    synth = latest_synth(paths.synth)
    return {p.utt_id: wav_dir / f"{p.utt_id}.wav" for p in prompts if p.utt_id in synth and synth[p.utt_id].ok}
