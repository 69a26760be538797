"""WER sufficient statistics against hand-computed alignments; macro vs micro; bootstrap CIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ttsbench.metrics.stats import (
    aggregate,
    bootstrap_ci,
    mean_of,
    paired_bootstrap,
    ratio_of_sums,
    wer_statistics,
)
from ttsbench.metrics.wer import word_counts

# (reference, hypothesis, S, D, I, hits), each alignment worked out by hand
ALIGNMENTS = [
    ("the cat sat on the mat", "the cat sit on mat", 1, 1, 0, 4),  # sat->sit, second "the" deleted
    ("a b c", "a x b c d", 0, 0, 2, 3),  # x and d inserted
    ("a b c d", "a c d", 0, 1, 0, 3),
    ("hello world", "hello world", 0, 0, 0, 2),
    ("one two three", "four five six", 3, 0, 0, 0),
    ("\u4f60 \u597d \u4e16 \u754c", "\u4f60 \u597d \u89c6 \u754c", 1, 0, 0, 3),  # a CER: one character wrong
]


@pytest.mark.parametrize(("ref", "hyp", "s", "d", "i", "hits"), ALIGNMENTS)
def test_word_counts_match_hand_alignments(ref, hyp, s, d, i, hits):
    row = word_counts(ref, hyp)
    n = len(ref.split())
    assert (row["S"], row["D"], row["I"], row["hits"], row["N"]) == (s, d, i, hits, n)
    assert row["utt_wer"] == pytest.approx((s + d + i) / n)


def test_empty_hypothesis_is_all_deletions_and_empty_reference_fails():
    assert word_counts("a b c", "") == {"S": 0, "D": 3, "I": 0, "N": 3, "hits": 0, "utt_wer": 1.0}
    with pytest.raises(ValueError, match="empty"):
        word_counts("", "a b")


def rows(*counts: tuple[int, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame([{"S": s, "D": d, "I": i, "N": n, "utt_wer": (s + d + i) / n} for s, d, i, n in counts])


def test_macro_and_micro_differ_when_short_utterances_fail():
    # utterance 1: 2 words, both wrong (WER 100 %); utterance 2: 8 words, all right (0 %)
    values = aggregate(rows((2, 0, 0, 2), (0, 0, 0, 8)), wer_statistics())
    assert values["wer_macro"] == pytest.approx(50.0)  # mean of 100 % and 0 %
    assert values["wer_micro"] == pytest.approx(20.0)  # 2 errors / 10 words
    assert values["fail_rate_50"] == pytest.approx(50.0)
    assert values["sub_rate"] + values["del_rate"] + values["ins_rate"] == pytest.approx(values["wer_micro"])


def test_rates_split_the_micro_wer_by_error_kind():
    values = aggregate(rows((1, 1, 0, 6), (0, 0, 2, 3)), wer_statistics())
    assert values["sub_rate"] == pytest.approx(100 * 1 / 9)
    assert values["del_rate"] == pytest.approx(100 * 1 / 9)
    assert values["ins_rate"] == pytest.approx(100 * 2 / 9)
    assert values["fail_rate_50"] == pytest.approx(50.0)  # 2/3 > 0.5, 2/6 is not


def test_fail_rate_counts_strictly_above_half():
    values = aggregate(rows((1, 0, 0, 2), (2, 0, 0, 3), (0, 0, 0, 4)), wer_statistics())
    assert values["fail_rate_50"] == pytest.approx(100 / 3)  # 0.5 is not a failure; 0.667 is


def test_bootstrap_ci_is_deterministic_and_brackets_the_value():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(3.0, 1.0, 200)})
    out1 = aggregate(frame, {"x": mean_of("x")})
    out2 = aggregate(frame, {"x": mean_of("x")})
    assert out1 == out2
    assert out1["x_ci_low"] < out1["x"] < out1["x_ci_high"]
    # the percentile CI of a mean of 200 N(3, 1) draws has half-width about 1.96 / sqrt(200) = 0.139
    assert out1["x_ci_high"] - out1["x_ci_low"] == pytest.approx(2 * 1.96 / np.sqrt(200), rel=0.2)


def test_bootstrap_of_a_ratio_resamples_whole_utterances():
    cols = {"E": np.array([0.0, 0.0, 10.0]), "N": np.array([10.0, 10.0, 10.0])}
    low, high = bootstrap_ci(cols, ratio_of_sums(("E",), "N"))
    assert 0.0 <= low < high <= 1.0
    one = bootstrap_ci({"E": np.array([1.0]), "N": np.array([2.0])}, ratio_of_sums(("E",), "N"))
    assert all(np.isnan(one))  # one utterance: no CI


def test_paired_bootstrap_detects_a_consistent_difference():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 0.2, 300)
    b = a + 0.05 + rng.normal(0, 0.01, 300)  # B is worse by 5 points on every utterance
    res = paired_bootstrap({"utt_wer": a}, {"utt_wer": b}, mean_of("utt_wer", 100.0), "wer_macro")
    assert res.diff == pytest.approx(100 * (b.mean() - a.mean()))
    assert res.ci_low > 4.0 and res.ci_high < 6.0 and res.p_value < 0.01
    same = paired_bootstrap({"utt_wer": a}, {"utt_wer": a.copy()}, mean_of("utt_wer"), "x")
    assert same.diff == 0 and same.ci_low == same.ci_high == 0 and same.p_value == 1.0


def test_paired_ci_is_tighter_than_unpaired_when_utterances_vary():
    rng = np.random.default_rng(3)
    hardness = rng.uniform(0, 0.6, 400)  # utterance difficulty shared by both runs
    a, b = hardness, hardness + 0.02
    paired = paired_bootstrap({"w": a}, {"w": b}, mean_of("w"), "w")
    low_a, high_a = bootstrap_ci({"w": a}, mean_of("w"))
    assert paired.ci_high - paired.ci_low < 0.1 * (high_a - low_a)
