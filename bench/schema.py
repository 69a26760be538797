"""The records of a run directory, typed: run.json, synth.jsonl and scores.jsonl rows, summary.json.

Each record is a frozen dataclass with `to_json()` (exactly what is written) and `from_json(data,
source)` (what is read back). The writers (`ttsbench.runner`, `ttsbench.scoring`,
`ttsbench.pipeline`) build these records and the readers (`ttsbench.store.load_run`, the reports
and commands) get them back; docs/run-directory.md describes the same schema for outside tools.

Schema versions (run.json and summary.json carry `schema_version`; a file without one is 1):

- 1: the prompt-set keys are named "testset": run.json's top-level entry and `spec.testset`, and
  summary.json's `testset`.
- 2: those keys are named "prompt_set". Nothing else differs.

Reading accepts both (`_upgrade` renames the old keys); a newer version is one InputError asking
for a newer ttsbench. The JSONL rows carry no version: they are identical in schemas 1 and 2 and
belong to their directory's schema. `RunSpec.identity()`, which the run id hashes, keeps its own
frozen key names (still "testset"), so a schema-1 directory resumes under the same id.

Reading is lenient where files are older or hand-written: a missing key (or null) takes the
field's default, None meaning "not recorded". It is strict about types: a wrong one is one
InputError naming the file and key. Keys a record does not know are kept in its `extra` and
written back, so a resume that rewrites run.json (upgrading it to schema 2) drops nothing;
summary.json is recomputed from the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ttsbench.errors import InputError
from ttsbench.jsonfields import Fields
from ttsbench.spec import RunSpec

SCHEMA_VERSION = 2
OK = "ok"  # synth and score row status; anything else is a failure with its reason in `error`
FAILED = "failed"
_RENAMED_IN_2 = {"testset": "prompt_set"}


def read_version(data: Any, source: str) -> int:
    """The schema version of a run.json / summary.json object: 1 when absent; newer is an InputError."""
    version = Fields(data, source).integer("schema_version", 1)
    if version > SCHEMA_VERSION:
        raise InputError(f"{source} has schema_version {version}, newer than this ttsbench reads "
                         f"(1 to {SCHEMA_VERSION}): upgrade ttsbench to read it")
    if version < 1:
        raise InputError(f"{source}: schema_version {version} is not a ttsbench schema "
                         f"(1 to {SCHEMA_VERSION})")
    return version


def _upgrade(data: Mapping[str, Any], version: int, nested: tuple[str, ...] = ()) -> dict[str, Any]:
    """A schema-1 object (and its `nested` objects) with the keys renamed in schema 2."""
    out = dict(data)
    if version >= 2:
        return out
    for old, new in _RENAMED_IN_2.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    for key in nested:
        if isinstance(out.get(key), Mapping):
            out[key] = _upgrade(out[key], version)
    return out


def _nested(record: Any, f: Fields, key: str) -> Any:
    """`record.from_json` of the object at `key`, or None when it is absent."""
    value = f.raw(key)
    return None if value is None else record.from_json(value, f.source, f.key_path(key))


def _by_name(record: Any, f: Fields, key: str) -> dict[str, Any]:
    """`record.from_json` of each value of the object at `key` (e.g. metrics by name)."""
    return {name: record.from_json(value, f.source, f"{f.key_path(key)}.{name}")
            for name, value in f.table(key).items()}


def _extra(f: Fields) -> dict[str, Any]:
    """The unread keys of a record, minus the version (written by `to_json` itself)."""
    rest = f.rest()
    rest.pop("schema_version", None)
    return rest


# ---- run.json -------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class PromptSetInfo:
    """run.json `prompt_set` (schema 1: `testset`): the prompt set the run was made on."""

    name: str | None = None  # the set's name: a registered set or a manifest's file stem
    checksum: str | None = None  # "sha256:<hex>" over the set's rows; part of the run id
    n: int | None = None  # prompts in the whole set (a --limit run uses the first n_expected)
    definition: str | None = None  # one line: where the set comes from
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "checksum": self.checksum, "n": self.n, "definition": self.definition,
                **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "run.json", path: str = "prompt_set") -> PromptSetInfo:
        f = Fields(data, source, path)
        return cls(name=f.text("name"), checksum=f.text("checksum"), n=f.integer("n"),
                   definition=f.text("definition"), extra=_extra(f))


@dataclass(frozen=True, kw_only=True)
class GitInfo:
    """run.json `git`: the ttsbench checkout that made the run (both None outside a checkout)."""

    sha: str | None = None  # HEAD commit
    dirty: bool | None = None  # tracked files differed from HEAD

    def to_json(self) -> dict[str, Any]:
        return {"sha": self.sha, "dirty": self.dirty}

    @classmethod
    def from_json(cls, data: Any, source: str = "run.json", path: str = "git") -> GitInfo:
        f = Fields(data, source, path)
        return cls(sha=f.text("sha"), dirty=f.flag("dirty"))


_SYSTEM_FIXED = ("name", "class", "sample_rate", "capabilities", "external_dir")


@dataclass(frozen=True, kw_only=True)
class SystemEntry:
    """run.json `system`: the system as loaded, written when it synthesized.

    The fixed fields are ttsbench's; `describe` is the system's own `describe()` output (weights
    hash, settings, versions), written flat beside them, which each system owns. Fixed fields that
    are None are not written: an externally scored run has only `name` and `external_dir`.
    """

    name: str | None = None  # registered name (or the --name of `ttsbench score`)
    cls: str | None = None  # JSON "class": module.Class of the adapter
    sample_rate: int | None = None  # Hz of the generated wavs
    capabilities: Mapping[str, Any] | None = None  # the class's declared Capabilities
    external_dir: str | None = None  # `ttsbench score`: the folder of audio made elsewhere
    describe: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        fixed = dict(zip(_SYSTEM_FIXED, (self.name, self.cls, self.sample_rate, self.capabilities,
                                         self.external_dir)))
        return {**{k: v for k, v in fixed.items() if v is not None}, **self.describe}

    @classmethod
    def from_json(cls, data: Any, source: str = "run.json", path: str = "system") -> SystemEntry:
        f = Fields(data, source, path)
        caps = None if f.raw("capabilities") is None else f.table("capabilities")
        return cls(name=f.text("name"), cls=f.text("class"), sample_rate=f.integer("sample_rate"),
                   capabilities=caps, external_dir=f.text("external_dir"), describe=f.rest())

    def detail(self, *path: str) -> Any:
        """A value of the system's own description, by key path (None where it has none):
        `entry.detail("model_config", "num_layers")`."""
        value: Any = self.describe
        for key in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value


@dataclass(frozen=True, kw_only=True)
class MetricEntry:
    """run.json `metrics.<name>`: a metric recipe as the run scored it.

    Rows of scores.jsonl belong to a recipe through `fingerprint_id`; a changed recipe gets a new
    id and scores afresh beside the old rows.
    """

    version: str | None = None  # the recipe's version string
    fingerprint: Mapping[str, Any] = field(default_factory=dict)  # everything that pins its numbers
    fingerprint_id: str | None = None  # 12 hex of the fingerprint's hash: the key of its rows
    options: Mapping[str, Any] = field(default_factory=dict)  # NAME:key=value options given
    higher_is_better: bool | None = None  # None: descriptive, never ranked
    primary: str | None = None  # the aggregate key reports show
    comparable: bool = False  # False: an offline stand-in, not comparable with published numbers
    label: str | None = None  # column title with its unit, e.g. "WER (%)"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "fingerprint": dict(self.fingerprint),
                "fingerprint_id": self.fingerprint_id, "options": dict(self.options),
                "higher_is_better": self.higher_is_better, "primary": self.primary,
                "comparable": self.comparable, "label": self.label, **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "run.json", path: str = "metrics.<name>") -> MetricEntry:
        f = Fields(data, source, path)
        return cls(version=f.text("version"), fingerprint=f.table("fingerprint"),
                   fingerprint_id=f.text("fingerprint_id"), options=f.table("options"),
                   higher_is_better=f.flag("higher_is_better"), primary=f.text("primary"),
                   comparable=bool(f.flag("comparable", False)), label=f.text("label"), extra=_extra(f))


@dataclass(frozen=True, kw_only=True)
class CostEntry:
    """run.json (and summary.json) `cost`: analytic FLOPs of one utterance under a stated setup."""

    flops: float | None = None  # FLOPs = 2 x MACs, per utterance of the setup in `scope`
    tflops: float | None = None  # flops / 1e12
    unit: str | None = None  # e.g. "FLOPs (=2 MACs)"
    scope: str | None = None  # the setup, identical across systems (reports group by it)
    detail: str | None = None  # what was counted for this system: networks, calls, NFE, CFG
    method: str | None = None  # how it was counted, e.g. "analytic"
    macs: float | None = None  # multiply-accumulates per utterance
    arch: str | None = None  # the architecture spec's name
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"flops": self.flops, "tflops": self.tflops, "unit": self.unit, "scope": self.scope,
                "detail": self.detail, "method": self.method, "macs": self.macs, "arch": self.arch,
                **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "run.json", path: str = "cost") -> CostEntry:
        f = Fields(data, source, path)
        return cls(flops=f.number("flops"), tflops=f.number("tflops"), unit=f.text("unit"),
                   scope=f.text("scope"), detail=f.text("detail"), method=f.text("method"),
                   macs=f.number("macs"), arch=f.text("arch"), extra=_extra(f))


@dataclass(frozen=True, kw_only=True)
class ShardState:
    """A shard's own manifest (`run.I-of-N.json`) says which shard it is and whether it finished."""

    index: int = 0  # I, from 0
    count: int = 1  # N
    finished: bool = False  # its synthesis and scoring ran to the end (a crash or kill leaves False)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "count": self.count, "finished": self.finished}

    @classmethod
    def from_json(cls, data: Any, source: str = "run.json", path: str = "shard") -> ShardState:
        f = Fields(data, source, path)
        return cls(index=f.integer("index", 0), count=f.integer("count", 1), finished=bool(f.flag("finished", False)))


