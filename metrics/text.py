"""Named text normalizers of the published WER recipes, registered in NORMALIZERS.

Each normalizer reproduces the text handling of one reference scorer, step for step, so that a WER
computed here equals theirs on the same transcripts:

  seedtts-en  seed-tts-eval `run_wer.py`, English: delete every character of
              `zhon.hanzi.punctuation + string.punctuation` except the ASCII apostrophe, replace "  "
              by " " once, lowercase. No number normalization ("50" vs "fifty" is an error).
  seedtts-zh  seed-tts-eval, Mandarin: the same deletion and replace, no lowercasing, then one token
              per character (a CER; Latin words are split into letters). The ASR side is converted
              to simplified Chinese (zhconv, "zh-cn") first: see `HYP_CONVERSIONS`.
  f5-en       F5-TTS `run_asr_wer`, English: like seedtts-en but the apostrophe is deleted too.
  hubert-en   ZipVoice's HuBERT scorer (LibriSpeech protocol): curly single quotes -> "'", lowercase,
              every character outside [a-zA-Z0-9'] -> space, collapse spaces.

The normalized form printed and stored is the token sequence jiwer aligns, joined by single spaces:
the reference strings go through jiwer's default word transform (collapse runs of 2+ whitespace
characters, strip, split on " "), reproduced by `jiwer_words`.
"""

from __future__ import annotations

import re
import string
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from zhon.hanzi import punctuation as _ZHON_PUNCTUATION

from ttsbench.errors import InputError
from ttsbench.plugins import NORMALIZERS

#: Punctuation deleted by seed-tts-eval and F5-TTS: full-width / CJK marks (incl. curly quotes,
#: dashes, the ellipsis and the ideographic space U+3000) followed by ASCII punctuation.
REFERENCE_PUNCTUATION = _ZHON_PUNCTUATION + string.punctuation
_DELETE_ALL = str.maketrans("", "", REFERENCE_PUNCTUATION)
_DELETE_KEEP_APOSTROPHE = str.maketrans("", "", REFERENCE_PUNCTUATION.replace("'", ""))
_MULTI_SPACE = re.compile(r"\s\s+")  # jiwer.RemoveMultipleSpaces
_NOT_WORD_CHAR = re.compile(r"[^a-zA-Z0-9']")
_ANY_SPACE = re.compile(r"\s+")


def jiwer_words(text: str) -> list[str]:
    """The words jiwer's default transform makes of `text` (jiwer 3.x and 4.x alike).

    RemoveMultipleSpaces (runs of 2+ whitespace -> " "), Strip, then split on " " dropping empties.
    A single tab between two words is therefore *not* a word boundary, as in jiwer.
    """
    return [w for w in _MULTI_SPACE.sub(" ", text).strip().split(" ") if w]


def seedtts_en(text: str) -> str:
    """seed-tts-eval English rule (punctuation but the apostrophe deleted; one double-space pass; lower)."""
    return text.translate(_DELETE_KEEP_APOSTROPHE).replace("  ", " ").lower()


def seedtts_zh(text: str) -> str:
    """seed-tts-eval Mandarin rule: the same deletion, no lowercasing, a space between every character."""
    return " ".join(text.translate(_DELETE_KEEP_APOSTROPHE).replace("  ", " "))


def f5_en(text: str) -> str:
    """F5-TTS English rule: every reference punctuation mark deleted (apostrophe too); lower."""
    return text.translate(_DELETE_ALL).replace("  ", " ").lower()


def hubert_en(text: str) -> str:
    """ZipVoice HuBERT rule: curly quotes -> "'", lowercase, non [a-zA-Z0-9'] -> space, collapse."""
    text = text.replace("\u2018", "'").replace("\u2019", "'")
    return _ANY_SPACE.sub(" ", _NOT_WORD_CHAR.sub(" ", text.lower())).strip()


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese with zhconv ("zh-cn"), as seed-tts-eval and F5 do for ASR output."""
    with warnings.catch_warnings():  # zhconv imports pkg_resources, which warns on new setuptools
        warnings.simplefilter("ignore")
        # lazy: imported under the `with` above, which silences its import-time warning
        import zhconv

    return zhconv.convert(text, "zh-cn")


HYP_CONVERSIONS: dict[str, Callable[[str], str]] = {"zhconv-zh-cn": to_simplified}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class TextNormalizer:
    """A named normalizer: `normalize(text)` is the exact string the reference scorer aligns.

    Attributes:
        name: registry name (the WER recipe that defines it).
        description: one line for `ttsbench list normalizers`.
        reference: the reference implementation it reproduces.
        rule: the function applied to both reference and hypothesis text.
        unit: "word" or "char" (what one token is; a char unit makes the WER a CER).
        hyp_conversion: a key of HYP_CONVERSIONS applied to ASR output before `rule`, or None.
        libraries: distributions whose versions move the output (zhon's punctuation set: zhon 2.x
            deletes the full-width full stop U+FF0E, 1.1.5 keeps it; zhconv's tables), recorded in
            the fingerprint.
        version: bump when the output changes for any input.
    """

    name: str
    description: str
    reference: str
    rule: Callable[[str], str] = field(repr=False)
    unit: str = "word"
    hyp_conversion: str | None = None
    libraries: tuple[str, ...] = ()
    version: str = "1"

    def normalize(self, text: str, *, hypothesis: bool = False) -> str:
        """The compared tokens of `text`, joined by single spaces (hypothesis: converted first)."""
        if hypothesis and self.hyp_conversion:
            text = HYP_CONVERSIONS[self.hyp_conversion](text)
        return " ".join(jiwer_words(self.rule(text)))

    def __call__(self, text: str) -> str:
        return self.normalize(text)

    def fingerprint(self) -> dict[str, Any]:
        return {"normalizer": self.name, "version": self.version, "reference": self.reference,
                "unit": self.unit, "hyp_conversion": self.hyp_conversion,
                "libraries": {name: _version(name) for name in self.libraries}}


BUILTIN = (
    TextNormalizer(
        "seedtts-en", "seed-tts-eval English: punctuation (zhon + ASCII) deleted except ', lowercase, no numbers",
        "BytedanceSpeech/seed-tts-eval run_wer.py process_one (lang=en)", seedtts_en, libraries=("zhon",)),
    TextNormalizer(
        "seedtts-zh", "seed-tts-eval Mandarin: punctuation deleted except ', one token per character (CER)",
        "BytedanceSpeech/seed-tts-eval run_wer.py process_one (lang=zh) + zhconv on the ASR text",
        seedtts_zh, unit="char", hyp_conversion="zhconv-zh-cn", libraries=("zhon", "zhconv")),
    TextNormalizer(
        "f5-en", "F5-TTS English: punctuation (zhon + ASCII) deleted, apostrophe too, lowercase",
        "SWivid/F5-TTS src/f5_tts/eval/utils_eval.py run_asr_wer (lang=en)", f5_en, libraries=("zhon",)),
    TextNormalizer(
        "hubert-en", "ZipVoice HuBERT: curly quotes to ', lowercase, non [a-z0-9'] to space",
        "k2-fsa/ZipVoice zipvoice/eval/wer/hubert.py post_process", hubert_en),
)

for _normalizer in BUILTIN:
    NORMALIZERS.add(_normalizer.name, _normalizer)


def get_normalizer(name: str) -> TextNormalizer:
    """The registered normalizer `name` (an unknown name raises UnknownNameError with suggestions)."""
    obj = NORMALIZERS.get(name)
    if not isinstance(obj, TextNormalizer):

        raise InputError(f"{name!r} is not a text normalizer")
    return obj
