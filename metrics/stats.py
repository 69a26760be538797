"""Statistics over stored per-utterance rows: WER counts, bootstrap CIs, paired bootstrap.

A `Statistic` is a corpus value written as a vectorised function of per-utterance columns: it takes
arrays of shape (..., n) and reduces the last axis. The same definition gives the point value (one
row of n), the bootstrap distribution (B resamples of n at once) and the paired difference of two
runs (the same resampled utterance indices applied to both), so a CI can never drift from the
value it belongs to.

Bootstrap: percentile method, `RESAMPLES` = 1000 resamples of utterances with replacement,
`numpy.random.default_rng(SEED)` with SEED = 0, 95 % two-sided.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

RESAMPLES = 1000
SEED = 0
LEVEL = 0.95

Columns = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Statistic:
    """A corpus value of per-utterance columns.

    Attributes:
        columns: the row columns `fn` reads.
        fn: maps {column: array (..., n)} to an array (...,): a reduction over utterances.
        ci: whether aggregate() reports a bootstrap CI for it.
    """

    columns: tuple[str, ...]
    fn: Callable[[Columns], np.ndarray]
    ci: bool = True

    def value(self, cols: Columns) -> float:
        return float(self.fn({c: np.asarray(cols[c], dtype=float) for c in self.columns}))


def mean_of(col: str, scale: float = 1.0, ci: bool = True) -> Statistic:
    """scale x the mean of a column (a macro average over utterances)."""
    return Statistic((col,), lambda c: scale * c[col].mean(axis=-1), ci)


def mean_of_present(col: str, scale: float = 1.0, ci: bool = True) -> Statistic:
    """scale x the mean of a column over the utterances that have a value (NaN = absent, e.g. SIM-r of a
    system without a resynthesized prompt). A resample holding none of them gives NaN, which CIs skip."""
    def fn(c: Columns) -> np.ndarray:
        values = c[col]
        present = np.isfinite(values)
        count = present.sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return scale * np.where(present, values, 0.0).sum(axis=-1) / np.where(count > 0, count, np.nan)

    return Statistic((col,), fn, ci)


def ratio_of_sums(numerators: Sequence[str], denominator: str, scale: float = 1.0, ci: bool = True) -> Statistic:
    """scale x sum(numerator columns) / sum(denominator): a micro (corpus) rate."""
    def fn(c: Columns) -> np.ndarray:
        num = sum(c[k].sum(axis=-1) for k in numerators)
        den = c[denominator].sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return scale * num / den

    return Statistic((*numerators, denominator), fn, ci)


def share_above(col: str, threshold: float, scale: float = 1.0, ci: bool = True) -> Statistic:
    """scale x the share of utterances whose column is strictly above threshold."""
    return Statistic((col,), lambda c: scale * (c[col] > threshold).mean(axis=-1), ci)


def wer_statistics() -> dict[str, Statistic]:
    """Every WER recipe's corpus values, in percent, from rows holding S, D, I, N and utt_wer.

    wer_macro: mean of per-utterance (S+D+I)/N (seed-tts-eval, F5). wer_micro: sum(S+D+I)/sum(N)
    (corpus WER: ZipVoice HuBERT, VERSA). fail_rate_50: share of utterances with WER > 50 %, which
    seed-tts-eval counts but does not print. sub/del/ins_rate: corpus rates; they sum to wer_micro.
    """
    return {
        "wer_macro": mean_of("utt_wer", 100.0),
        "wer_micro": ratio_of_sums(("S", "D", "I"), "N", 100.0),
        "fail_rate_50": share_above("utt_wer", 0.5, 100.0),
        "sub_rate": ratio_of_sums(("S",), "N", 100.0, ci=False),
        "del_rate": ratio_of_sums(("D",), "N", 100.0, ci=False),
        "ins_rate": ratio_of_sums(("I",), "N", 100.0, ci=False),
    }


def frame_columns(rows: pd.DataFrame, stats: Mapping[str, Statistic]) -> dict[str, np.ndarray]:
    """The float columns the statistics read, as numpy arrays."""
    needed = sorted({c for s in stats.values() for c in s.columns})
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise KeyError(f"score rows lack column(s) {missing}; were they written by another recipe?")
    return {c: rows[c].to_numpy(dtype=float) for c in needed}


def _resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _percentiles(samples: np.ndarray, level: float) -> tuple[float, float]:
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(cols: Columns, stat: Statistic, *, resamples: int = RESAMPLES, seed: int = SEED,
                 level: float = LEVEL) -> tuple[float, float]:
    """Percentile bootstrap CI of `stat` over utterances (NaN, NaN for fewer than 2 utterances)."""
    n = len(next(iter(cols.values())))
    if n < 2:
        return float("nan"), float("nan")
    idx = _resample_indices(n, resamples, seed)
    samples = stat.fn({c: np.asarray(cols[c], dtype=float)[idx] for c in stat.columns})
    return _percentiles(np.asarray(samples, dtype=float), level)


def aggregate(rows: pd.DataFrame, stats: Mapping[str, Statistic], *, resamples: int = RESAMPLES,
              seed: int = SEED) -> dict[str, float]:
    """Point values of every statistic, plus `<key>_ci_low` / `<key>_ci_high` where `ci` is set."""
    cols = frame_columns(rows, stats)
    out: dict[str, float] = {}
    for key, stat in stats.items():
        out[key] = stat.value(cols)
        if stat.ci:
            out[f"{key}_ci_low"], out[f"{key}_ci_high"] = bootstrap_ci(cols, stat, resamples=resamples, seed=seed)
    return out


@dataclass(frozen=True)
class PairedResult:
    """B minus A on the utterances both runs scored, with the paired bootstrap 95 % CI."""

    key: str
    n: int
    value_a: float
    value_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float  # two-sided: 2 x the share of resampled differences on the other side of 0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def paired_bootstrap(cols_a: Columns, cols_b: Columns, stat: Statistic, key: str = "", *,
                     resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL) -> PairedResult:
    """Paired bootstrap of stat(B) - stat(A): both runs' rows are resampled with the same indices.

    `cols_a` and `cols_b` must be aligned: element i of every column is the same utterance.
    """
    n = len(next(iter(cols_a.values())))
    if n != len(next(iter(cols_b.values()))):
        raise ValueError("paired columns must have the same length (align the utterances first)")
    a, b = stat.value(cols_a), stat.value(cols_b)
    if n < 2:
        return PairedResult(key, n, a, b, b - a, float("nan"), float("nan"), float("nan"))
    idx = _resample_indices(n, resamples, seed)
    sa = stat.fn({c: np.asarray(cols_a[c], dtype=float)[idx] for c in stat.columns})
    sb = stat.fn({c: np.asarray(cols_b[c], dtype=float)[idx] for c in stat.columns})
    diffs = np.asarray(sb - sa, dtype=float)
    low, high = _percentiles(diffs, level)
    finite = diffs[np.isfinite(diffs)]
    if finite.size == 0 or b - a == 0:
        p = 1.0
    else:
        p = min(1.0, 2 * float(np.mean(finite <= 0) if b - a > 0 else np.mean(finite >= 0)))
    return PairedResult(key, n, a, b, b - a, low, high, p)


def sim_statistics() -> dict[str, Statistic]:
    """SIM-o (against the prompt) and SIM-r (against the resynthesized prompt, over the utterances that
    have one), each with a bootstrap CI over utterances."""
    return {"sim_o": mean_of("sim_o"), "sim_r": mean_of_present("sim_r")}


def sim_values(rows: pd.DataFrame) -> dict[str, float]:
    """Mean SIM-o with its CI; mean SIM-r with its CI over the rows that have one, and how many."""
    stats = sim_statistics()
    sim_r = pd.to_numeric(rows["sim_r"], errors="coerce") if "sim_r" in rows.columns else pd.Series(dtype=float)
    if not sim_r.notna().any():
        return aggregate(rows, {"sim_o": stats["sim_o"]})
    out = aggregate(rows.assign(sim_r=sim_r), stats)
    out["sim_r_n"] = float(sim_r.notna().sum())
    return out
