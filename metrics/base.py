"""The contract every metric implements: per-utterance sufficient statistics, explicit aggregation.

A metric instance is one *recipe*: everything that moves its number (model id and weight hash,
decoding parameters, resampler, normalizer, aggregation) is in `fingerprint()`, which is stored
with every score row and printed in table headers.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pandas as pd

from ttsbench.types import LoadContext, OptionValue, ScoreItem


class Need(enum.Flag):
    """What a metric reads for one utterance."""

    AUDIO = enum.auto()
    TARGET_TEXT = enum.auto()
    PROMPT_AUDIO = enum.auto()
    PROMPT_TEXT = enum.auto()
    REFERENCE_AUDIO = enum.auto()


class Metric(abc.ABC):
    """One registered metric recipe.

    Class attributes:
        version: bump when anything that moves the number changes.
        higher_is_better: direction, used by tables (bold = best) and `ttsbench check`.
        needs: the inputs score() reads.
        primary: the key of aggregate() that tables show by default (e.g. "wer_macro").
        comparable: True only when the recipe reproduces a published scorer; offline stand-ins
            say False and tables mark them.
    """

    registry_name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool | None] = True  # None: descriptive, no better direction
    needs: ClassVar[Need] = Need.AUDIO
    primary: ClassVar[str] = "value"
    comparable: ClassVar[bool] = False
    label: ClassVar[str] = ""  # short column title, e.g. "WER (%)"

    def __init__(self, options: Mapping[str, OptionValue] | None = None) -> None:
        self.options = dict(options or {})

    def setup(self, ctx: LoadContext) -> None:  # noqa: B027 - optional hook
        """Load scorer models from explicit paths. Called once per run, never at import."""

    @abc.abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Everything that moves this metric's number (model id, weight sha256, decode params ...)."""

    def fingerprint_id(self) -> str:
        """A short stable hash of fingerprint(), stored with every score row."""
        blob = json.dumps(self.fingerprint(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    @abc.abstractmethod
    def score(self, item: ScoreItem) -> dict[str, Any]:
        """Per-utterance sufficient statistics (JSON-serialisable). Raise to mark the item failed."""

    def score_batch(self, items: Sequence[ScoreItem]) -> list[dict[str, Any]]:
        """Score several items; override where batching does not change the numbers."""
        return [self.score(item) for item in items]

    @abc.abstractmethod
    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        """Corpus values from the rows score() produced (failed rows are excluded by the caller)."""
