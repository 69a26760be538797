"""The phone front end: espeak-ng (from the espeakng-loader wheel) through phonemizer, en and zh."""

from __future__ import annotations

import pytest

from ttsbench.errors import InputError
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.speech.frontend import PUNCTUATION, STRESS, TABLE_VERSION, WORD, PhoneFrontend

PINNED_TABLE = ("espeak-phones-1", 531, "747bfa0f7d6a5b25")  # ids are part of every trained model


@pytest.fixture(scope="module")
def frontend() -> PhoneFrontend:
    return PhoneFrontend()


def test_table_is_pinned_and_fits_the_model(frontend):
    info = frontend.describe()
    assert (info["table_version"], info["table_size"], info["table_sha256"]) == PINNED_TABLE == (
        TABLE_VERSION, frontend.vocab_size, info["table_sha256"])
    assert frontend.vocab_size <= DiTARConfig().phone_vocab
    assert info["espeak"].startswith("1.") and info["phonemizer"] and info["espeakng_loader"] != "unknown"


def test_english_phones_stress_boundaries_and_punctuation(frontend):
    toks = frontend.tokens("Hello world, it's 3.50 dollars!", "en")
    assert toks[:5] == ["h", "ə", "l", "ˈ", "oʊ"] and toks[5] == WORD
    assert "," in toks and toks[-1] == "!" and "." not in toks  # the decimal point is read, not a stop
    assert {t for t in toks if t in STRESS} and all(t in frontend.ids for t in toks)
    ids = frontend.encode("Hello world, it's 3.50 dollars!", "en")
    assert len(ids) == len(toks) and min(ids) > 1  # no padding, nothing unknown
    assert ids == frontend.encode("Hello  world,   it’s 3.50 dollars!", "en")  # whitespace, curly apostrophe


def test_mandarin_tones_and_fullwidth_punctuation(frontend):
    toks = frontend.tokens("你好，世界。", "zh")
    assert toks[-1] == "." and "," in toks
    assert any(t[-1] in "12ɜ45" for t in toks if t not in PUNCTUATION and t != WORD)  # tonal finals
    assert "s." in toks  # espeak's retroflex phone keeps its dot (not split as punctuation)
    assert min(frontend.encode("你好，世界。", "zh")) > 1


def test_empty_and_unknown_language(frontend):
    assert frontend.encode("", "en") == [] and frontend.encode("...", "en") == [frontend.ids["…"]]
    with pytest.raises(InputError, match="no voice"):
        frontend.encode("hello", "xx-nope")


def test_unknown_phones_are_spelled(frontend):
    assert frontend._spell(["oʊ", "qʷ"]) == ["oʊ", "q", "ʷ"]
