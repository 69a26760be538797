"""Fakes for tests, usable by plugin authors too: a system that misbehaves on chosen utterances.

`faulty` (registered) behaves like `tone`, except for the utterance ids named in its options, each
a '+'-separated list (`faulty:nan=utt0+utt3,silent=utt1`):

  nan=...     audio full of NaN              -> the runner marks the utterance failed
  silent=...  all-zero audio                 -> failed ("silent")
  empty=...   no samples                     -> failed ("empty")
  crash=...   synthesize raises RuntimeError -> failed with the exception's text; the run goes on
  abort=...   raises SimulatedCrash, a BaseException the runner does not catch, as if the process
              died there; once per work dir (a marker file under LoadContext.work_dir), so re-running
              the same spec resumes past it. Without a work dir it aborts every time.

Ids that look like numbers lose leading zeros when a spec is parsed (`nan=007` arrives as 7), so a
digit-only utterance id also matches its integer form.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ttsbench.plugins import SYSTEMS
from ttsbench.systems.tone import Tone
from ttsbench.types import LoadContext, Prompt, SystemSpec

FAULTS = ("nan", "silent", "empty", "crash", "abort")


class SimulatedCrash(BaseException):
    """Raised by `faulty:abort=ID`: passes through `except Exception`, like a killed process."""


@SYSTEMS.register("faulty")
class Faulty(Tone):
    """Test fake: `tone`, but NaN / silent / empty audio, an exception or an abort for chosen utt ids."""

    def __init__(self, faults: dict[str, set[str]] | None = None, marker_dir: Path | None = None) -> None:
        super().__init__()
        self.faults = faults or {}
        self.marker_dir = marker_dir

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> Faulty:
        faults = {kind: set(str(spec.options[kind]).split("+")) for kind in FAULTS if kind in spec.options}
        marker_dir = ctx.work_dir / "faulty-aborts" if ctx.work_dir is not None else None
        return cls(faults, marker_dir)

    def _hit(self, kind: str, utt_id: str) -> bool:
        ids = self.faults.get(kind, ())
        return utt_id in ids or (utt_id.isdigit() and str(int(utt_id)) in ids)

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        out = []
        for p in batch:
            if self._hit("abort", p.utt_id):
                self._abort_once(p.utt_id)
            if self._hit("crash", p.utt_id):
                raise RuntimeError(f"simulated crash on {p.utt_id}")
            wav = self._one(p, seed)
            if self._hit("nan", p.utt_id):
                wav[:] = np.nan
            elif self._hit("silent", p.utt_id):
                wav[:] = 0.0
            elif self._hit("empty", p.utt_id):
                wav = wav[:0]
            out.append(wav)
        return out

    def _abort_once(self, utt_id: str) -> None:
        if self.marker_dir is None:
            raise SimulatedCrash(f"simulated abort on {utt_id}")
        marker = self.marker_dir / f"aborted-{utt_id}"
        if not marker.exists():
            self.marker_dir.mkdir(parents=True, exist_ok=True)
            marker.touch()
            raise SimulatedCrash(f"simulated abort on {utt_id}")
