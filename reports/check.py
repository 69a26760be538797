"""The CI regression gate: compare one run's summary.json against a baseline file.

Baseline file (JSON, or TOML with the same keys; `checks` is a TOML array of tables `[[checks]]`)::

    {"schema_version": 2,
     "run": {"run_id": "...", "system": "...", "n_expected": 40,
             "prompt_set": {"name": "seedtts-en", "checksum": "sha256:..."}},
     "checks": [{"metric": "wer-seedtts-en", "key": "wer_macro", "value": 2.31,
                 "higher_is_better": false, "fingerprint_id": "1a2b3c4d5e6f", "n_scored": 40,
                 "abs": 0.2, "rel": 0.05, "max_dropped": 0}]}

`run.prompt_set` is the set the baseline was measured on, copied from the run's run.json (its name
and the checksum over its rows); each check's `fingerprint_id` pins the metric recipe. Schema 1
(older ttsbench) had `run.testset`, the name only, and no checksum: it is still read. Every number
in the file must be finite: NaN or inf anywhere (JSON `NaN`/`Infinity`, TOML `nan`/`inf`) is bad
input, since NaN compares false with everything and would pass every check.

`check` refuses (one line, exit 2) a baseline it cannot read, a check without `metric` and
`value`, an unknown field, a non-finite or non-numeric number, a negative tolerance and a
`schema_version` newer than 2. It fails (exit 1) when

- the run's prompt set is another than the baseline's (the checksums differ): its numbers are not
  comparable. `--allow-other-set` compares anyway and says so. When the baseline or the run records
  no checksum the set cannot be verified: `check` says so and goes on;
- a value moved in the bad direction by more than the allowed slack = max(abs, rel * |baseline|)
  (lower-is-better: up; higher-is-better: down; a descriptive metric, higher_is_better null: either way);
- the run scored more than `max_dropped` fewer utterances than the baseline (failed utterances leave
  the mean, so a run that drops hard utterances can look better than it is);
- the recipe changed (another fingerprint_id): the numbers are not comparable; re-baseline on purpose;
- the metric or key is missing from the run, or its value there is NaN or inf.

Defaults of `--write-baseline` (chosen, documented here and in `ttsbench check --help`): rel = 0.05
(5 % of the baseline value); abs = the half-width of the stored 95 % bootstrap CI of that key when
the summary has one (a change inside the CI is not evidence of a regression), else 0; max_dropped = 0.
Every metric of the run's summary gets one check on its primary key. Cost (TFLOPs, RTF) is not gated:
TFLOPs do not change with a checkpoint and RTF depends on the machine.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tomli_w

from ttsbench.errors import InputError
from ttsbench.schema import PromptSetInfo, Summary

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA_VERSION = 2  # 2: run.prompt_set {name, checksum}; 1: run.testset (the name only)
DEFAULT_REL = 0.05
DEFAULT_MAX_DROPPED = 0


@dataclass(frozen=True)
class Check:
    """One gated number: a metric key of a run, its baseline value and tolerance."""

    metric: str
    key: str
    value: float
    higher_is_better: bool | None
    abs: float = 0.0
    rel: float = DEFAULT_REL
    fingerprint_id: str | None = None
    n_scored: int | None = None
    max_dropped: int = DEFAULT_MAX_DROPPED

    def slack(self) -> float:
        """Allowed change in the bad direction, in the metric's unit."""
        return max(self.abs, self.rel * abs(self.value))


@dataclass(frozen=True)
class PromptSetRef:
    """The prompt set a baseline was measured on: its name and the checksum over its rows."""

    name: str | None
    checksum: str | None

    def __str__(self) -> str:
        short = self.checksum if not self.checksum or len(self.checksum) <= 23 else self.checksum[:23] + "…"
        return f"{self.name or '?'} ({short or 'no checksum'})"


@dataclass(frozen=True)
class Baseline:
    """A baseline file: its checks and the prompt set they were measured on (None: not recorded)."""

    checks: list[Check]
    prompt_set: PromptSetRef | None = None


@dataclass(frozen=True)
class Outcome:
    """The verdict of one check and its one-line explanation."""

    check: Check | None  # None: the prompt-set verdict, which gates all checks at once
    ok: bool
    line: str


