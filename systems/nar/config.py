"""Configuration of the NAR baseline: a DiT over the whole sequence, built from DiTAR's blocks.

The DiTAR paper compares against "NAR (a diffusion transformer) ... under the same parameter sizes"
(§4.4.2, Table 7, Figure 5) without giving its configuration. This one is E2/F5-style: text in-frame,
the prompt's latents as an in-context condition, a fixed total duration, on the same 40 Hz latent
as DiTAR, and as many blocks of the same width as DiTAR 0.6B's encoder + LM + LocDiT together
(6 + 36 + 6 = 48 x 1024 / 4096), so the parameter counts match to within 1 %.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ttsbench.errors import InputError


@dataclass(frozen=True)
class NARConfig:
    """Structure of one NAR DiT. Defaults: the 0.6B baseline."""

    latent_dim: int = 64  # C: the tokenizer's latent width (40 Hz x 64 VAE, or 64 mel bins)
    frame_rate: float = 40.0  # latent frames per second (cost accounting only)
    text_vocab: int = 257  # UTF-8 bytes + 1; id 0 is the filler that pads text to the frame length (E2)
    layers: int = 48  # = DiTAR 0.6B's 6 encoder + 36 LM + 6 LocDiT blocks
    dim: int = 1024
    heads: int = 16
    ffn: int = 4096
    ffn_act: str = "gelu"  # the same two-matrix FFN as DiTAR's default
    norm_eps: float = 1e-6
    rope_theta: float = 10_000.0
    time_freq_dim: int = 256
    time_scale: float = 1000.0

    def __post_init__(self) -> None:
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise InputError(f"NARConfig: dim {self.dim} must split into {self.heads} heads of even width")
        if min(self.layers, self.latent_dim, self.ffn) < 1:
            raise InputError(f"NARConfig: layers, latent_dim and ffn must be >= 1, got {self}")

    def with_options(self, **changes: Any) -> NARConfig:
        return replace(self, **changes)

    @classmethod
    def from_size(cls, size: str, **overrides: Any) -> NARConfig:
        key = size.lower()
        if key not in SIZES:
            raise InputError(f"unknown NAR size {size!r}; choose one of {', '.join(SIZES)}")
        return replace(SIZES[key], **overrides)


SIZES: dict[str, NARConfig] = {
    # Tests only: as many blocks as DiTAR "tiny" has in total (1 + 2 + 2), same width.
    "tiny": NARConfig(layers=5, dim=32, heads=2, ffn=64, time_freq_dim=32),
    # DiTAR 0.1b's size (its 4 + 24 + 4 blocks hold ~75 M parameters): 24 x 512 / 2048.
    "0.1b": NARConfig(layers=24, dim=512, heads=8, ffn=2048),
    "0.6b": NARConfig(),
}
