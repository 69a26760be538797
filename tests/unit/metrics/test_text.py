"""Golden tests of the recipe normalizers, worked out by hand from the reference scorers' rules.

seed-tts-eval (run_wer.py): delete each character of zhon.hanzi.punctuation + string.punctuation but
"'", replace "  " by " " once, then lowercase (en) or space-join characters (zh). F5-TTS: the same
with "'" deleted too. ZipVoice HuBERT: curly quotes -> "'", lowercase, [^a-zA-Z0-9'] -> " ",
collapse spaces. jiwer then splits on whitespace runs. zhon's set includes curly quotes, the em and
en dash, the ellipsis, full-width forms, "·" and the ideographic space U+3000.
"""

from __future__ import annotations

import string

import pytest
from zhon.hanzi import punctuation as zhon_punctuation

from ttsbench.metrics.text import get_normalizer, jiwer_words

SEEDTTS_EN = [
    ("Hello, World!", "hello world"),
    ("Don't stop\u2014it's 5 o'clock.", "don't stopit's 5 o'clock"),  # em dash deleted: words glue
    ("Mr. Smith\u2019s well-known caf\u00e9", "mr smiths wellknown caf\u00e9"),  # curly ' is zhon punctuation
    ("He paid $3.50 (about 50%).", "he paid 350 about 50"),  # digits kept, no number words
    ("\u201cQuoted\u201d text\u2026 and \u2018single\u2019 quotes", "quoted text and single quotes"),
    ("Hello \u4e16\u754c\uff0c\u4f60\u597d\uff01", "hello \u4e16\u754c\u4f60\u597d"),  # mixed script
    ("a - b  c", "a b c"),
    ("\u00c9COLE", "\u00e9cole"),
    ("\uff21\uff22\uff23\uff0c\uff11\uff12\uff13", "\uff41\uff42\uff43\uff11\uff12\uff13"),  # full-width
    ("rock'n'roll isn't 'quoted'", "rock'n'roll isn't 'quoted'"),
]
F5_EN = [
    ("Hello, World!", "hello world"),
    ("Don't stop\u2014it's 5 o'clock.", "dont stopits 5 oclock"),
    ("Mr. Smith\u2019s well-known caf\u00e9", "mr smiths wellknown caf\u00e9"),
    ("He paid $3.50 (about 50%).", "he paid 350 about 50"),
    ("rock'n'roll isn't 'quoted'", "rocknroll isnt quoted"),
    ("Hello \u4e16\u754c\uff0c\u4f60\u597d\uff01", "hello \u4e16\u754c\u4f60\u597d"),
]
SEEDTTS_ZH = [
    ("\u4f60\u597d\uff0c\u4e16\u754c\u3002", "\u4f60 \u597d \u4e16 \u754c"),
    ("\u6211\u7231Python 3\uff01", "\u6211 \u7231 P y t h o n 3"),  # Latin split into letters, case kept
    ("\u4ed6\u8bf4\uff1a\u201c\u597d\u7684\u201d\u3002", "\u4ed6 \u8bf4 \u597d \u7684"),
    ("\u8fd9\u662fJohn's\u4e66", "\u8fd9 \u662f J o h n ' s \u4e66"),  # apostrophe kept
    ("\u4f60\u597d\u3000\u4e16\u754c", "\u4f60 \u597d \u4e16 \u754c"),  # U+3000 is zhon punctuation
    ("\u4e00\u4e8c-\u4e09\u00b7\u56db", "\u4e00 \u4e8c \u4e09 \u56db"),
]
HUBERT_EN = [
    ("Don't stop\u2014it's 5 o'clock.", "don't stop it's 5 o'clock"),  # dash becomes a space here
    ("Mr. Smith\u2019s well-known caf\u00e9", "mr smith's well known caf"),  # curly ' kept as '
    ("\u00c9COLE", "cole"),
    ("$3.50", "3 50"),
    ("Hello \u4e16\u754c", "hello"),
    ("  MIXED   case\ttabs \n", "mixed case tabs"),
]


@pytest.mark.parametrize(("text", "expected"), SEEDTTS_EN)
def test_seedtts_en(text, expected):
    assert get_normalizer("seedtts-en")(text) == expected


@pytest.mark.parametrize(("text", "expected"), F5_EN)
def test_f5_en(text, expected):
    assert get_normalizer("f5-en")(text) == expected


@pytest.mark.parametrize(("text", "expected"), SEEDTTS_ZH)
def test_seedtts_zh(text, expected):
    assert get_normalizer("seedtts-zh")(text) == expected


@pytest.mark.parametrize(("text", "expected"), HUBERT_EN)
def test_hubert_en(text, expected):
    assert get_normalizer("hubert-en")(text) == expected


def test_seedtts_zh_converts_only_the_asr_side_to_simplified():
    zh = get_normalizer("seedtts-zh")
    traditional = "\u9019\u662f\u4e00\u500b\u6e2c\u8a66\u3002"
    assert zh.normalize(traditional, hypothesis=True) == "\u8fd9 \u662f \u4e00 \u4e2a \u6d4b \u8bd5"
    assert zh.normalize(traditional) == "\u9019 \u662f \u4e00 \u500b \u6e2c \u8a66"  # references untouched


def literal_seedtts(text: str, lang: str) -> list[str]:
    """seed-tts-eval's process_one transcribed literally (loop of replaces), then jiwer's split."""
    for x in zhon_punctuation + string.punctuation:
        if x == "'":
            continue
        text = text.replace(x, "")
    text = text.replace("  ", " ")
    text = " ".join(list(text)) if lang == "zh" else text.lower()
    return jiwer_words(text)


@pytest.mark.parametrize("text", [t for t, _ in SEEDTTS_EN + SEEDTTS_ZH] + ["a\u3000 b", "x--y", "  lead"])
def test_table_driven_rules_equal_the_literal_reference_procedure(text):
    for name, lang in (("seedtts-en", "en"), ("seedtts-zh", "zh")):
        ours = [w for w in get_normalizer(name)(text).split(" ") if w]
        assert ours == literal_seedtts(text, lang)


def test_jiwer_words_matches_jiwer_default_transform():
    import jiwer

    for text in ["  a   b ", "a\tb c", "a \t b", "x"]:
        out = jiwer.process_words(text, text)
        assert out.references == [jiwer_words(text)]


def test_every_normalizer_is_registered_with_a_description():
    from ttsbench.plugins import NORMALIZERS

    for name in ("seedtts-en", "seedtts-zh", "f5-en", "hubert-en"):
        norm = NORMALIZERS.get(name)
        assert norm.name == name and norm.description and norm.reference
        assert norm.fingerprint()["normalizer"] == name
