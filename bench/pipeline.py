"""End-to-end jobs: `run` (synthesize + score + summarize), `score_dir` (audio made elsewhere),
`rescore` (a run directory with new metrics) and `merge` (the summary of a sharded run).

Each job holds its run directory's lock (`ttsbench.locking`) while it writes: a second job on the
same directory stops at once in one line naming the holder, instead of doubling rows. Given a shard
(`ttsbench.shards`), the first three do that shard's utterances into its own files, side by side
with the other shards; `merge` then writes run.json and summary.json.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ttsbench.audio import check_output, read_audio
from ttsbench.errors import InputError, TTSBenchError, TTSBenchWarning, first_line
from ttsbench.locking import exclusive
from ttsbench.paths import path_component
from ttsbench.plugins import SYSTEMS
from ttsbench.prompt_sets import PromptSet, load_prompt_set
from ttsbench.runner import RunPaths, load_context, prepare, synthesize_all, write_manifest
from ttsbench.schema import (
    FAILED,
    OK,
    CostEntry,
    MetricEntry,
    RunManifest,
    ShardsSummary,
    Summary,
    SynthRow,
    SystemEntry,
)
from ttsbench.scoring import MetricPool, build_metric, score_all, summarize
from ttsbench.shards import Shard
from ttsbench.spec import MetricSpec, RunSpec, override
from ttsbench.store import (
    append_jsonl,
    clear_temp_files,
    find_runs,
    latest_synth,
    read_manifest,
    shard_manifests,
    write_json,
)
from ttsbench.types import Prompt, SystemSpec


def check_options(spec: RunSpec) -> None:
    """Unknown system or metric names and misspelt or ill-typed options fail here, in one line,
    before any work: no prompt set read, no model loaded, no run directory made."""
    SYSTEMS.get(spec.system.name).parse_options(spec.system)
    for m in spec.metrics:
        build_metric(m)  # a metric parses its options when built; building loads nothing


def run(spec: RunSpec, *, progress: bool = True, shard: Shard | None = None, pool: MetricPool | None = None) -> Path:
    """Synthesize, score and summarize; resumes whatever an earlier call with the same spec did.

    With `shard`, only that shard's utterances are done, into the shard's own files (no summary:
    `merge` writes run.json and summary.json once shards have finished).
    """
    check_options(spec)
    pset, prompts, whole = prepare(spec)
    if shard is None:
        with exclusive(whole.root, what="ttsbench job"):
            clear_temp_files(whole.root)
            return _run_locked(spec, pset, prompts, whole, progress, pool)
    paths = RunPaths(whole.root, shard)
    with _shard_locks(paths):
        write_manifest(paths, spec, pset)
        _synthesize_and_score(spec, pset, shard.select(prompts), paths, progress, pool)
        write_manifest(paths, spec, pset, finished=True)
        return paths.root


@contextlib.contextmanager
def _shard_locks(paths: RunPaths) -> Iterator[None]:
    """A shard's locks: run.lock shared (the shards run side by side, never under a whole-run job or
    a merge) and its own lock exclusive (one job per shard). A shard leaves temp files alone: another
    shard may be writing one right now."""
    assert paths.shard is not None
    with exclusive(paths.root, what="ttsbench job", shared=True), \
            exclusive(paths.root, paths.lock, what=f"ttsbench job on shard {paths.shard.index}/{paths.shard.count}"):
        yield


def _score_shard(paths: RunPaths, spec: RunSpec, pset: PromptSet, prompts: list[Prompt], wav_of: dict[str, Path],
                 progress: bool) -> None:
    metric_info = score_all(spec.metrics, prompts, wav_of, paths.scores, load_context(spec), progress=progress)
    write_manifest(paths, spec, pset, metrics=metric_info, finished=True)


def _run_locked(spec: RunSpec, pset: PromptSet, prompts: list[Prompt], paths: RunPaths, progress: bool,
                pool: MetricPool | None) -> Path:
    write_manifest(paths, spec, pset)
    manifest = _synthesize_and_score(spec, pset, prompts, paths, progress, pool)
    summary = summarize(paths.root.name, spec.system.name, pset.name, spec.seed, prompts, paths.root,
                        manifest.metrics, spec.metrics, manifest.cost)
    write_json(paths.summary, summary.to_json())
    return paths.root


def _synthesize_and_score(spec: RunSpec, pset: PromptSet, prompts: list[Prompt], paths: RunPaths,
                          progress: bool, pool: MetricPool | None = None) -> RunManifest:
    loaded = synthesize_all(spec, prompts, paths, progress=progress)
    if loaded is not None:
        system, cost = loaded
        write_manifest(paths, spec, pset, system=system, cost=cost)
    metric_info = score_all(spec.metrics, prompts, _scorable_wavs(paths, prompts, None), paths.scores,
                            load_context(spec), progress=progress, pool=pool)
    return write_manifest(paths, spec, pset, metrics=metric_info)


def merge(run_dir: Path) -> Path:
    """run.json and summary.json of a sharded run from whatever its shards have done; the summary
    names the shards that have not finished. Idempotent: merging again gives the same files."""
    root = Path(run_dir)
    shards = shard_manifests(root)
    if not shards:
        raise InputError(f"{root}: no shard manifests (run.I-of-N.json) to merge")
    docs = [read_manifest(path) for path in shards.values()]
    base = read_manifest(root / "run.json") if (root / "run.json").is_file() else None
    known = [d for d in (base, *docs) if d is not None and d.spec is not None]
    if not known:
        raise InputError(f"{root}: its shard manifests record no run spec")
    by_time = sorted(known, key=lambda d: d.updated or "")  # stable: on a tie a shard's is newer than run.json's
    metric_specs = {m.name: m for d in by_time for m in d.spec.metrics}  # every recipe any job scored
    spec = replace(by_time[-1].spec, metrics=tuple(metric_specs.values()))
    pset = load_prompt_set(spec.prompt_set, audio_root=spec.audio_root, limit=spec.limit)
    prompts = list(pset.prompts if spec.limit is None else pset.prompts[: spec.limit])
    count = max(zip(docs, shards), key=lambda ds: ds[0].updated or "")[1].count  # the latest job's split
    finished = tuple(s.index for s, d in zip(shards, docs) if s.count == count and d.shard and d.shard.finished)
    with exclusive(root, "run.lock", what="ttsbench job"):
        merged = _merged_manifest(root, spec, pset, [d for d in (base, *docs) if d is not None])
        write_json(root / "run.json", merged.to_json())
        summary = summarize(root.name, spec.system.name, pset.name, spec.seed, prompts, root, merged.metrics,
                            spec.metrics, merged.cost,
                            ShardsSummary(count=count, finished=finished,
                                          missing=tuple(i for i in range(count) if i not in finished)))
        write_json(root / "summary.json", summary.to_json())
    return root


def merge_pending(paths: Sequence[str | Path]) -> None:
    """Merge every sharded run at or below `paths` whose summary is missing or older than one of its
    shard manifests (what `report`, `compare` and `check` do before reading). A run whose shards are
    still running keeps its last summary, with a warning."""
    for root in find_runs(paths):
        manifests = shard_manifests(root)
        if not manifests:
            continue
        summary = root / "summary.json"
        newest = max(p.stat().st_mtime for p in manifests.values())
        if summary.is_file() and summary.stat().st_mtime >= newest:
            continue
        try:
            merge(root)
        except InputError as exc:
            warnings.warn(f"{root}: not merged ({first_line(exc)}); reading its last summary", TTSBenchWarning,
                          stacklevel=2)


def _merged_manifest(root: Path, spec: RunSpec, pset: PromptSet, docs: list[RunManifest]) -> RunManifest:
    """One run.json from the shards' (and an earlier run.json's): the newest system and cost, every
    metric entry (the newest of each name), every session."""
    by_time = sorted(docs, key=lambda d: d.updated or "")
    with_system = [d for d in by_time if d.system is not None]
    metrics: dict[str, MetricEntry] = {}
    for d in by_time:
        metrics.update(d.metrics)
    newest = by_time[-1]
    return replace(newest, run_id=root.name, spec=spec, identity=spec.identity(pset.checksum, pset.key),
                   started=min((d.started for d in docs if d.started), default=None),
                   sessions=tuple(sorted({s for d in docs for s in d.sessions})),
                   system=with_system[-1].system if with_system else None,
                   cost=with_system[-1].cost if with_system else None, metrics=metrics, shard=None)


def score_dir(wav_dir: Path, prompt_set: str, metrics: Sequence[MetricSpec], *, out: Path,
              name: str | None = None, audio_root: Path | None = None, limit: int | None = None,
              allow_missing: bool = False, device: str = "cpu", cache_dir: Path | None = None,
              progress: bool = True, shard: Shard | None = None) -> Path:
    """Score `<utt_id>.wav` files that another tool generated for a prompt set (with `shard`, that
    shard's utterances only, into its own files).

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
    entry = SystemEntry(name=system, external_dir=str(wav_dir))
    if shard is not None:
        paths = RunPaths(paths.root, shard)
        with _shard_locks(paths):
            mine = shard.select(prompts)
            write_manifest(paths, spec, pset, system=entry, cost=None)
            _record_external(paths, mine, wav_dir)
            _score_shard(paths, spec, pset, mine, _external_wavs(paths, mine, wav_dir), progress)
            return paths.root
    with exclusive(paths.root, what="ttsbench job"):
        clear_temp_files(paths.root)
        write_manifest(paths, spec, pset, system=entry, cost=None)
        _record_external(paths, prompts, wav_dir)
        return _score_and_summarize(paths, spec, pset, prompts, wav_of=_external_wavs(paths, prompts, wav_dir),
                                    system=system, seed=0, cost=None, progress=progress)


def rescore(run_dir: Path, metrics: Sequence[MetricSpec] | None = None, *, limit: int | None = None,
            device: str | None = None, audio_root: Path | None = None, cache_dir: Path | None = None,
            progress: bool = True, shard: Shard | None = None) -> Path:
    """Score an existing run directory again (with `metrics`, else those it records): nothing is
    synthesized. A directory whose run.json no longer describes it (an edited spec hashes to another
    run id) is refused in one line rather than scored as another run somewhere else. With `shard`,
    only that shard's utterances, into the shard's own files (`merge` summarizes)."""
    run_dir = Path(run_dir).resolve()
    manifest = _recorded_manifest(run_dir)
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
    system = manifest.system.name if external and manifest.system else spec.system.name
    if shard is not None:
        paths = RunPaths(run_dir, shard)
        with _shard_locks(paths):
            mine = shard.select(prompts)
            _score_shard(paths, spec, pset, mine, _scorable_wavs(paths, mine, external), progress)
            return paths.root
    paths = RunPaths(run_dir)
    with exclusive(paths.root, what="ttsbench job"):
        clear_temp_files(paths.root)
        return _score_and_summarize(paths, spec, pset, prompts, wav_of=_scorable_wavs(paths, prompts, external),
                                    system=system, seed=0 if external else spec.seed, cost=manifest.cost,
                                    progress=progress)


def _recorded_manifest(run_dir: Path) -> RunManifest:
    """run.json, or for a sharded run not merged yet the newest shard manifest (they record one spec)."""
    if (run_dir / "run.json").is_file() or not shard_manifests(run_dir):
        return read_manifest(run_dir / "run.json")
    return max((read_manifest(p) for p in shard_manifests(run_dir).values()), key=lambda d: d.updated or "")


def _scorable_wavs(paths: RunPaths, prompts: Sequence[Prompt], external: str | None) -> dict[str, Path]:
    """The wavs to score: an external run's that passed its checks, else those the run made."""
    if external:
        return _external_wavs(paths, prompts, Path(external))
    synth = latest_synth(paths.root)
    return {p.utt_id: paths.wav(p.utt_id) for p in prompts
            if p.utt_id in synth and synth[p.utt_id].ok and paths.wav(p.utt_id).is_file()}


def _score_and_summarize(paths: RunPaths, spec: RunSpec, pset: PromptSet, prompts: list[Prompt], *,
                         wav_of: dict[str, Path], system: str, seed: int, cost: CostEntry | None,
                         progress: bool) -> Path:
    metric_info = score_all(spec.metrics, prompts, wav_of, paths.scores, load_context(spec), progress=progress)
    write_manifest(paths, spec, pset, metrics=metric_info)
    summary = summarize(paths.root.name, system, pset.name, seed, prompts, paths.root, metric_info,
                        spec.metrics, cost)
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
    known = latest_synth(paths.root)
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
    synth = latest_synth(paths.root)
    return {p.utt_id: wav_dir / f"{p.utt_id}.wav" for p in prompts if p.utt_id in synth and synth[p.utt_id].ok}
