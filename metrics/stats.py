"""Statistics over stored per-utterance rows: WER counts, bootstrap CIs, paired bootstrap.

A `Statistic` is a corpus value written as a vectorised function of per-utterance columns: it takes
arrays of shape (..., n) and reduces the last axis. The same definition gives the point value (one
row of n), the bootstrap distribution (B resamples of n at once) and the paired difference of two
runs (the same resampled utterance indices applied to both), so a CI can never drift from the
value it belongs to.

Bootstrap: percentile method, `RESAMPLES` = 1000 resamples of utterances with replacement,
`numpy.random.default_rng(SEED)` with SEED = 0, 95 % two-sided.

Several runs of one system (its seeds): a side's value is the mean over its runs of the statistic,
and the bootstrap resamples utterances (the same indices in every run of both sides) and, when a
side has more than one run, its runs with replacement (`numpy.random.default_rng((SEED, 1))`), so
the CI covers utterance and seed variation. With one run per side the draws, and so the numbers,
are exactly those of the single-run bootstrap.

Failed utterances: `worst_value` / `impute_worst` give the value a failed utterance counts as under
the "worst" failure policy of `ttsbench compare` (WER 100 %, the score of an empty transcript;
SIM 0; the lowest MOS, 1).

Measured false-positive rate of the paired test (two-sided, nominal 5 %, synthetic null data where
both systems draw each utterance's value from one distribution, 2,000 trials each; docs/comparing.md):
one run per side, skewed per-utterance WERs: 8.4 % / 5.8 % / 6.0 % / 5.3 % at 20 / 100 / 200 / 1,000
utterances (slightly liberal on small sets); three seeds per side: 0.3-0.8 % (conservative: seed
noise counted through both draws; it guards against a seed that shifts every utterance).
`tests/unit/metrics/test_paired_null.py` keeps the one-run rate within [3 %, 8 %].
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
    return paired_bootstrap_runs([cols_a], [cols_b], stat, key, resamples=resamples, seed=seed, level=level)


def paired_bootstrap_runs(runs_a: Sequence[Columns], runs_b: Sequence[Columns], stat: Statistic, key: str = "",
                          *, resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL) -> PairedResult:
    """Paired bootstrap of B - A where each side is one or more runs (seeds) of a system.

    Every run's columns must be aligned on the same utterances (element i is utterance i in every
    run of both sides). A side's value is the mean over its runs of `stat`; the bootstrap draws the
    same utterance indices for every run and, for a side with several runs, its runs with
    replacement (see the module docstring).
    """
    if not runs_a or not runs_b:
        raise ValueError("each side needs at least one run")
    n = _length(runs_a[0])
    if any(_length(c) != n for c in (*runs_a, *runs_b)):
        raise ValueError("paired columns must have the same length (align the utterances first)")
    a = float(np.mean([stat.value(c) for c in runs_a]))
    b = float(np.mean([stat.value(c) for c in runs_b]))
    if n < 2:
        return PairedResult(key, n, a, b, b - a, float("nan"), float("nan"), float("nan"))
    idx = _resample_indices(n, resamples, seed)
    seeds = np.random.default_rng((seed, 1))
    diffs = _side_samples(runs_b, stat, idx, seeds) - _side_samples(runs_a, stat, idx, seeds)
    low, high = _percentiles(diffs, level)
    finite = diffs[np.isfinite(diffs)]
    if finite.size == 0 or b - a == 0:
        p = 1.0
    else:
        p = min(1.0, 2 * float(np.mean(finite <= 0) if b - a > 0 else np.mean(finite >= 0)))
    return PairedResult(key, n, a, b, b - a, low, high, p)


def runs_bootstrap_ci(runs: Sequence[Columns], stat: Statistic, *, resamples: int = RESAMPLES, seed: int = SEED,
                      level: float = LEVEL) -> tuple[float, float, float]:
    """(value, CI low, CI high) of one system over several runs (seeds) aligned on the same utterances:
    the mean over runs of `stat`, and the bootstrap over utterances and runs (NaN CI below 2 utterances)."""
    value = float(np.mean([stat.value(c) for c in runs]))
    n = _length(runs[0])
    if n < 2:
        return value, float("nan"), float("nan")
    samples = _side_samples(runs, stat, _resample_indices(n, resamples, seed), np.random.default_rng((seed, 1)))
    return (value, *_percentiles(samples, level))


def _length(cols: Columns) -> int:
    return len(next(iter(cols.values())))


def _side_samples(runs: Sequence[Columns], stat: Statistic, idx: np.ndarray, seeds: np.random.Generator) -> np.ndarray:
    """(resamples,) values of one side: per resample, the mean over (resampled) runs of stat on idx."""
    per_run = np.stack([np.asarray(stat.fn({c: np.asarray(cols[c], dtype=float)[idx] for c in stat.columns}),
                                   dtype=float) for cols in runs])  # (runs, resamples)
    if len(runs) == 1:
        return per_run[0]
    pick = seeds.integers(0, len(runs), size=(idx.shape[0], len(runs)))  # (resamples, runs drawn)
    return np.take_along_axis(per_run.T, pick, axis=1).mean(axis=1)


# ---- failed utterances ------------------------------------------------------------------------------
# The per-utterance value a failed utterance counts as under the "worst" policy, by stored column.
# WER: an empty transcript (every reference word deleted; utt_wer 1.0, i.e. 100 %); SIM: 0; MOS: the
# scale's lowest value, 1. A recipe whose columns are not here may declare `worst: dict[str, float]`
# on its class; the WER count columns need the utterance's reference length N.
WORST = {"utt_wer": 1.0, "sim_o": 0.0, "sim_r": 0.0, "utmos": 1.0, "ovrl_mos": 1.0, "sig_mos": 1.0,
         "bak_mos": 1.0, "p808_mos": 1.0}
_WER_COUNTS = {"S": 0.0, "I": 0.0, "hits": 0.0}  # and D = N: every reference word deleted


def worst_value(column: str, n_words: float | None = None, declared: Mapping[str, float] | None = None) -> float:
    """What a failed utterance counts as in `column` (see `WORST`); NaN when it needs an unknown N.

    Raises:
        KeyError: the column has no known worst value.
    """
    if declared and column in declared:
        return float(declared[column])
    if column in WORST:
        return WORST[column]
    if column in _WER_COUNTS:
        return _WER_COUNTS[column]
    if column in ("D", "N"):
        return float("nan") if n_words is None else float(n_words)
    raise KeyError(column)


def impute_worst(cols: Columns, failed: np.ndarray, n_words: np.ndarray,
                 declared: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """`cols` with the entries where `failed` is set replaced by each column's worst value.

    `n_words` holds each utterance's reference length (NaN where unknown): D and N of a failed
    utterance; the result is NaN there when it is unknown, for the caller to leave out.
    """
    out: dict[str, np.ndarray] = {}
    for name, values in cols.items():
        col = np.array(values, dtype=float, copy=True)
        if failed.any():
            if name in ("D", "N") and not (declared and name in declared):
                col[failed] = n_words[failed]
            else:
                col[failed] = worst_value(name, declared=declared)
        out[name] = col
    return out


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
