"""Word-level diff of a transcript against its reference, from the alignment the WER recipe counted.

`ttsbench.metrics.wer.word_counts` aligns the normalized reference and hypothesis with
`jiwer.process_words` (jiwer's default word transform) and stores S, D, I and N. `word_diff` walks
the alignment chunks of that same call, so the words it marks as substituted, deleted and inserted
add up to the stored counts; `Diff.matches` compares them with a stored row, and a listening page
shows a mismatch (a row written by another jiwer, say) instead of hiding it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jiwer

EQUAL, SUB, DEL, INS = "=", "s", "d", "i"


@dataclass(frozen=True)
class Diff:
    """The alignment as a list of operations, each a tuple:

    ("=", words), ("s", ref_word, hyp_word), ("d", ref_word), ("i", hyp_word).
    Runs of equal words are joined into one operation; S, D, I count words.
    """

    ops: tuple[tuple[str, ...], ...]
    S: int
    D: int
    I: int  # the WER literature's name
    N: int

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Whether the stored S, D, I (and N) of a score row equal this alignment's."""
        try:
            return all(int(row[k]) == getattr(self, k) for k in ("S", "D", "I", "N"))
        except (KeyError, TypeError, ValueError):
            return False

    def to_json(self) -> list[list[str]]:
        return [list(op) for op in self.ops]


def word_diff(ref_norm: str, hyp_norm: str) -> Diff:
    """The word-level alignment of two normalized texts, as `word_counts` computes it.

    An empty hypothesis deletes every reference word (word_counts scores it so without calling
    jiwer); an empty reference has no alignment (every hypothesis word is an insertion, N = 0).
    """
    ref_words = ref_norm.split(" ") if ref_norm else []
    if not hyp_norm or not ref_norm:
        hyp_words = hyp_norm.split(" ") if hyp_norm else []
        return _diff([(DEL, w) for w in ref_words] + [(INS, w) for w in hyp_words], len(ref_words))
    out = jiwer.process_words(ref_norm, hyp_norm)
    ref, hyp = out.references[0], out.hypotheses[0]
    ops: list[tuple[str, ...]] = []
    for chunk in out.alignments[0]:
        r = ref[chunk.ref_start_idx:chunk.ref_end_idx]
        h = hyp[chunk.hyp_start_idx:chunk.hyp_end_idx]
        if chunk.type == "equal":
            ops.append((EQUAL, " ".join(r)))
        elif chunk.type == "substitute":
            ops.extend((SUB, a, b) for a, b in zip(r, h, strict=True))
        elif chunk.type == "delete":
            ops.extend((DEL, a) for a in r)
        elif chunk.type == "insert":
            ops.extend((INS, b) for b in h)
        else:  # pragma: no cover - jiwer's four chunk types
            raise ValueError(f"unknown jiwer alignment chunk {chunk.type!r}")
    return _diff(ops, len(ref_words))


def _diff(ops: list[tuple[str, ...]], n: int) -> Diff:
    """S, D, I counted from the coloured words themselves, so what the page shows is what is compared."""
    kinds = [op[0] for op in ops]
    return Diff(tuple(ops), kinds.count(SUB), kinds.count(DEL), kinds.count(INS), n)
