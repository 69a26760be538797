"""Continuous speech tokenizers: waveform <-> frame-rate latents that DiTAR models.

DiTAR (§3.5.1) models the 40 Hz x 64-d latent of a VAE trained on 24 kHz speech. Systems and the
trainer see only this interface, so a DiTAR can also run on another continuous representation
(e.g. log-mel frames with a Griffin-Lim vocoder) for small experiments.

Shapes: B batch, S samples, T frames, C latent channels. A waveform of S samples encodes to
T = ceil(S / hop_length) frames; T frames decode to T * hop_length samples.

Registered tokenizers (``TOKENIZERS``; outside packages add more via the entry-point group
``ttsbench.tokenizers``):

- ``vae``: the paper's VAE (``ttsbench.systems.speech.vae``): 24 kHz -> 40 Hz x 64 (mean, logvar).
- ``mel``: log-mel frames + Griffin-Lim (``ttsbench.systems.speech.mel``); no training needed.
- ``rvq``: DiSTAR's J x K residual-VQ codes of a mel/vae base's latents (``systems/distar``).

A tokenizer directory (``save(dir)`` / ``load_tokenizer(dir)``) holds ``tokenizer.json`` (name,
format version, config) and, for trained tokenizers, ``weights.safetensors``.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from ttsbench.errors import InputError, MissingModelError
from ttsbench.paths import temp_path
from ttsbench.registry import Registry
from ttsbench.systems.base import read_safetensors

FORMAT_VERSION = 1
CONFIG_FILE = "tokenizer.json"
WEIGHTS_FILE = "weights.safetensors"

TOKENIZERS: Registry[Any] = Registry(
    "speech tokenizer", entry_point_group="ttsbench.tokenizers",
    builtin_packages=["ttsbench.systems.speech.mel", "ttsbench.systems.speech.vae.model",
                      "ttsbench.systems.distar.rvq_tokenizer"])


class LatentDist(NamedTuple):
    """A diagonal Gaussian posterior over latents; `logvar` is None for deterministic tokenizers."""

    mean: Tensor  # (B, T, C)
    logvar: Tensor | None  # (B, T, C) or None

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        """mean + std * noise (the mean itself when the tokenizer is deterministic)."""
        if self.logvar is None:
            return self.mean
        noise = torch.randn(self.mean.shape, generator=generator, device=self.mean.device,
                            dtype=self.mean.dtype)
        return self.mean + torch.exp(0.5 * self.logvar) * noise


class SpeechTokenizer(nn.Module, abc.ABC):
    """Waveform <-> continuous latent frames. Subclasses set the four rate/size attributes.

    Attributes:
        sample_rate: waveform rate in Hz that `encode` expects and `decode` returns.
        hop_length: waveform samples per latent frame.
        latent_dim: C, channels per frame.
        config: the frozen dataclass the tokenizer was built from (saved in tokenizer.json).
    """

    registry_name: ClassVar[str] = ""
    config_class: ClassVar[type]
    sample_rate: int
    hop_length: int
    latent_dim: int

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    @property
    def frame_rate(self) -> float:
        """Latent frames per second of audio (40.0 for the paper's VAE)."""
        return self.sample_rate / self.hop_length

    def num_frames(self, num_samples: int) -> int:
        """Frames that `encode` returns for `num_samples` samples: ceil(S / hop_length)."""
        return math.ceil(num_samples / self.hop_length)

    @abc.abstractmethod
    def encode_dist(self, wav: Tensor) -> LatentDist:
        """(B, S) float waveform at `sample_rate` -> posterior over (B, T, C) latents."""

    def encode(self, wav: Tensor) -> Tensor:
        """(B, S) waveform -> (B, T, C) latent means, the continuous tokens DiTAR models."""
        return self.encode_dist(wav).mean

    @abc.abstractmethod
    def decode(self, latents: Tensor) -> Tensor:
        """(B, T, C) latents -> (B, T * hop_length) waveform at `sample_rate`."""

    def describe(self) -> dict[str, Any]:
        """Name, rates and config, for run manifests and caches."""
        return {"name": self.registry_name, "sample_rate": self.sample_rate,
                "frame_rate": self.frame_rate, "latent_dim": self.latent_dim,
                "config": asdict(self.config)}

    def save(self, directory: str | Path) -> Path:
        """Write tokenizer.json (+ weights.safetensors when the tokenizer has parameters)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT_VERSION, "name": self.registry_name, "config": asdict(self.config)}
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()
                 if k not in self.derived_buffers()}
        if state:
            save_file(state, str(directory / WEIGHTS_FILE))
        _atomic_write(directory / CONFIG_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return directory

    def derived_buffers(self) -> set[str]:
        """State-dict keys recomputed from the config (not saved): filterbanks, windows."""
        return {name for name, _ in self.named_buffers()}

    def fingerprint(self) -> str:
        """sha256 (16 hex) of config + weights: keys latent caches, so a new tokenizer re-encodes."""
        h = hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode())
        for key, value in sorted(self.state_dict().items()):
            if key in self.derived_buffers():
                continue
            h.update(key.encode())
            h.update(value.detach().cpu().float().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]


def build_tokenizer(name: str, config: dict[str, Any] | None = None) -> SpeechTokenizer:
    """A fresh tokenizer by registry name; `config` overrides its config fields (unknown keys fail)."""
    cls = TOKENIZERS.get(name)
    return cls(_make_config(cls, config or {}, where=f"tokenizer {name!r}"))


def load_tokenizer(directory: str | Path, *, map_location: str | torch.device = "cpu") -> SpeechTokenizer:
    """The tokenizer saved in `directory` (tokenizer.json + weights), in eval mode."""
    directory = Path(directory)
    meta_path = directory / CONFIG_FILE
    if not meta_path.is_file():
        raise MissingModelError(f"no speech tokenizer at {directory}: {CONFIG_FILE} is missing")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise InputError(f"{meta_path}: tokenizer format {meta.get('format')!r}, expected {FORMAT_VERSION}")
    tok = build_tokenizer(meta["name"], meta.get("config"))
    weights = directory / WEIGHTS_FILE
    expected = set(tok.state_dict()) - tok.derived_buffers()
    if expected:
        if not weights.is_file():
            raise MissingModelError(f"tokenizer {meta['name']!r} at {directory}: {WEIGHTS_FILE} is missing")
        state = read_safetensors(weights, f"weights of tokenizer {meta['name']!r}", str(map_location))
        missing, unexpected = tok.load_state_dict(state, strict=False)
        missing = [k for k in missing if k not in tok.derived_buffers()]
        if missing or unexpected:
            raise InputError(f"{weights}: does not match tokenizer {meta['name']!r} "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    return tok.to(map_location).eval()


def _make_config(cls: type[SpeechTokenizer], values: dict[str, Any], *, where: str) -> Any:
    fields = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = set(values) - fields
    if unknown:
        raise InputError(f"{where}: unknown config key(s) {sorted(unknown)}; valid: {sorted(fields)}")
    return cls.config_class(**{k: _tuples(v) for k, v in values.items()})


def _tuples(value: Any) -> Any:
    """JSON and TOML give lists; frozen configs hold (nested) tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def _atomic_write(path: Path, text: str) -> None:
    tmp = temp_path(path)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
