"""`duration`: length of the generated audio and its speaking rate. Needs no model.

A descriptive sanity metric (no better direction): a system that fails to stop, or stops early,
shows up as an outlying length or characters-per-second rate.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ttsbench.metrics.base import Metric, Need
from ttsbench.plugins import METRICS
from ttsbench.types import ScoreItem


@METRICS.register("duration")
class Duration(Metric):
    """Seconds of generated audio and characters of target text per second (descriptive)."""

    version = "1"
    higher_is_better = None  # descriptive: neither direction is better
    needs = Need.AUDIO | Need.TARGET_TEXT
    primary = "seconds_mean"
    comparable = True  # computed the same way everywhere
    label = "Duration (s)"

    def fingerprint(self) -> dict[str, Any]:
        return {"metric": "duration", "version": self.version, "chars": "len(target_text.strip())"}

    def score(self, item: ScoreItem) -> dict[str, Any]:
        seconds = len(item.wav) / item.sample_rate
        chars = len(item.target_text.strip())
        return {"seconds": seconds, "chars": chars, "chars_per_second": chars / seconds if seconds else None}

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        return {"seconds_mean": float(rows.seconds.mean()), "seconds_total": float(rows.seconds.sum()),
                "chars_per_second_mean": float(rows.chars_per_second.mean())}
