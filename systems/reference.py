"""`ground-truth`: each prompt's reference recording, so a run scores the human row of a table.

Papers report the metrics of the real recordings of the target texts next to the systems' (the
"Ground Truth" row of DiTAR Table 1, F5-TTS, Seed-TTS eval). Running this system through the same
runner and metrics gives that row under exactly the same ASR, normalizer, SIM model and aggregation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ttsbench.audio import read_audio
from ttsbench.errors import InputError
from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities, TTSSystem
from ttsbench.types import LoadContext, Prompt, SystemSpec


@SYSTEMS.register("ground-truth")
class GroundTruth(TTSSystem):
    """The prompt set's human recording of each target text (reference_wav): the reference row."""

    capabilities = Capabilities(zero_shot=False, needs_prompt_text=False, max_batch=256)
    sample_rate = 16_000

    @dataclass(frozen=True)
    class Options:
        sample_rate: int = option(16_000, "Hz; recordings at other rates are resampled (soxr VHQ)", min=8000)

    def __init__(self, sample_rate: int = 16_000) -> None:
        self.sample_rate = sample_rate

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> GroundTruth:
        """Option `sample_rate` (Hz, >= 8000, default 16000: what every shipped metric reads);
        recordings at another rate are resampled with soxr VHQ."""
        return cls(cls.parse_options(spec).sample_rate)

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        out = []
        for prompt in batch:
            if prompt.reference_wav is None:
                raise InputError(f"{prompt.utt_id}: this prompt set has no reference audio (reference_wav), "
                                 "which the ground-truth system returns; use a set that ships it")
            out.append(read_audio(prompt.reference_wav, self.sample_rate)[0])
        return out

    def describe(self) -> dict[str, Any]:
        return {"source": "prompt.reference_wav", "resampler": "soxr VHQ"}
