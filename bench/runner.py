"""The runner: synthesize a prompt set with one system, resumably, into a run directory.

The runner owns batching, seeding, timing and writing files. A system's bad output for one
utterance (NaN, silence, empty, an exception) marks that utterance failed with its reason; the run
goes on and the summary counts it. Re-running the same spec resumes: utterances whose wav and
synth row exist are not redone; failed ones are retried.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ttsbench import __version__
from ttsbench.audio import check_output, write_audio
from ttsbench.console import progress as progress_bar
from ttsbench.errors import TTSBenchError, first_line
from ttsbench.paths import path_component
from ttsbench.plugins import SYSTEMS
from ttsbench.prompt_sets import PromptSet, load_prompt_set
from ttsbench.schema import (
    FAILED,
    OK,
    CostEntry,
    GitInfo,
    MetricEntry,
    PromptSetInfo,
    RunManifest,
    ShardState,
    SynthRow,
    SystemEntry,
)
from ttsbench.shards import Shard
from ttsbench.spec import RunSpec
from ttsbench.store import append_jsonl, latest_synth, read_manifest, write_json
from ttsbench.types import LoadContext, Prompt


@dataclass(frozen=True)
class RunPaths:
    """Where a run lives, and which of its files this process writes: a shard writes only its own
    row files, manifest and lock (`ttsbench.shards`); readers read every shard's rows (the store)."""

    root: Path
    shard: Shard | None = None

    @property
    def wavs(self) -> Path:
        return self.root / "wavs"

    def wav(self, utt_id: str) -> Path:
        return self.wavs / f"{path_component(utt_id, 'utterance id')}.wav"

    def _own(self, stem: str, suffix: str) -> Path:
        return self.root / (f"{stem}{suffix}" if self.shard is None else f"{stem}.{self.shard.tag}{suffix}")

    @property
    def synth(self) -> Path:
        """The synth rows this process appends (`synth.jsonl`, or a shard's `synth.I-of-N.jsonl`)."""
        return self._own("synth", ".jsonl")

    @property
    def scores(self) -> Path:
        return self._own("scores", ".jsonl")

    @property
    def manifest(self) -> Path:
        """The manifest this process writes: run.json, or a shard's run.I-of-N.json."""
        return self._own("run", ".json")

    @property
    def lock(self) -> str:
        """The lock file's name: `run.lock`, or a shard's own (shards never wait for each other)."""
        return self._own("run", ".lock").name

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"


def load_context(spec: RunSpec) -> LoadContext:
    ctx = LoadContext.from_env(spec.device, spec.cache_dir, spec.allow_download)
    return LoadContext(ctx.device, ctx.cache_dir, ctx.allow_download, work_dir=Path(spec.out) / ".cache")


def prepare(spec: RunSpec) -> tuple[PromptSet, list[Prompt], RunPaths]:
    """Load the prompt set, apply the limit and pick the run directory (same spec, same dir)."""
    if spec.limit is not None and spec.limit < 0:
        raise TTSBenchError(f"--limit must be >= 0, got {spec.limit}")
    if spec.batch_size < 1:
        raise TTSBenchError(f"--batch-size must be >= 1, got {spec.batch_size}")
    pset = load_prompt_set(spec.prompt_set, audio_root=spec.audio_root, limit=spec.limit)
    prompts = list(pset.prompts if spec.limit is None else pset.prompts[: spec.limit])
    return pset, prompts, run_paths(spec, pset)


def run_paths(spec: RunSpec, pset: PromptSet) -> RunPaths:
    """The run directory of `spec` on the loaded prompt set `pset` (same spec, same dir); every name
    in it is a plain file name (`ttsbench.paths`), so nothing is written outside `spec.out`."""
    return RunPaths(Path(spec.out) / path_component(pset.name, "prompt-set name")
                    / path_component(spec.system.name, "system name")
                    / path_component(spec.run_id(pset.checksum, pset.key), "run id"))


def write_manifest(paths: RunPaths, spec: RunSpec, pset: PromptSet, *, system: SystemEntry | None = None,
                   cost: CostEntry | None = None, metrics: Mapping[str, MetricEntry] | None = None,
                   finished: bool = False) -> RunManifest:
    """Create or update run.json, or a shard's run.I-of-N.json (as schema 2, whatever the old file's
    schema), and return it. `finished` marks a shard's manifest once its work ran to the end.

    An existing run.json keeps its start time, sessions, system, cost, metric entries and any keys
    this version does not know. `system`, given when a system was loaded, replaces the stored
    entry and `cost` with it (cost belongs to the loaded system: None when it has no architecture
    spec); `metrics` add to, or replace by name, the stored metric entries.
    """
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    old = read_manifest(paths.manifest) if paths.manifest.is_file() else RunManifest()
    manifest = RunManifest(
        run_id=paths.root.name, spec=spec, identity=spec.identity(pset.checksum, pset.key),
        ttsbench_version=__version__, git=git_info(), python=platform.python_version(),
        platform=platform.platform(), torch=_torch_version(), device=device_name(spec.device),
        prompt_set=PromptSetInfo(name=pset.name, checksum=pset.checksum, n=len(pset.prompts),
                                 definition=pset.definition.description),
        started=old.started or now, updated=now, sessions=(*old.sessions, now),
        system=old.system if system is None else system, cost=old.cost if system is None else cost,
        metrics={**old.metrics, **(metrics or {})}, extra=old.extra,
        shard=None if paths.shard is None else ShardState(index=paths.shard.index, count=paths.shard.count,
                                                          finished=finished))
    write_json(paths.manifest, manifest.to_json())
    return manifest