def baseline_from_summary(summary: Summary, *, prompt_set: PromptSetInfo | None = None,
                          rel: float = DEFAULT_REL, abs_: float | None = None,
                          max_dropped: int = DEFAULT_MAX_DROPPED) -> dict[str, Any]:
    """A baseline document from a run's summary.json and run.json `prompt_set`, with the default
    tolerances (module docstring)."""
    for flag, tol in (("--rel", rel), ("--abs", abs_)):
        if tol is not None and not (math.isfinite(tol) and tol >= 0):
            raise InputError(f"{flag} must be a finite number >= 0, got {tol}")
    checks = []
    for name, m in summary.metrics.items():
        values, key = m.values, m.primary_key
        value = values.get(key)
        if value is None or not math.isfinite(float(value)):
            raise InputError(f"metric {name!r} has no finite value for {key!r} in the run "
                             f"({value}): cannot baseline it")
        checks.append(Check(metric=name, key=key, value=float(value),
                            higher_is_better=m.higher_is_better,
                            abs=abs_ if abs_ is not None else _ci_half_width(values, key), rel=rel,
                            fingerprint_id=m.fingerprint_id, n_scored=m.n_scored,
                            max_dropped=max_dropped))
    if not checks:
        raise InputError("the run's summary.json has no metrics: nothing to baseline")
    name = (prompt_set.name if prompt_set else None) or summary.prompt_set
    run = {"run_id": summary.run_id, "system": summary.system, "n_expected": summary.n_expected,
           "prompt_set": {"name": name, "checksum": prompt_set.checksum if prompt_set else None}}
    return {"schema_version": SCHEMA_VERSION, "run": run, "checks": [_drop_none(asdict(c)) for c in checks]}


def _ci_half_width(values: Mapping[str, float | None], key: str) -> float:
    """Half the stored 95 % CI of `key`; 0 without one (a NaN bound is no CI, not a NaN tolerance)."""
    lo, hi = values.get(f"{key}_ci_low"), values.get(f"{key}_ci_high")
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return 0.0
    return float(f"{(float(hi) - float(lo)) / 2:.6g}")


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def write_baseline(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a baseline as JSON, or as TOML (tomli-w) when the file name ends in .toml."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".toml":
        text = tomli_w.dumps(_without_none(doc))
    else:  # allow_nan=False: a non-finite number here is a bug upstream, never a baseline
        text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
    path.write_text(text, encoding="utf-8")


def _without_none(value: Any) -> Any:
    """TOML has no null: absent keys mean "not set", as `read_baseline` reads them."""
    if isinstance(value, Mapping):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value]
    return value


def read_baseline(path: Path) -> Baseline:
    """The checks and prompt set of a baseline file; a missing or malformed file is one InputError."""
    if not path.is_file():
        raise InputError(f"baseline not found: {path} (create it with --write-baseline)")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            doc = tomllib.loads(text)
        else:
            doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise InputError(f"corrupt baseline {path}: {err}") from None
    if not isinstance(doc, dict):
        raise InputError(f"baseline {path} must be an object with a 'checks' list")
    for where, number in _non_finite(doc):
        raise InputError(f"baseline {path}: {where} is {number}; every number in a baseline must be "
                         "finite (NaN compares false with everything, inf swamps any tolerance)")
    version = doc.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(f"baseline {path}: schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise InputError(f"baseline {path} has schema_version {version}; this ttsbench reads 1 to "
                         f"{SCHEMA_VERSION}: a newer ttsbench wrote it")
    entries = doc.get("checks")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"baseline {path} has no 'checks' list")
    return Baseline([_check(path, i, e) for i, e in enumerate(entries)], _prompt_set(path, doc.get("run")))


