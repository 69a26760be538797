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

Each list is text, matched exactly: `nan=007` hits utterance '007' (a value with leading zeros stays
text when a spec is parsed), and `nan=7` hits '7', not '007'. Faulty takes tone's options too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.sentences import sentences
from ttsbench.systems.tone import Tone
from ttsbench.types import LoadContext, Prompt, SystemSpec

FAULTS = ("nan", "silent", "empty", "crash", "abort")


class SimulatedCrash(BaseException):
    """Raised by `faulty:abort=ID`: passes through `except Exception`, like a killed process."""


@SYSTEMS.register("faulty")
class Faulty(Tone):
    """Test fake: `tone`, but NaN / silent / empty audio, an exception or an abort for chosen utt ids."""

    @dataclass(frozen=True)
    class Options(Tone.Options):
        nan: str = option("", "'+'-separated utterance ids whose audio is all NaN")
        silent: str = option("", "'+'-separated utterance ids whose audio is all zeros")
        empty: str = option("", "'+'-separated utterance ids whose audio has no samples")
        crash: str = option("", "'+'-separated utterance ids on which synthesize raises RuntimeError")
        abort: str = option("", "'+'-separated utterance ids that raise SimulatedCrash (once per work dir)")

    def __init__(self, faults: dict[str, set[str]] | None = None, marker_dir: Path | None = None,
                 seconds_per_char: float = 0.06, noise: float = 0.01) -> None:
        super().__init__(seconds_per_char, noise)
        self.faults = faults or {}
        self.marker_dir = marker_dir

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> Faulty:
        o = cls.parse_options(spec)
        faults = {kind: set(getattr(o, kind).split("+")) for kind in FAULTS if getattr(o, kind)}
        marker_dir = ctx.work_dir / "faulty-aborts" if ctx.work_dir is not None else None
        return cls(faults, marker_dir, o.seconds_per_char, o.noise)

    def _hit(self, kind: str, utt_id: str) -> bool:
        return utt_id in self.faults.get(kind, ())

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


def spoken_wavs(folder: Path, n: int, seed: int) -> list[Path]:
    """`n` sentences of the seeded grammar spoken by eSpeak NG (en-us) into `folder/u<i>.wav`: real
    speech for ASR tests and benchmarks, offline."""
    # lazy: soundfile and the sentence grammar are needed only by the tests that speak
    import soundfile as sf

    system = SYSTEMS.get("espeak-ng").load(SystemSpec(name="espeak-ng", options={"voice": "en-us"}), LoadContext())
    paths = []
    for i, text in enumerate(sentences(n, seed=seed)):
        prompt = Prompt(utt_id=f"u{i}", prompt_wav=None, prompt_text="", target_text=text, lang="en")
        paths.append(folder / f"u{i}.wav")
        sf.write(str(paths[-1]), system.synthesize([prompt], seed=0)[0], system.sample_rate)
    return paths


def tone_corpus(root: Path, texts: Sequence[str], speakers: Sequence[str]) -> Path:
    """A training manifest `root/m.jsonl` of voiced-like tones, one per text (0.3 s + 0.1 s per
    index, 24 kHz, pitch rising with the index), spoken by `speakers[i]`: for trainer tests."""
    # lazy: soundfile is needed only by the tests that train
    import soundfile as sf

    rows = []
    for i, (text, speaker) in enumerate(zip(texts, speakers)):
        t = np.arange(int(24_000 * (0.3 + 0.1 * i))) / 24_000
        wav = 0.2 * np.sin(2 * np.pi * (150 + 20 * i) * t) * np.sin(2 * np.pi * 3 * t) ** 2
        sf.write(str(root / f"u{i}.wav"), wav.astype(np.float32), 24_000)
        rows.append({"wav": f"u{i}.wav", "text": text, "speaker": speaker})
    (root / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root / "m.jsonl"