@dataclass(frozen=True, kw_only=True)
class ShardsSummary:
    """summary.json `shards` of a sharded run: the shard count and which shards have finished."""

    count: int = 1
    finished: tuple[int, ...] = ()
    missing: tuple[int, ...] = ()  # shards without a finished manifest: their utterances may be unscored

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "finished": list(self.finished), "missing": list(self.missing)}

    @classmethod
    def from_json(cls, data: Any, source: str = "summary.json", path: str = "shards") -> ShardsSummary:
        f = Fields(data, source, path)
        return cls(count=f.integer("count", 1), finished=tuple(int(i) for i in f.raw("finished", [])),
                   missing=tuple(int(i) for i in f.raw("missing", [])))


@dataclass(frozen=True, kw_only=True)
class RunManifest:
    """run.json: what ran, on what, with what; rewritten atomically at each step of a run."""

    run_id: str | None = None  # the directory's name: 12 hex of sha256(identity)
    spec: RunSpec | None = None  # the run spec (without out / cache_dir / allow_download)
    identity: Mapping[str, Any] = field(default_factory=dict)  # what the run id hashes (frozen keys)
    ttsbench_version: str | None = None
    git: GitInfo = field(default_factory=GitInfo)
    python: str | None = None  # Python version
    platform: str | None = None  # platform.platform()
    torch: str | None = None  # torch version, None without torch
    device: str | None = None  # e.g. "cuda:0 (NVIDIA H100)", "cpu (x86_64)"
    prompt_set: PromptSetInfo | None = None
    started: str | None = None  # ISO 8601 UTC time of the first write
    updated: str | None = None  # ... of the last write
    sessions: tuple[str, ...] = ()  # ... of every write, in order: one per step of each invocation
    system: SystemEntry | None = None  # None until the system has synthesized (or for old runs)
    cost: CostEntry | None = None  # None: the system has no architecture spec (or not loaded yet)
    metrics: Mapping[str, MetricEntry] = field(default_factory=dict)  # by metric name
    shard: ShardState | None = None  # only in a shard's own run.I-of-N.json
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        shard = {"shard": self.shard.to_json()} if self.shard else {}
        return {
            "schema_version": SCHEMA_VERSION, "run_id": self.run_id,
            "spec": self.spec.to_json() if self.spec else None, "identity": dict(self.identity),
            "ttsbench_version": self.ttsbench_version, "git": self.git.to_json(), "python": self.python,
            "platform": self.platform, "torch": self.torch, "device": self.device,
            "prompt_set": self.prompt_set.to_json() if self.prompt_set else None,
            "started": self.started, "updated": self.updated, "sessions": list(self.sessions),
            "system": self.system.to_json() if self.system else None,
            "cost": self.cost.to_json() if self.cost else None,
            "metrics": {name: m.to_json() for name, m in self.metrics.items()}, **shard, **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "run.json") -> RunManifest:
        """A run.json object of schema 1 or 2 (`source` names the file in errors)."""
        f = Fields(_upgrade(data, read_version(data, source), nested=("spec",)), source)
        spec = f.raw("spec")
        return cls(
            run_id=f.text("run_id"),
            spec=None if spec is None else RunSpec.from_json(spec, source=source, path="spec"),
            identity=f.table("identity"), ttsbench_version=f.text("ttsbench_version"),
            git=_nested(GitInfo, f, "git") or GitInfo(), python=f.text("python"),
            platform=f.text("platform"), torch=f.text("torch"), device=f.text("device"),
            prompt_set=_nested(PromptSetInfo, f, "prompt_set"), started=f.text("started"),
            updated=f.text("updated"), sessions=f.texts("sessions"), system=_nested(SystemEntry, f, "system"),
            cost=_nested(CostEntry, f, "cost"), metrics=_by_name(MetricEntry, f, "metrics"),
            shard=_nested(ShardState, f, "shard"), extra=_extra(f))


