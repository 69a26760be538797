"""Value types that flow through the harness: prompts, system specs, loading context, score items."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ttsbench.errors import TTSBenchError

OptionValue = str | int | float | bool


@dataclass(frozen=True)
class Prompt:
    """One zero-shot synthesis request of a prompt set.

    Attributes:
        utt_id: unique id inside the set; names the output wav (`<utt_id>.wav`).
        prompt_wav: the speaker prompt audio (any rate, mono or multichannel: converted on read).
        prompt_text: transcript of the prompt audio ("" when the set has none).
        target_text: the text to synthesize (never empty).
        lang: "en" | "zh" | another ISO 639-1 code.
        reference_wav: ground-truth recording of `target_text`, when the set has one.
    """

    utt_id: str
    prompt_wav: Path
    prompt_text: str
    target_text: str
    lang: str = "en"
    reference_wav: Path | None = None


@dataclass(frozen=True)
class SystemSpec:
    """Which system to run and how: `NAME[:key=value,...]` on the command line.

    `checkpoint` is the one weight location; `options` holds the rest (nfe, cfg, voice ...) raw, with
    values parsed as bool / int / float where they look like one. They are what the run id hashes;
    the system reads them typed and checked against its declared `Options` (`TTSSystem.parse_options`).
    """

    name: str
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    checkpoint: Path | None = None

    @classmethod
    def parse(cls, text: str) -> SystemSpec:
        """Parse `name:key=value,key=value`; `checkpoint=` becomes the checkpoint field."""
        name, _, rest = text.partition(":")
        if not name.strip():
            raise TTSBenchError(f"empty system name in {text!r}; expected NAME[:key=value,...]")
        options: dict[str, OptionValue] = {}
        for part in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, value = part.partition("=")
            if not eq or not key.strip():
                raise TTSBenchError(f"bad system option {part!r} in {text!r}; expected key=value")
            options[key.strip()] = parse_value(value.strip())
        ckpt = options.pop("checkpoint", None)
        return cls(name.strip(), options, Path(str(ckpt)) if ckpt is not None else None)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(sorted(self.options.items())),
                "checkpoint": str(self.checkpoint) if self.checkpoint else None}


def parse_value(text: str) -> OptionValue:
    """'3' -> 3, '0.5' -> 0.5, 'true' -> True, anything else stays a string ('007' stays '007')."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        number = int(text)
        return number if str(number) == text.lstrip("+") else text  # keep ids with leading zeros
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class LoadContext:
    """Where plugins find weights and how they may get them.

    cache_dir comes from --cache-dir, the spec's [paths] table or $TTSBENCH_CACHE (in that order);
    downloading happens only when allow_download is set (--allow-download), never in tests.
    work_dir is where content-keyed caches go (the runner sets it under the output root).
    """

    device: str = "cpu"
    cache_dir: Path | None = None
    allow_download: bool = False
    work_dir: Path | None = None  # writable dir for derived caches (ASR transcripts, embeddings)

    @classmethod
    def from_env(cls, device: str = "cpu", cache_dir: str | Path | None = None,
                 allow_download: bool = False) -> LoadContext:
        env = os.environ.get("TTSBENCH_CACHE")
        chosen = cache_dir if cache_dir is not None else env
        return cls(device=device, cache_dir=Path(chosen).expanduser() if chosen else None,
                   allow_download=allow_download)


@dataclass(frozen=True)
class ScoreItem:
    """What a metric sees for one utterance. `wav` is float32 mono at `sample_rate`."""

    utt_id: str
    wav: np.ndarray
    sample_rate: int
    wav_path: Path
    target_text: str
    lang: str = "en"
    prompt_wav: Path | None = None
    prompt_text: str = ""
    reference_wav: Path | None = None
    resynth_prompt_wav: Path | None = None  # the prompt passed through the system's codec (SIM-r)
