"""The contract every TTS system implements. Construction is cheap; `load()` does all I/O.

The runner owns batching, seeding, timing and writing files: systems never time themselves and
never write into the run directory.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from ttsbench.errors import InputError, MissingModelError, first_line
from ttsbench.options import NoOptions, parse_options
from ttsbench.types import LoadContext, Prompt, SystemSpec

if TYPE_CHECKING:
    from typing import Self


def item_rng(seed: int, utt_id: str) -> np.random.Generator:
    """A generator that depends only on (seed, utterance): batching and resuming never change audio."""
    digest = hashlib.sha256(f"{seed}:{utt_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def read_safetensors(path: Path, what: str, device: str = "cpu") -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; a missing, empty or corrupt file is one line naming `what`."""
    path = Path(path)
    if not path.is_file():
        raise MissingModelError(f"{what} not found: {path}")
    try:
        return load_file(str(path), device=device)
    except (SafetensorError, OSError, ValueError) as err:
        raise InputError(f"cannot read {what} {path}: {first_line(err)} (not a safetensors file?)") from None


@dataclass(frozen=True)
class Capabilities:
    """What a system can do, so the runner and reports can say what a number means.

    zero_shot: clones the prompt's voice (False for fixed-voice baselines such as Piper).
    needs_prompt_text: uses the prompt transcript.
    streaming: generates in chunks; `first_chunk_seconds` is measured by the cost layer.
    max_batch: largest batch `synthesize` accepts (the runner splits larger ones).
    random_weights: the loaded weights are untrained (timing-only models); reports say so.
    """

    zero_shot: bool = True
    needs_prompt_text: bool = True
    streaming: bool = False
    max_batch: int = 64
    random_weights: bool = False


class TTSSystem(abc.ABC):
    """A zero-shot TTS system under test.

    `Options` declares the options `--system NAME:key=value,...` may set (a frozen dataclass of
    `ttsbench.options.option` fields; none by default); `load()` reads them typed through
    `cls.parse_options(spec)`, which the pipeline also calls before any work to refuse typos.
    """

    registry_name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    sample_rate: int = 24_000
    Options: ClassVar[type] = NoOptions

    @classmethod
    def parse_options(cls, spec: SystemSpec) -> Any:
        """`spec.options` as an instance of `cls.Options`; an unknown key or a bad value is one
        OptionError line (`checkpoint=` is not an option: it is `spec.checkpoint`)."""
        return parse_options(cls.Options, spec.options, owner=f"system {spec.name!r}")

    @classmethod
    @abc.abstractmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> Self:
        """Build the system and load its weights from `spec.checkpoint` or `ctx.cache_dir`.

        Never downloads unless `ctx.allow_download`. A missing file raises MissingModelError.
        """

    @abc.abstractmethod
    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        """One float32 mono waveform at `self.sample_rate` per prompt, same order.

        Same seed, same audio. A prompt the system cannot handle may yield an array that the
        runner rejects (empty, NaN, silence); that utterance is marked failed, the run goes on.
        """

    def describe(self) -> dict[str, Any]:
        """Versions and settings recorded in run.json (weights hash, options, package versions)."""
        return {}

    def arch(self) -> Any | None:
        """An architecture spec for analytic FLOPs (ttsbench.metrics.cost), or None."""
        return None

    def resynthesize(self, wav: np.ndarray, sample_rate: int) -> np.ndarray | None:
        """The prompt passed through the system's own codec/vocoder, for SIM-r; None if n/a."""
        return None