# ---- synth.jsonl and scores.jsonl -----------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class SynthRow:
    """One line of synth.jsonl: one utterance's synthesis (the last row of an utt_id wins).

    Fields that are None are not written: a failed row is utt_id, seed, status, error; a row of
    audio made elsewhere (`ttsbench score`) has no seed, timing or batch and `external: true`.
    """

    utt_id: str
    seed: int | None = None  # the run's seed
    status: str  # "ok" | "failed" (a row without one reads as failed)
    error: str | None = None  # one line: why it failed (None when ok)
    seconds: float | None = None  # wall seconds of the whole batch this utterance was in
    batch_id: str | None = None  # 12 hex shared by the rows of one batch (one clock per batch)
    batch_size: int | None = None  # prompts in that batch
    audio_seconds: float | None = None  # length of the generated wav
    sample_rate: int | None = None  # Hz of the generated wav
    external: bool = False  # audio made by another tool, scored with `ttsbench score`
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"utt_id": self.utt_id, "seed": self.seed, "status": self.status,
                               "error": self.error, "seconds": self.seconds, "batch_id": self.batch_id,
                               "batch_size": self.batch_size, "audio_seconds": self.audio_seconds,
                               "sample_rate": self.sample_rate, "external": self.external or None}
        return {**{k: v for k, v in row.items() if v is not None or k == "error"}, **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "synth.jsonl", path: str = "") -> SynthRow:
        f = Fields(data, source, path)
        return cls(utt_id=f.required_text("utt_id"), seed=f.integer("seed"), status=f.text("status", FAILED),
                   error=f.text("error"), seconds=f.number("seconds"), batch_id=f.text("batch_id"),
                   batch_size=f.integer("batch_size"), audio_seconds=f.number("audio_seconds"),
                   sample_rate=f.integer("sample_rate"), external=bool(f.flag("external", False)),
                   extra=f.rest())


