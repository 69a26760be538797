"""The listening pages' word diff comes from the alignment the WER recipe counted."""

from __future__ import annotations

import random

import pytest

from ttsbench.metrics.wer import word_counts
from ttsbench.reports.pages import diff_html
from ttsbench.reports.worddiff import DEL, EQUAL, INS, SUB, word_diff


def test_the_example_from_the_wer_docs():
    d = word_diff("the cat sat on the mat", "the bat sat mat on")
    assert d.ops == ((EQUAL, "the"), (SUB, "cat", "bat"), (EQUAL, "sat"), (INS, "mat"), (EQUAL, "on"),
                     (DEL, "the"), (DEL, "mat"))
    assert (d.S, d.D, d.I, d.N) == (1, 2, 1, 6)


def test_empty_hypothesis_and_reference():
    assert word_diff("a b", "").ops == ((DEL, "a"), (DEL, "b"))
    assert word_diff("a b", "").matches(word_counts("a b", ""))
    assert (word_diff("", "x y").I, word_diff("", "x y").N) == (2, 0)


@pytest.mark.parametrize("seed", range(5))
def test_random_pairs_add_up_to_word_counts_and_rebuild_both_texts(seed):
    rng = random.Random(seed)
    vocab = ["a", "b", "c", "d", "e", "f", "g", "the", "of", "and"]
    for _ in range(200):
        ref = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 12)))
        hyp = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 12)))
        d = word_diff(ref, hyp)
        assert d.matches(word_counts(ref, hyp)), (ref, hyp)
        rebuilt_ref = [w for op in d.ops if op[0] != INS for w in op[1].split(" ")]
        rebuilt_hyp = [w for op in d.ops if op[0] != DEL for w in op[-1].split(" ")]
        assert rebuilt_ref == ref.split(" ") and rebuilt_hyp == (hyp.split(" ") if hyp else [])


def test_matches_is_false_for_other_counts_and_bad_rows():
    d = word_diff("one two three", "one too three")
    assert d.matches({"S": 1, "D": 0, "I": 0, "N": 3})
    assert not d.matches({"S": 0, "D": 1, "I": 1, "N": 3})
    assert not d.matches({"S": "x"}) and not d.matches({})


def test_diff_html_escapes_and_colours_one_span_per_word():
    d = word_diff("x <b> y", 'x "><svg onload=1> y z')
    out = diff_html(d.to_json())
    assert "<svg" not in out and "<b>" not in out and "&lt;svg" in out
    assert out.count('class="w-sub"') == d.S and out.count('class="w-ins"') == d.I and d.I >= 1
