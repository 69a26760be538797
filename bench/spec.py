"""Run specifications: typed, frozen, parsed from the CLI or a TOML file at the edge of the program.

The run id is a hash of what determines the generated audio: system spec, prompt set (name, or a
manifest's resolved path, and checksum) and seed. `limit`, batch size, device and the metric list
are not in it: a larger limit or a new metric continues the same run directory instead of starting
another.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ttsbench.errors import TTSBenchError
from ttsbench.jsonfields import Fields
from ttsbench.types import OptionValue, SystemSpec, parse_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class MetricSpec:
    """A metric recipe name and its options (`NAME[:key=value,...]`)."""

    name: str
    options: dict[str, OptionValue] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(sorted(self.options.items()))}

    @classmethod
    def from_json(cls, data: Any, *, source: str = "metric spec", path: str = "") -> MetricSpec:
        """The spec `to_json` wrote; a missing `options` is none. A wrong type is an InputError."""
        f = Fields(data, source, path)
        return cls(f.required_text("name"), f.table("options"))


@dataclass(frozen=True)
class RunSpec:
    """One run: a system x a prompt set x metrics x a seed."""

    system: SystemSpec
    prompt_set: str
    metrics: tuple[MetricSpec, ...] = ()
    seed: int = 0
    limit: int | None = None
    batch_size: int = 1
    device: str = "cpu"
    out: Path = Path("runs")
    audio_root: Path | None = None
    cache_dir: Path | None = None
    allow_download: bool = False

    def identity(self, prompt_set_checksum: str, prompt_set_key: str | None = None) -> dict[str, Any]:
        """What the run id hashes: everything that determines the generated audio.

        The key names are frozen ("testset" predates the name "prompt set"): renaming them would
        give every existing run directory a new id, and re-runs would no longer resume.
        `prompt_set_key` is the loaded set's `PromptSet.key` (a manifest's resolved path, so that
        however its path is spelt it is one run; a registered set's name as given); None: the
        spec's `prompt_set` as written.
        """
        return {"system": self.system.to_json(), "testset": prompt_set_key or self.prompt_set,
                "testset_checksum": prompt_set_checksum, "seed": self.seed}

    def run_id(self, prompt_set_checksum: str, prompt_set_key: str | None = None) -> str:
        blob = json.dumps(self.identity(prompt_set_checksum, prompt_set_key), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        """run.json's `spec` (schema 2). `out`, `cache_dir` and `allow_download` are where and how
        to run, not what ran: they are not stored."""
        return {"system": self.system.to_json(), "prompt_set": self.prompt_set,
                "metrics": [m.to_json() for m in self.metrics], "seed": self.seed, "limit": self.limit,
                "batch_size": self.batch_size, "device": self.device,
                "audio_root": str(self.audio_root) if self.audio_root else None}

    @classmethod
    def from_json(cls, data: Any, *, out: Path = Path("runs"), source: str = "run spec",
                  path: str = "") -> RunSpec:
        """The spec `to_json` wrote (schema-2 keys: `ttsbench.schema` renames schema 1's first).

        Keys an older or hand-written run.json lacks take the field defaults, and so do the fields
        that are never stored, except `out`. `source` and `path` say where the object is, for the
        one-line InputError that a wrong type gives.
        """
        f = Fields(data, source, path)
        system = f.obj("system") or Fields({}, source, f.key_path("system"))
        checkpoint = system.text("checkpoint")
        return cls(
            system=SystemSpec(system.required_text("name"), system.table("options"),
                              Path(checkpoint) if checkpoint else None),
            prompt_set=f.required_text("prompt_set"),
            metrics=tuple(MetricSpec.from_json(m, source=source, path=f"{f.key_path('metrics')}[{i}]")
                          for i, m in enumerate(f.items("metrics"))),
            seed=f.integer("seed", 0), limit=f.integer("limit"), batch_size=f.integer("batch_size", 1),
            device=f.text("device", "cpu"), out=out, audio_root=_path(f.text("audio_root")))


def parse_metrics(text: str) -> tuple[MetricSpec, ...]:
    """`a,b:k=v,k2=v2,c` -> three specs; a `key=value` token without ':' belongs to the previous metric."""
    specs: list[tuple[str, dict[str, OptionValue]]] = []
    for token in filter(None, (t.strip() for t in text.split(","))):
        if "=" in token and ":" not in token.split("=", 1)[0]:
            if not specs:
                raise TTSBenchError(f"metric option {token!r} comes before any metric name in {text!r}")
            key, _, value = token.partition("=")
            specs[-1][1][key.strip()] = parse_value(value.strip())
            continue
        name, _, opt = token.partition(":")
        options: dict[str, OptionValue] = {}
        if opt:
            key, eq, value = opt.partition("=")
            if not eq:
                raise TTSBenchError(f"bad metric option {opt!r} in {text!r}; expected key=value")
            options[key.strip()] = parse_value(value.strip())
        specs.append((name.strip(), options))
    return tuple(MetricSpec(n, o) for n, o in specs)


def load_toml(path: Path) -> RunSpec:
    """A RunSpec from TOML ([run], [system], [[metric]], [paths]); unknown keys are errors. A matrix
    spec (several systems, prompt sets or seeds) is refused here: read it with `load_matrix`."""
    runs = load_matrix(path).runs
    if len(runs) != 1:
        raise TTSBenchError(f"{path}: a matrix of {len(runs)} runs; this command takes one run")
    return runs[0]


@dataclass(frozen=True)
class MatrixSpec:
    """The runs of one spec file, in the order they run: by system, then prompt set, then seed.

    A file with one [system], `prompt_set` and `seed` is a matrix of one run. Several systems are
    `[[system]]` tables; several prompt sets and seeds are `prompt_sets = [...]` and `seeds = [...]`
    in [run]. `[report] out` is where the matrix report goes (default: `<out>/reports/<file stem>`).
    """

    runs: tuple[RunSpec, ...]
    report_out: Path | None = None


def load_matrix(path: Path) -> MatrixSpec:
    """Every run of a spec file (see MatrixSpec); unknown keys are errors."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TTSBenchError(f"spec file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise TTSBenchError(f"{path}: not valid TOML: {err}") from None
    _only(raw, {"run", "system", "metric", "paths", "report"}, path, "top level")
    run, paths, report = raw.get("run", {}), raw.get("paths", {}), raw.get("report", {})
    _only(run, {"prompt_set", "prompt_sets", "testset", "seed", "seeds", "limit", "batch_size", "device", "out",
                "audio_root"}, path, "[run]")
    _only(paths, {"cache_dir", "allow_download"}, path, "[paths]")
    _only(report, {"out"}, path, "[report]")
    if "testset" in run:  # the name before "prompt set"; accepted for one release
        if "prompt_set" in run:
            raise TTSBenchError(f"{path}: [run] sets both prompt_set and its deprecated alias testset")
        print(f"ttsbench: {path}: [run] testset is deprecated; write prompt_set", file=sys.stderr)
        run = {**run, "prompt_set": run["testset"]}
    prompt_sets = _one_or_list(run, "prompt_set", "prompt_sets", path, str)
    seeds = _one_or_list(run, "seed", "seeds", path, int) or [0]
    tables = raw.get("system", [])
    systems = [tables] if isinstance(tables, dict) else list(tables)
    if not systems or not prompt_sets or any("name" not in t for t in systems):
        raise TTSBenchError(f"{path}: needs [system] name = ... (or [[system]] tables, each with a name) "
                            "and [run] prompt_set = ... (or prompt_sets = [...])")
    metrics = []
    for m in raw.get("metric", []):
        m = dict(m)
        if "name" not in m:
            raise TTSBenchError(f"{path}: every [[metric]] needs a name")
        metrics.append(MetricSpec(m.pop("name"), m))
    common = dict(metrics=tuple(metrics), limit=run.get("limit"), batch_size=int(run.get("batch_size", 1)),
                  device=run.get("device", "cpu"), out=Path(run.get("out", "runs")),
                  audio_root=_path(run.get("audio_root")), cache_dir=_path(paths.get("cache_dir")),
                  allow_download=bool(paths.get("allow_download", False)))
    runs = tuple(RunSpec(system=_system(table), prompt_set=pset, seed=seed, **common)
                 for table in systems for pset in prompt_sets for seed in seeds)
    return MatrixSpec(runs, _path(report.get("out")))


def _system(table: dict[str, Any]) -> SystemSpec:
    options = dict(table)
    name, ckpt = options.pop("name"), options.pop("checkpoint", None)
    return SystemSpec(name, options, Path(ckpt) if ckpt else None)


def _one_or_list(table: dict[str, Any], one: str, many: str, path: Path, kind: type) -> list[Any]:
    """`one = x` or `many = [x, ...]` of [run] (not both; no duplicates), as a list."""
    if one in table and many in table:
        raise TTSBenchError(f"{path}: [run] sets both {one} and {many}")
    values = [table[one]] if one in table else list(table.get(many, []))
    if any(type(v) is not kind for v in values) or len(set(values)) != len(values):
        raise TTSBenchError(f"{path}: [run] {many if many in table else one} must be distinct "
                            f"{kind.__name__} values, got {values!r}")
    return values


def override(spec: RunSpec, **values: Any) -> RunSpec:
    """Replace fields whose value is not None (so `--seed 0` and `--limit 0` are honoured)."""
    return replace(spec, **{k: v for k, v in values.items() if v is not None})


def _only(table: dict[str, Any], valid: set[str], path: Path, where: str) -> None:
    unknown = set(table) - valid
    if unknown:
        raise TTSBenchError(f"{path}: unknown key(s) {sorted(unknown)} in {where}; valid: {sorted(valid)}")


def _path(value: Any) -> Path | None:
    return Path(value).expanduser() if value else None