@dataclass(frozen=True, kw_only=True)
class ScoreRow:
    """One line of scores.jsonl: one utterance scored by one recipe.

    The key is (utt_id, metric, fingerprint_id); the last row of a key wins. `stats` are the
    recipe's per-utterance sufficient statistics (its own names and units), written flat beside
    the fixed fields; a failed row has none.
    """

    utt_id: str
    metric: str  # the recipe's name
    fingerprint_id: str | None = None  # the recipe version these numbers belong to
    status: str  # "ok" | "failed" (a row without one reads as failed)
    error: str | None = None  # one line: why scoring failed (None when ok)
    stats: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.utt_id, self.metric, self.fingerprint_id)

    def to_json(self) -> dict[str, Any]:
        return {"utt_id": self.utt_id, "metric": self.metric, "fingerprint_id": self.fingerprint_id,
                "status": self.status, "error": self.error, **self.stats}

    @classmethod
    def from_json(cls, data: Any, source: str = "scores.jsonl", path: str = "") -> ScoreRow:
        f = Fields(data, source, path)
        return cls(utt_id=f.required_text("utt_id"), metric=f.required_text("metric"),
                   fingerprint_id=f.text("fingerprint_id"), status=f.text("status", FAILED),
                   error=f.text("error"), stats=f.rest())


# ---- summary.json ---------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class SynthCounts:
    """summary.json `synth`: how synthesis went over the run's prompts (the latest row of each)."""

    ok: int | None = None  # utterances with a wav
    failed: int | None = None  # utterances whose synthesis failed (listed with reasons below)
    missing: int | None = None  # prompts without a synth row yet
    failed_ids: tuple[str, ...] = ()  # sorted
    errors: Mapping[str, str | None] = field(default_factory=dict)  # utt_id -> reason
    audio_seconds: float | None = None  # total length of the ok wavs
    wall_seconds: float | None = None  # total synthesis wall time (each batch counted once)
    rtf: float | None = None  # wall_seconds / audio_seconds; None without audio
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "failed": self.failed, "missing": self.missing,
                "failed_ids": list(self.failed_ids), "errors": dict(self.errors),
                "audio_seconds": self.audio_seconds, "wall_seconds": self.wall_seconds, "rtf": self.rtf,
                **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "summary.json", path: str = "synth") -> SynthCounts:
        f = Fields(data, source, path)
        return cls(ok=f.integer("ok"), failed=f.integer("failed"), missing=f.integer("missing"),
                   failed_ids=f.texts("failed_ids"), errors=f.table("errors"),
                   audio_seconds=f.number("audio_seconds"), wall_seconds=f.number("wall_seconds"),
                   rtf=f.number("rtf"), extra=_extra(f))


