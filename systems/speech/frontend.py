"""DiTAR's text front end: text -> espeak-ng phones -> ids of a fixed lookup table (§3.5.4).

G2P is espeak-ng through `phonemizer`, using the library and data that the `espeakng-loader`
wheel ships (no system espeak needed): English as "en-us", Mandarin as "cmn" (espeak's pinyin-
like phones with tone digits), other ISO codes through `LANGUAGES` or as an espeak voice name.

Tokens, in order: each word's phones (a stress mark ˈ / ˌ is its own token, in front of the
phone it marks), a word-boundary token between words, and a punctuation token where the text
has one (full-width Chinese punctuation is mapped to ASCII first). Text is split at punctuation
before G2P, so punctuation never merges with espeak's phone names (cmn's "s." and "ts.h" are
phones). A phone missing from the table is spelled with its characters; a character missing too
becomes <unk>. The table is fixed and versioned (`TABLE_VERSION`): ids never change silently.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from functools import cached_property
from importlib import metadata
from typing import Any

from ttsbench.errors import InputError, MissingDependencyError

TABLE_VERSION = "espeak-phones-1"
PAD, UNK, WORD = "<pad>", "<unk>", " "
STRESS = ("ˈ", "ˌ")
PUNCTUATION = (",", ".", "?", "!", ";", ":", "-", "…")
_PUNCT_MAP = {"，": ",", "、": ",", "。": ".", "．": ".", "？": "?", "！": "!", "；": ";", "：": ":",
              "—": "-", "–": "-", "…": "…", "⋯": "…", "～": "-"}
# Text is cut at these; the ones in PUNCTUATION (after _PUNCT_MAP) also become tokens.
# "." and "," between digits stay (3.50, 1,000); apostrophes stay (don't).
_SPLIT = re.compile(r"""((?:(?<!\d)[.,]|[.,](?!\d)|[?!;:…\-"“”«»()\[\]{}<>/\\|*#&@~_=+^`])+)""")

# espeak-ng 1.52 en-us phones (collected over a 60k-character English text).
EN_PHONES = """aɪ aɪə aɪɚ aʊ b d dʒ eɪ f h i iə iː j k l m n n̩ oʊ p r s t tʃ uː v w x z æ ð ŋ ɐ ɑː ɑːɹ ɔ
ɔɪ ɔː ɔːɹ ə əl ɚ ɛ ɛɹ ɜː ɡ ɪ ɪɹ ɹ ɾ ʃ ʊ ʊɹ ʌ ʒ ʔ θ ᵻ""".split()
# espeak-ng 1.52 cmn initials, and finals x tones (collected over the 10.7k simplified CEDICT
# characters; every final gets every tone mark espeak uses, 1 2 ɜ 4 5, so no tone falls back).
ZH_INITIALS = "f j k kh l m n p ph s s. t th ts ts. ts.h tsh tɕ tɕh w ŋ ɕ ʐ χ dʒ ɹ ʃ θ ɒ ɪ ə".split()
ZH_FINALS = ("a ai ei i. i io iou iɑ iɛ i̪ o- o onɡ ou u ua uai uei uo uə y yi yæ yə yɛ ŋ- ɑ ɑu ə ər "
             "əː").split()
ZH_TONES = ("1", "2", "ɜ", "4", "5")
# Spelling fallback: Latin letters, digits, IPA extensions, modifier letters, combining marks.
_FALLBACK_RANGES = ((0x61, 0x7A), (0x30, 0x39), (0xE6, 0xE6), (0xE7, 0xE7), (0xF0, 0xF0), (0xF8, 0xF8),
                    (0x0250, 0x02AF), (0x02B0, 0x02FF), (0x0300, 0x036F), (0x03B2, 0x03B2), (0x03B8, 0x03B8),
                    (0x03C7, 0x03C7), (0x1D7B, 0x1D7B), (0x2E, 0x2E))

LANGUAGES = {"en": "en-us", "en-us": "en-us", "en-gb": "en-gb", "zh": "cmn", "cmn": "cmn", "fr": "fr-fr",
             "de": "de", "es": "es", "it": "it", "ja": "ja", "ko": "ko", "pt": "pt", "ru": "ru"}


def build_table() -> tuple[str, ...]:
    """The lookup table, index = id. Order is part of TABLE_VERSION: append, never reorder."""
    items: list[str] = [PAD, UNK, WORD, *STRESS, *PUNCTUATION, *EN_PHONES, *ZH_INITIALS]
    items += [final + tone for final in ZH_FINALS for tone in ZH_TONES]
    items += [chr(c) for lo, hi in _FALLBACK_RANGES for c in range(lo, hi + 1)]
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)


class PhoneFrontend:
    """text -> phone ids (> 0; 0 is padding). Deterministic; `describe()` names every version."""

    def __init__(self) -> None:
        self.table = build_table()
        self.ids = {tok: i for i, tok in enumerate(self.table)}
        self._backends: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def vocab_size(self) -> int:
        """Rows the model's phone table needs (DiTARConfig.phone_vocab must be at least this)."""
        return len(self.table)

    def encode(self, text: str, lang: str = "en") -> list[int]:
        """Phone ids of `text` in language `lang` (ISO code or espeak voice)."""
        return [self.ids.get(tok, 1) for tok in self._spell(self.tokens(text, lang))]

    def tokens(self, text: str, lang: str = "en") -> list[str]:
        """The phone / stress / boundary / punctuation strings of `text` (before spelling fallback)."""
        pieces = [p for p in _SPLIT.split(self._normalize(text)) if p.strip()]
        chunks = [p.strip() for p in pieces if not _SPLIT.fullmatch(p)]
        phonemized = iter(self._phonemize(chunks, lang) if chunks else [])
        out: list[str] = []
        for piece in pieces:
            if _SPLIT.fullmatch(piece):
                out += [ch for ch in piece if ch in PUNCTUATION]
                continue
            for word in next(phonemized).split(" "):
                phones = [p for p in word.split("|") if p]
                if not phones:
                    continue
                if out and out[-1] not in (WORD,) and out[-1] not in STRESS:
                    out.append(WORD)
                for phone in phones:
                    out += _split_stress(phone)
        return out

    def describe(self) -> dict[str, Any]:
        """Front-end identity for checkpoints and caches: table version and hash, G2P versions."""
        # lazy: loads the espeak-ng library; only a phone front end or eSpeak needs it
        import phonemizer

        return {"name": "phone-frontend", "table_version": TABLE_VERSION, "table_size": len(self.table),
                "table_sha256": hashlib.sha256("\n".join(self.table).encode()).hexdigest()[:16],
                "g2p": "espeak-ng via phonemizer", "phonemizer": phonemizer.__version__,
                "espeak": self.espeak_version, "espeakng_loader": _dist_version("espeakng-loader")}

    @cached_property
    def espeak_version(self) -> str:
        return ".".join(str(v) for v in self._backend("en").version())

    # ---- internals ----------------------------------------------------------------------------
    def _spell(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        for tok in tokens:
            out += [tok] if tok in self.ids else list(tok)
        return out

    @staticmethod
    def _normalize(text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        text = "".join(_PUNCT_MAP.get(ch, ch) for ch in text).replace("’", "'").replace("‘", "'")
        text = re.sub(r"\.{2,}", "…", text)
        return " ".join(text.split())

    def _phonemize(self, chunks: list[str], lang: str) -> list[str]:
        # lazy: loads the espeak-ng library; only a phone front end or eSpeak needs it
        from phonemizer.separator import Separator

        backend = self._backend(lang)
        with self._lock:  # espeak-ng keeps global state
            out = backend.phonemize(chunks, separator=Separator(phone="|", word=" ", syllable=""), strip=True,
                                    njobs=1)
        return [o.strip() for o in out]

    def _backend(self, lang: str) -> Any:
        voice = LANGUAGES.get(lang.lower(), lang.lower())
        if voice not in self._backends:
            self._backends[voice] = _make_backend(voice, lang)
        return self._backends[voice]


def _split_stress(phone: str) -> list[str]:
    """'ˈoʊ' -> ['ˈ', 'oʊ']: stress marks become their own tokens, in front."""
    marks = [ch for ch in phone if ch in STRESS]
    rest = "".join(ch for ch in phone if ch not in STRESS)
    return marks + ([rest] if rest else [])


def _make_backend(voice: str, lang: str) -> Any:
    try:
        # lazy: loads the espeak-ng library; only a phone front end or eSpeak needs it
        import espeakng_loader
        from phonemizer.backend import EspeakBackend
        from phonemizer.backend.espeak.wrapper import EspeakWrapper
        from phonemizer.logger import get_logger
    except ImportError as err:
        raise MissingDependencyError(f"the DiTAR phone front end needs phonemizer and espeakng-loader "
                                     f"(pip install phonemizer espeakng-loader): {err}") from None
    EspeakWrapper.set_library(espeakng_loader.get_library_path())  # the wheel's espeak-ng, not the system's
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    try:
        return EspeakBackend(voice, preserve_punctuation=False, with_stress=True, language_switch="remove-flags",
                             logger=get_logger("quiet"))
    except RuntimeError:
        raise InputError(f"language {lang!r}: espeak-ng has no voice {voice!r} (known codes: "
                         f"{', '.join(sorted(LANGUAGES))})") from None


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
