"""Fakes for tests, usable by plugin authors too: a system that misbehaves on chosen utterances.

`faulty` (registered) behaves like `tone`, except for the utterance ids named in its options:
`nan=ID1+ID2` returns NaN audio, `silent=...` zeros, `empty=...` no samples, `crash=...` raises.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ttsbench.plugins import SYSTEMS
from ttsbench.systems.tone import Tone
from ttsbench.types import LoadContext, Prompt, SystemSpec

FAULTS = ("nan", "silent", "empty", "crash")


@SYSTEMS.register("faulty")
class Faulty(Tone):
    """Test fake: `tone`, but NaN / silent / empty audio or an exception for chosen utterance ids."""

    def __init__(self, faults: dict[str, set[str]] | None = None) -> None:
        super().__init__()
        self.faults = faults or {}

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> Faulty:
        faults = {kind: set(str(spec.options[kind]).split("+")) for kind in FAULTS if kind in spec.options}
        return cls(faults)

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        out = []
        for p in batch:
            if p.utt_id in self.faults.get("crash", ()):
                raise RuntimeError(f"simulated crash on {p.utt_id}")
            wav = self._one(p, seed)
            if p.utt_id in self.faults.get("nan", ()):
                wav[:] = np.nan
            elif p.utt_id in self.faults.get("silent", ()):
                wav[:] = 0.0
            elif p.utt_id in self.faults.get("empty", ()):
                wav = wav[:0]
            out.append(wav)
        return out
