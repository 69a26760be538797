"""Terminal helpers: progress bars on stderr (quiet when not wanted)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress(total: int, desc: str, enabled: bool = True) -> Any:
    """A tqdm bar over `total` utterances, on stderr, removed when done."""
    return tqdm(total=total, desc=desc, unit="utt", disable=not enabled, file=sys.stderr, leave=False)
