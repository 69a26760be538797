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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ttsbench.options import NoOptions, option, parse_options
from ttsbench.types import LoadContext, OptionValue, ScoreItem


class Need(enum.Flag):
    """What a metric reads for one utterance. The scorer reads it: an utterance whose prompt lacks a
    declared input (a prompt transcript, a ground-truth recording) is stored as failed with that
    reason, and a prompt set where every utterance lacks it is one error before any model loads."""

    AUDIO = enum.auto()
    TARGET_TEXT = enum.auto()
    PROMPT_AUDIO = enum.auto()
    PROMPT_TEXT = enum.auto()
    REFERENCE_AUDIO = enum.auto()


@dataclass(frozen=True)
class ModelOptions:
    """The options of a recipe that loads one model: where it is, and the weights' pinned hash."""

    model: Path | None = option(None, "the model's path (default: its documented place under the cache dir)")
    sha256: str | None = option(None, "pin of the weights' SHA-256; a mismatch stops the run")
    allow_other_model: bool = option(False, "score a model whose architecture is not the recipe's reference "
                                            "model's; the run is recorded and shown as not comparable")


class Metric(abc.ABC):
    """One registered metric recipe.

    Class attributes:
        version: bump when anything that moves the number changes.
        higher_is_better: direction, used by tables (bold = best) and `ttsbench check`.
        needs: the inputs score() reads.
        primary: the key of aggregate() that tables show by default (e.g. "wer_macro").
        comparable: True only when the recipe reproduces a published scorer; offline stand-ins
            say False and tables mark them.
        Options: the options `--metrics NAME:key=value` may set, a frozen dataclass of
            `ttsbench.options.option` fields (none by default). The constructor parses them into
            `self.options`, so building a metric refuses a typo before any work.
    """

    registry_name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool | None] = True  # None: descriptive, no better direction
    needs: ClassVar[Need] = Need.AUDIO
    primary: ClassVar[str] = "value"
    comparable: ClassVar[bool] = False
    label: ClassVar[str] = ""  # short column title, e.g. "WER (%)"
    Options: ClassVar[type] = NoOptions

    def __init__(self, options: Mapping[str, OptionValue] | None = None) -> None:
        self.options: Any = self.parse_options(options or {})

    @classmethod
    def parse_options(cls, options: Mapping[str, OptionValue]) -> Any:
        """Raw spec options as an instance of `cls.Options`; an unknown key or a bad value is one
        OptionError line."""
        return parse_options(cls.Options, options, owner=f"metric {cls.registry_name or cls.__name__!r}")

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
