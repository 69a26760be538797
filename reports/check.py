"""The CI regression gate: compare one run's summary.json against a baseline file.

Baseline file (JSON, or TOML with the same keys; `checks` is a TOML array of tables `[[checks]]`)::

    {"schema_version": 1,
     "run": {"run_id": "...", "system": "...", "testset": "...", "n_expected": 40},
     "checks": [{"metric": "wer-seedtts-en", "key": "wer_macro", "value": 2.31,
                 "higher_is_better": false, "fingerprint_id": "1a2b3c4d5e6f", "n_scored": 40,
                 "abs": 0.2, "rel": 0.05, "max_dropped": 0}]}

A check fails (a regression) when

- the value moved in the bad direction by more than the allowed slack = max(abs, rel * |baseline|)
  (lower-is-better: up; higher-is-better: down; a descriptive metric, higher_is_better null: either way);
- the run scored more than `max_dropped` fewer utterances than the baseline (failed utterances leave
  the mean, so a run that drops hard utterances can look better than it is);
- the recipe changed (another fingerprint_id): the numbers are not comparable; re-baseline on purpose;
- the metric or key is missing from the run.

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tomli_w

from ttsbench.errors import InputError
from ttsbench.schema import Summary

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
class Outcome:
    """The verdict of one check and its one-line explanation."""

    check: Check
    ok: bool
    line: str


def baseline_from_summary(summary: Summary, *, rel: float = DEFAULT_REL, abs_: float | None = None,
                          max_dropped: int = DEFAULT_MAX_DROPPED) -> dict[str, Any]:
    """A baseline document from a run's summary.json, with the default tolerances (module docstring)."""
    checks = []
    for name, m in summary.metrics.items():
        values, key = m.values, m.primary_key
        value = values.get(key)
        if value is None or math.isnan(float(value)):
            raise InputError(f"metric {name!r} has no value for {key!r} in the run: cannot baseline it")
        lo, hi = values.get(f"{key}_ci_low"), values.get(f"{key}_ci_high")
        half = float(f"{(float(hi) - float(lo)) / 2:.6g}") if lo is not None and hi is not None else 0.0
        checks.append(Check(metric=name, key=key, value=float(value),
                            higher_is_better=m.higher_is_better,
                            abs=abs_ if abs_ is not None else half, rel=rel,
                            fingerprint_id=m.fingerprint_id, n_scored=m.n_scored,
                            max_dropped=max_dropped))
    if not checks:
        raise InputError("the run's summary.json has no metrics: nothing to baseline")
    # the baseline file's own schema (version 1) keeps its "testset" key
    run = {"run_id": summary.run_id, "system": summary.system, "testset": summary.prompt_set,
           "n_expected": summary.n_expected}
    return {"schema_version": 1, "run": run, "checks": [_drop_none(asdict(c)) for c in checks]}


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def write_baseline(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a baseline as JSON, or as TOML (tomli-w) when the file name ends in .toml."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = tomli_w.dumps(_without_none(doc)) if path.suffix == ".toml" else json.dumps(doc, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def _without_none(value: Any) -> Any:
    """TOML has no null: absent keys mean "not set", as `read_baseline` reads them."""
    if isinstance(value, Mapping):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value]
    return value


def read_baseline(path: Path) -> list[Check]:
    """The checks of a baseline file; a missing or malformed file is one InputError."""
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
    entries = doc.get("checks") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(f"baseline {path} has no 'checks' list")
    return [_check(path, i, e) for i, e in enumerate(entries)]


def _check(path: Path, i: int, e: Any) -> Check:
    where = f"baseline {path}, check {i + 1}"
    if not isinstance(e, dict) or "metric" not in e or "value" not in e:
        raise InputError(f"{where}: needs at least 'metric' and 'value'")
    known = set(Check.__dataclass_fields__)
    if unknown := set(e) - known:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(known))}")
    try:
        c = Check(metric=str(e["metric"]), key=str(e.get("key", "")), value=float(e["value"]),
                  higher_is_better=e.get("higher_is_better"), abs=float(e.get("abs", 0.0)),
                  rel=float(e.get("rel", DEFAULT_REL)), fingerprint_id=e.get("fingerprint_id"),
                  n_scored=None if e.get("n_scored") is None else int(e["n_scored"]),
                  max_dropped=int(e.get("max_dropped", DEFAULT_MAX_DROPPED)))
    except (TypeError, ValueError) as err:
        raise InputError(f"{where}: {err}") from None
    if c.abs < 0 or c.rel < 0 or c.max_dropped < 0:
        raise InputError(f"{where}: tolerances must be >= 0")
    if c.higher_is_better not in (True, False, None):
        raise InputError(f"{where}: higher_is_better must be true, false or absent")
    return c


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
