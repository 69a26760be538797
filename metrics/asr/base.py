"""The ASR backend contract: load from a local path once, transcribe audio files."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ttsbench.errors import MissingModelError
from ttsbench.metrics.models import device_kind, package_versions, torch_device


class ASRBackend(abc.ABC):
    """One ASR engine loaded from an explicit local path (construction loads; call it in setup()).

    Class attributes:
        libraries: distributions whose versions can move the transcripts (recorded in fingerprints).
        extra: the ttsbench extra that installs them (for the missing-dependency message).
    """

    libraries: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str] = ""

    def __init__(self, model_path: Path, *, device: str = "cpu", recipe: str = "",
                 params: Mapping[str, Any] | None = None, weights_sha256: str = "") -> None:
        self.model_path = Path(model_path)
        self.device = device
        self.recipe = recipe
        self.params = dict(params or {})
        self.weights_sha256 = weights_sha256  # what a backend that seeds a sampler derives its seeds from

    @classmethod
    def describe(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """What moves the transcripts, known before loading: engine, decode params, library versions."""
        return {"backend": getattr(cls, "registry_name", cls.__name__), "params": dict(sorted(params.items())),
                "libraries": package_versions(cls.libraries)}

    @classmethod
    def signature(cls, model_path: Path, recipe: str) -> dict[str, Any]:
        """The architecture signature of the model files at `model_path`, read before loading (config or
        tensor shapes), compared with a recipe's reference model (`ttsbench.metrics.reference`)."""
        return {}

    def resolved(self) -> dict[str, Any]:
        """What moves the transcripts and is only known once loaded: the device kind, the dtype or compute
        type chosen, how decoding is seeded. Part of the recipe's fingerprint and transcript cache key."""
        return {"device": device_kind(self.device), "dtype": "float32"}

    def load_error(self, what: str, err: BaseException) -> MissingModelError:
        """One line saying the model directory did not load as `what`, and the library's reason."""
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        return MissingModelError(f"{self.recipe}: {self.model_path} does not load as {what}: {reason}")

    def load_transformers(self, processor_cls: Any, model_cls: Any, what: str) -> None:
        """Set self.torch, self.dev, self.processor and an fp32 eval self.model from the local directory.

        Shared by the transformers backends; a directory that does not load is one clear line.
        """
        # lazy: only the transformers backends need torch; faster-whisper's CPU path never loads it
        import torch

        self.torch = torch
        self.dev = torch_device(self.device)
        try:
            self.processor = processor_cls.from_pretrained(str(self.model_path), local_files_only=True)
            self.model = model_cls.from_pretrained(
                str(self.model_path), local_files_only=True, dtype=torch.float32).to(self.dev).eval()
        except Exception as err:  # noqa: BLE001 - transformers raises OSError / ValueError / KeyError for a wrong dir
            raise self.load_error(what, err) from None

    @abc.abstractmethod
    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        """Raw transcripts of audio files, in order (no normalization)."""