def synthesize_all(spec: RunSpec, prompts: Sequence[Prompt], paths: RunPaths, *,
                   progress: bool = True) -> tuple[SystemEntry, CostEntry | None] | None:
    """Synthesize every prompt without a finished wav.

    Returns run.json's system entry and cost of the loaded system, or None when nothing was left
    to do (no system was loaded).
    """
    done = {utt for utt, row in latest_synth(paths.root).items() if row.ok and paths.wav(utt).is_file()}
    pending = [p for p in prompts if p.utt_id not in done]
    if not pending:
        return None

    system_cls = SYSTEMS.get(spec.system.name)
    system = system_cls.load(spec.system, load_context(spec))
    batch_size = min(spec.batch_size, system_cls.capabilities.max_batch)
    bar = progress_bar(len(pending), f"synthesize {spec.system.name}", progress)
    for start in range(0, len(pending), batch_size):
        batch = pending[start:start + batch_size]
        rows = _synthesize_batch(system, batch, spec.seed, paths)
        append_jsonl(paths.synth, [row.to_json() for row in rows])
        bar.update(len(batch))
    bar.close()
    entry = SystemEntry(name=spec.system.name, cls=f"{system_cls.__module__}.{system_cls.__name__}",
                        sample_rate=system.sample_rate, capabilities=dict(vars(system_cls.capabilities)),
                        describe=system.describe())
    return entry, _system_cost(system)


def _synthesize_batch(system: Any, batch: Sequence[Prompt], seed: int, paths: RunPaths) -> list[SynthRow]:
    """Run one batch; on an exception retry item by item so one bad prompt fails alone."""
    t0, batch_id = time.perf_counter(), uuid.uuid4().hex[:12]
    try:
        wavs = system.synthesize(batch, seed=seed)
        if len(wavs) != len(batch):
            raise TTSBenchError(f"system returned {len(wavs)} waveforms for a batch of {len(batch)}")
    except Exception as err:
        if len(batch) > 1:
            return [row for p in batch for row in _synthesize_batch(system, [p], seed, paths)]
        return [_failed(batch[0], seed, err)]
    seconds = time.perf_counter() - t0
    rows = []
    for prompt, wav in zip(batch, wavs):
        try:
            wav = check_output(wav, utt_id=prompt.utt_id, sample_rate=system.sample_rate)
        except TTSBenchError as err:
            rows.append(_failed(prompt, seed, err))
            continue
        write_audio(paths.wav(prompt.utt_id), wav, system.sample_rate)
        rows.append(SynthRow(utt_id=prompt.utt_id, seed=seed, status=OK, seconds=seconds, batch_id=batch_id,
                             batch_size=len(batch), audio_seconds=len(wav) / system.sample_rate,
                             sample_rate=system.sample_rate))
    return rows


def _failed(prompt: Prompt, seed: int, err: BaseException) -> SynthRow:
    message = first_line(err) if isinstance(err, TTSBenchError) else f"{type(err).__name__}: {first_line(err)}"
    return SynthRow(utt_id=prompt.utt_id, seed=seed, status=FAILED, error=message)


def _system_cost(system: Any) -> CostEntry | None:
    # lazy: the cost layer imports torch, which scoring audio made elsewhere never needs
    from ttsbench.metrics.cost import system_cost

    cost = system_cost(system)
    return None if cost is None else CostEntry.from_json(cost, f"{type(system).__name__} cost", path="")


def git_info() -> GitInfo:
    """The git sha and dirty flag of the ttsbench checkout (None outside a checkout)."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                                    capture_output=True, text=True, timeout=5).stdout.strip())
        return GitInfo(sha=sha, dirty=dirty)
    except (OSError, subprocess.SubprocessError):
        return GitInfo()


def _torch_version() -> str | None:
    """The installed torch's version, read without importing torch (scoring may never load it)."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def device_name(device: str) -> str:
    """A human name of the device (GPU model, or the CPU)."""
    if device.startswith("cuda"):
        # lazy: torch only to name a GPU; scoring on the CPU never loads it (issue 15)
        import torch

        if torch.cuda.is_available():
            return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"{device} ({platform.processor() or platform.machine()})"