@dataclass(frozen=True, kw_only=True)
class MetricSummary:
    """summary.json `metrics.<name>`: a recipe's aggregates over the run's ok rows.

    `values` maps aggregate keys (the recipe's names, e.g. "wer_macro") to numbers; a key with a
    95 % bootstrap CI has `<key>_ci_low` and `<key>_ci_high` beside it.
    """

    label: str | None = None  # see MetricEntry for these six
    primary: str | None = None
    higher_is_better: bool | None = None
    comparable: bool = False
    fingerprint_id: str | None = None
    version: str | None = None
    n_scored: int | None = None  # utterances with an ok row of this fingerprint
    n_failed: int | None = None  # utterances whose scoring failed
    n_unscored: int | None = None  # prompts not scored (synthesis failed or not run)
    values: Mapping[str, float | None] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def primary_key(self) -> str:
        """The key reports show: `primary`, or "value" when the file names none."""
        return self.primary or "value"

    @classmethod
    def unscored(cls, entry: MetricEntry) -> MetricSummary:
        """A recipe the run.json names but the summary has no aggregates of (counts unknown)."""
        return cls(label=entry.label, primary=entry.primary, higher_is_better=entry.higher_is_better,
                   comparable=entry.comparable, fingerprint_id=entry.fingerprint_id, version=entry.version)

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "primary": self.primary, "higher_is_better": self.higher_is_better,
                "comparable": self.comparable, "fingerprint_id": self.fingerprint_id,
                "version": self.version, "n_scored": self.n_scored, "n_failed": self.n_failed,
                "n_unscored": self.n_unscored, "values": dict(self.values), **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "summary.json",
                  path: str = "metrics.<name>") -> MetricSummary:
        f = Fields(data, source, path)
        values = f.obj("values") or Fields({}, f.source, f.key_path("values"))
        return cls(label=f.text("label"), primary=f.text("primary"),
                   higher_is_better=f.flag("higher_is_better"), comparable=bool(f.flag("comparable", False)),
                   fingerprint_id=f.text("fingerprint_id"), version=f.text("version"),
                   n_scored=f.integer("n_scored"), n_failed=f.integer("n_failed"),
                   n_unscored=f.integer("n_unscored"),
                   values={k: values.number(k) for k in values.rest()}, extra=_extra(f))


@dataclass(frozen=True, kw_only=True)
class Summary:
    """summary.json: the run's counts and every recipe's aggregates, rewritten after each run."""

    run_id: str | None = None
    system: str | None = None  # system name
    prompt_set: str | None = None  # prompt-set name (schema 1: `testset`)
    seed: int | None = None
    n_expected: int | None = None  # prompts this run covers (after --limit)
    synth: SynthCounts = field(default_factory=SynthCounts)
    metrics: Mapping[str, MetricSummary] = field(default_factory=dict)  # by metric name
    cost: CostEntry | None = None  # a copy of run.json's
    shards: ShardsSummary | None = None  # a sharded run's shards (None: one process did the run)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        shards = {"shards": self.shards.to_json()} if self.shards else {}
        return {"schema_version": SCHEMA_VERSION, "run_id": self.run_id, "system": self.system,
                "prompt_set": self.prompt_set, "seed": self.seed, "n_expected": self.n_expected,
                "synth": self.synth.to_json(), "metrics": {k: m.to_json() for k, m in self.metrics.items()},
                "cost": self.cost.to_json() if self.cost else None, **shards, **self.extra}

    @classmethod
    def from_json(cls, data: Any, source: str = "summary.json") -> Summary:
        """A summary.json object of schema 1 or 2 (`source` names the file in errors)."""
        f = Fields(_upgrade(data, read_version(data, source)), source)
        return cls(run_id=f.text("run_id"), system=f.text("system"), prompt_set=f.text("prompt_set"),
                   seed=f.integer("seed"), n_expected=f.integer("n_expected"),
                   synth=_nested(SynthCounts, f, "synth") or SynthCounts(),
                   metrics=_by_name(MetricSummary, f, "metrics"), cost=_nested(CostEntry, f, "cost"),
                   shards=_nested(ShardsSummary, f, "shards"), extra=_extra(f))