def _non_finite(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(key path, "NaN"/"inf"/"-inf") of every non-finite float in a parsed document."""
    if isinstance(value, float) and not math.isfinite(value):
        yield where or "the document", "NaN" if math.isnan(value) else str(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _non_finite(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _non_finite(v, f"{where}[{i}]")


def _prompt_set(path: Path, run: Any) -> PromptSetRef | None:
    """`run.prompt_set` of a schema-2 baseline; None when the file records no checksum to verify."""
    if not isinstance(run, Mapping) or "prompt_set" not in run:
        return None  # schema 1 (`run.testset`: a name only) or hand-written without a run section
    entry = run["prompt_set"]
    if not isinstance(entry, Mapping):
        raise InputError(f"baseline {path}: run.prompt_set must be an object with name and checksum")
    for key in ("name", "checksum"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise InputError(f"baseline {path}: run.prompt_set.{key} must be a string")
    if entry.get("checksum") is None:
        return None
    return PromptSetRef(entry.get("name"), entry["checksum"])


def _check(path: Path, i: int, e: Any) -> Check:
    where = f"baseline {path}, check {i + 1} (checks[{i}])"
    if not isinstance(e, dict) or "metric" not in e or "value" not in e:
        raise InputError(f"{where}: needs at least 'metric' and 'value'")
    known = set(Check.__dataclass_fields__)
    if unknown := set(e) - known:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(known))}")
    c = Check(metric=str(e["metric"]), key=str(e.get("key", "")), value=_number(where, "value", e["value"]),
              higher_is_better=e.get("higher_is_better"), abs=_number(where, "abs", e.get("abs", 0.0)),
              rel=_number(where, "rel", e.get("rel", DEFAULT_REL)), fingerprint_id=e.get("fingerprint_id"),
              n_scored=_count(where, "n_scored", e.get("n_scored")),
              max_dropped=_count(where, "max_dropped", e.get("max_dropped", DEFAULT_MAX_DROPPED)))
    if c.abs < 0 or c.rel < 0 or c.max_dropped < 0:
        raise InputError(f"{where}: tolerances must be >= 0")
    if c.higher_is_better not in (True, False, None):
        raise InputError(f"{where}: higher_is_better must be true, false or absent")
    return c


def _number(where: str, key: str, value: Any) -> float:
    """An int or float field; a string such as "NaN" is refused (`read_baseline` refused non-finite
    floats already)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: {key} must be a number, got {value!r}")
    return float(value)


def _count(where: str, key: str, value: Any) -> int | None:
    """A whole-number field or None (2.0 is accepted as 2: JSON writers may print counts as floats)."""
    if value is None:
        return None
    number = _number(where, key, value)
    if not number.is_integer():
        raise InputError(f"{where}: {key} must be a whole number, got {value!r}")
    return int(number)


def check_prompt_set(run: PromptSetInfo | None, baseline: Baseline, *, allow_other: bool = False) -> Outcome:
    """Whether the run was made on the baseline's prompt set (the checksums agree).

    The checksum is over the set's rows, so a renamed copy of the same set passes and an edited set
    under the old name does not. Without a checksum on either side nothing can be verified: the
    outcome says so and passes, so baselines written before the checksum was recorded keep working.
    """
    ours = PromptSetRef(run.name, run.checksum) if run else PromptSetRef(None, None)
    theirs = baseline.prompt_set
    if theirs is None:
        return Outcome(None, True, "note prompt set not verified: the baseline records no prompt-set "
                                   "checksum (an older ttsbench wrote it; re-write it with --write-baseline)")
    if ours.checksum is None:
        return Outcome(None, True, "note prompt set not verified: the run records no prompt-set checksum "
                                   f"(baseline on {theirs})")
    if ours.checksum == theirs.checksum:
        renamed = "" if ours.name == theirs.name else f" (the baseline calls it {theirs.name})"
        return Outcome(None, True, f"ok   prompt set {ours} is the baseline's{renamed}")
    if allow_other:
        return Outcome(None, True, f"note prompt set: run on {ours}, baseline on {theirs}; "
                                   "compared anyway (--allow-other-set)")
    return Outcome(None, False, f"FAIL prompt set: run on {ours}, baseline on {theirs}; numbers on another "
                                "set are not comparable (--allow-other-set to compare anyway, "
                                "or re-baseline)")


def compare(summary: Summary, checks: list[Check]) -> list[Outcome]:
    """One outcome per check, each with a one-line explanation."""
    return [_outcome(summary, c) for c in checks]


def _outcome(summary: Summary, c: Check) -> Outcome:
    m = summary.metrics.get(c.metric)
    key = c.key or (m.primary_key if m else "value")
    name = f"{c.metric}.{key}"
    if m is None:
        return Outcome(c, False, f"FAIL {name}: metric not in this run")
    if c.fingerprint_id and m.fingerprint_id != c.fingerprint_id:
        return Outcome(c, False, f"FAIL {name}: recipe changed (fingerprint {m.fingerprint_id} "
                                 f"vs baseline {c.fingerprint_id}); numbers are not comparable, "
                                 "re-baseline on purpose")
    value = m.values.get(key)
    if value is None or math.isnan(float(value)):
        return Outcome(c, False, f"FAIL {name}: no value in this run (nothing scored?)")
    if math.isinf(float(value)):  # -inf would read as the best improvement ever
        return Outcome(c, False, f"FAIL {name}: not a finite value in this run ({value})")
    value = float(value)
    hib = c.higher_is_better if c.higher_is_better is not None else m.higher_is_better
    delta, slack = value - c.value, c.slack()
    worse = -delta if hib is True else delta if hib is False else abs(delta)
    direction = {True: "higher is better", False: "lower is better"}.get(hib, "either direction")
    problems = []
    if worse > slack:
        problems.append(f"{'worse' if hib is not None else 'changed'} by {worse:.4g} > allowed {slack:.4g}")
    scored = m.n_scored
    if c.n_scored is not None and scored is not None and c.n_scored - int(scored) > c.max_dropped:
        problems.append(f"scored {scored} utterances vs baseline {c.n_scored} "
                        f"(allowed {c.max_dropped} fewer)")
    detail = (f"{value:.4g} vs baseline {c.value:.4g} ({delta:+.4g}; {direction}; allowed "
              f"{slack:.4g} = max(abs {c.abs:.4g}, rel {c.rel:.4g} x {abs(c.value):.4g}))")
    if problems:
        return Outcome(c, False, f"FAIL {name} = {detail}: {'; '.join(problems)}")
    better = -worse if hib is not None else 0.0
    hint = "; improved beyond tolerance, consider --write-baseline" if better > slack else ""
    return Outcome(c, True, f"ok   {name} = {detail}{hint}")
