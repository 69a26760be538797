"""`tone`: a registered deterministic fake system (the harness's DummyLM).

Each prompt becomes a sine whose pitch and length derive from the target text, with a little
seeded noise, so runs, resumes and reports can be exercised end to end with no model.

Options (`tone:seconds_per_char=0.06,noise=0.01`, declared in `Tone.Options`): seconds of audio per
character of target text (at least 0.1 s in all), and the std of the seeded noise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities, TTSSystem, item_rng
from ttsbench.types import LoadContext, Prompt, SystemSpec


@SYSTEMS.register("tone")
class Tone(TTSSystem):
    """Deterministic fake: a text-dependent sine (0.06 s per character), 16 kHz. Not speech."""

    capabilities = Capabilities(zero_shot=False, needs_prompt_text=False, max_batch=1024)
    sample_rate = 16_000

    @dataclass(frozen=True)
    class Options:
        seconds_per_char: float = option(0.06, "seconds of audio per character of target text", min=0)
        noise: float = option(0.01, "std of the seeded Gaussian noise added to the sine", min=0)

    def __init__(self, seconds_per_char: float = 0.06, noise: float = 0.01) -> None:
        self.seconds_per_char = seconds_per_char
        self.noise = noise

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> Tone:
        o = cls.parse_options(spec)
        return cls(o.seconds_per_char, o.noise)

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        return [self._one(p, seed) for p in batch]

    def _one(self, prompt: Prompt, seed: int) -> np.ndarray:
        text = prompt.target_text.strip()
        freq = 120.0 + int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) % 200
        n = max(int(len(text) * self.seconds_per_char * self.sample_rate), self.sample_rate // 10)
        t = np.arange(n, dtype=np.float64) / self.sample_rate
        wav = 0.3 * np.sin(2 * np.pi * freq * t) + self.noise * item_rng(seed, prompt.utt_id).standard_normal(n)
        return wav.astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {"seconds_per_char": self.seconds_per_char, "noise": self.noise, "fake": True}
