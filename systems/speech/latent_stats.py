"""Per-channel latent standardisation: DiTAR trains and samples in z' = (z - mean) / std.

Why: DiTAR's VP schedule and its x1 ∈ {0, N(0, I)} start (τ ∈ [0, 1]) assume unit-scale targets,
while a VAE's latent scale is whatever its KL weight allowed (ours: kl_weight 1e-3 on the mean
over elements, `vae.config.VAELossConfig`; small, so reconstruction dominates and the posterior
means drift well away from N(0, I)), and log-mel frames sit around -5 with std ~2. So the trainer
measures each channel's mean and standard deviation over the training corpus's cached latents,
stores them with the tokenizer and the checkpoint, feeds the model standardised latents, and
inference standardises the prompt and de-standardises the generated frames before decoding.

File `latent_stats.json` (in a tokenizer folder, next to `tokenizer.json`; in a latent cache)::

    {"format": "ttsbench.latent_stats/1", "mean": [C floats], "std": [C floats],
     "frames": N, "utterances": U, "tokenizer_fingerprint": "...", "eps": 1e-5}

`std` is the population standard deviation over all N frames of the corpus, floored at `eps`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ttsbench.errors import InputError
from ttsbench.paths import temp_path

FORMAT = "ttsbench.latent_stats/1"
FILE = "latent_stats.json"
EPS = 1e-5


@dataclass(frozen=True)
class LatentStats:
    """Per-channel mean and std (C,) of a tokenizer's latents over a corpus."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    frames: int = 0
    utterances: int = 0
    tokenizer_fingerprint: str = ""

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std) or not self.mean:
            raise InputError(f"latent stats: mean has {len(self.mean)} channels, std {len(self.std)}")
        if min(self.std) <= 0:
            raise InputError("latent stats: every std must be > 0")

    @property
    def channels(self) -> int:
        return len(self.mean)

    def _tensors(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if like.shape[-1] != self.channels:
            raise InputError(f"latent stats have {self.channels} channels, the latents {like.shape[-1]}")
        mean = torch.tensor(self.mean, dtype=like.dtype, device=like.device)
        std = torch.tensor(self.std, dtype=like.dtype, device=like.device)
        return mean, std

    def standardize(self, z: torch.Tensor) -> torch.Tensor:
        """(..., C) latents -> (z - mean) / std."""
        mean, std = self._tensors(z)
        return (z - mean) / std

    def destandardize(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C) standardised latents -> x * std + mean."""
        mean, std = self._tensors(x)
        return x * std + mean

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "mean": list(self.mean), "std": list(self.std), "frames": self.frames,
                "utterances": self.utterances, "tokenizer_fingerprint": self.tokenizer_fingerprint, "eps": EPS}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "latent stats") -> LatentStats:
        if raw.get("format") != FORMAT:
            raise InputError(f"{where}: format {raw.get('format')!r}, expected {FORMAT!r}")
        return cls(tuple(float(v) for v in raw["mean"]), tuple(float(v) for v in raw["std"]),
                   int(raw.get("frames", 0)), int(raw.get("utterances", 0)), str(raw.get("tokenizer_fingerprint", "")))

    def save(self, folder: str | Path) -> Path:
        """Write `<folder>/latent_stats.json` atomically."""
        path = Path(folder) / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        part = temp_path(path)
        part.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        part.replace(path)
        return path


def load_stats(folder: str | Path) -> LatentStats | None:
    """The stats saved in `folder` (a tokenizer folder or a latent cache), or None when it has none."""
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not JSON ({err.msg})") from None
    return LatentStats.from_dict(raw, str(path))


def compute_stats(latents: Iterable[torch.Tensor], tokenizer_fingerprint: str = "") -> LatentStats:
    """Per-channel mean and population std over every frame of every (T, C) tensor (float64 sums)."""
    total: torch.Tensor | None = None
    squares: torch.Tensor | None = None
    frames = utterances = 0
    for z in latents:
        z64 = z.detach().reshape(-1, z.shape[-1]).to(torch.float64)
        if total is None:
            total, squares = z64.sum(0), (z64 * z64).sum(0)
        else:
            total, squares = total + z64.sum(0), squares + (z64 * z64).sum(0)
        frames += z64.shape[0]
        utterances += 1
    if total is None or squares is None or frames == 0:
        raise InputError("latent stats: no frames to measure")
    mean = total / frames
    var = (squares / frames - mean * mean).clamp_min(0.0)
    std = var.sqrt().clamp_min(EPS)
    return LatentStats(tuple(mean.tolist()), tuple(std.tolist()), frames, utterances, tokenizer_fingerprint)
