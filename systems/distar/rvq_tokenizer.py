"""The RVQ speech tokenizer ("rvq"): a continuous tokenizer's frame latents, residual-quantized.

DiSTAR models J layers of K-way codes per frame. Here those codes quantize the latents of one of
this project's continuous tokenizers (`base`: "mel" or a trained "vae"), so DiSTAR and DiTAR model
the same 40 Hz representation and share its waveform decoder; only discrete vs continuous
modelling differs. Bitrate = frame_rate x L' x log2(K) for the first L' <= J layers.

Shapes: B batch, S samples, T frames, C = base latent channels (`code_dim`), J = `num_layers`,
L' <= J layers decoded. `encode` returns codes (B, T, J) int64, so `latent_dim` (channels per frame
of what `encode` returns) is J; `encode_dist` returns the quantized continuous latents (B, T, C).

Saved folder: tokenizer.json (this config, including the base's name and config) and
weights.safetensors holding the codebooks (`rvq.*`) and the base's weights (`base.*`).
Train the codebooks with `ttsbench train rvq` (systems/distar/rvq_train.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor

from ttsbench.errors import InputError
from ttsbench.systems.distar.rvq import ResidualVQ
from ttsbench.systems.speech.tokenizer import TOKENIZERS, LatentDist, SpeechTokenizer, build_tokenizer


@dataclass(frozen=True)
class RVQTokenizerConfig:
    """A base continuous tokenizer plus J x K residual codebooks over its latent frames."""

    base: str = "mel"  # registered name of the continuous tokenizer whose latents are quantized
    base_config: dict[str, Any] = field(default_factory=dict)  # its config overrides (JSON values)
    num_layers: int = 9  # J (paper: 9)
    codebook_size: int = 1024  # K (paper: 65,536 with a 16-d MagiCodec; see configs/train_rvq.toml)
    decay: float = 0.99  # EMA k-means decay (training only)
    dead_threshold: float = 1.0  # EMA frames per step below which a code is re-seeded (training only)

    def __post_init__(self) -> None:
        # JSON gives lists and TOML/asdict tuples: store plain lists so describe() survives save/load.
        object.__setattr__(self, "base_config", _plain(dict(self.base_config)))


@TOKENIZERS.register("rvq")
class RVQTokenizer(SpeechTokenizer):
    """Waveform <-> (B, T, J) RVQ codes over a continuous base tokenizer's (B, T, C) latents."""

    config_class = RVQTokenizerConfig
    discrete = True

    def __init__(self, config: RVQTokenizerConfig | None = None) -> None:
        config = config or RVQTokenizerConfig()
        super().__init__(config)
        if config.base == self.registry_name:
            raise InputError("rvq tokenizer: the base must be a continuous tokenizer (mel, vae), not rvq")
        self.base = build_tokenizer(config.base, config.base_config)
        self.sample_rate, self.hop_length = self.base.sample_rate, self.base.hop_length
        self.num_layers, self.codebook_size = config.num_layers, config.codebook_size
        self.code_dim = self.base.latent_dim  # C
        self.latent_dim = config.num_layers  # channels per frame of encode(): J codes
        self.rvq = ResidualVQ(self.code_dim, config.num_layers, config.codebook_size, decay=config.decay,
                              dead_threshold=config.dead_threshold)

    @classmethod
    def from_base(cls, base: SpeechTokenizer, *, num_layers: int = 9, codebook_size: int = 1024,
                  decay: float = 0.99, dead_threshold: float = 1.0) -> RVQTokenizer:
        """Untrained codebooks over an already built (or loaded) base, whose weights are copied."""
        if isinstance(base, RVQTokenizer):
            raise InputError("rvq tokenizer: the base must be a continuous tokenizer, got an rvq tokenizer")
        cfg = RVQTokenizerConfig(base=base.registry_name, base_config=asdict(base.config),
                                 num_layers=num_layers, codebook_size=codebook_size, decay=decay,
                                 dead_threshold=dead_threshold)
        tok = cls(cfg)
        tok.base.load_state_dict(base.state_dict())
        device = next((t.device for t in (*base.parameters(), *base.buffers())), torch.device("cpu"))
        return tok.to(device).train(base.training)

    def _trained(self) -> None:
        if not bool(self.rvq.initialized):
            raise InputError("rvq tokenizer: the codebooks are untrained; train them with "
                             "`ttsbench train rvq` and load <out>/tokenizer")

    @torch.no_grad()
    def quantize_latents(self, latents: Tensor, layers: int | None = None) -> tuple[Tensor, Tensor]:
        """(B, T, C) base latents -> (quantized (B, T, C), codes (B, T, L)), L = `layers` or J."""
        self._trained()
        return self.rvq.quantize(latents, layers)

    @torch.no_grad()
    def encode(self, wav: Tensor) -> Tensor:
        """(B, S) waveform -> (B, T, J) int64 codes in [0, K)."""
        self._trained()
        return self.rvq.encode(self.base.encode(wav))

    @torch.no_grad()
    def encode_dist(self, wav: Tensor) -> LatentDist:
        """(B, S) waveform -> the all-J-layer quantized base latents (B, T, C) (deterministic)."""
        return LatentDist(self.quantize_latents(self.base.encode(wav))[0], None)

    @torch.no_grad()
    def decode(self, codes: Tensor) -> Tensor:
        """(B, T, L') codes, L' <= J -> (B, T * hop_length) waveform from the first L' layers."""
        if codes.dim() != 3:
            raise InputError(f"rvq tokenizer: expected (batch, frames, layers) codes, "
                             f"got shape {tuple(codes.shape)}")
        return self.base.decode(self.rvq.decode(codes))

    def kbps(self, layers: int | None = None) -> float:
        """Bitrate of the first `layers` (default J) layers: frame_rate x L x log2(K) / 1000."""
        L = self.num_layers if layers is None else self.rvq._layers(layers)
        return self.frame_rate * L * math.log2(self.codebook_size) / 1000

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "num_layers": self.num_layers, "codebook_size": self.codebook_size,
                "code_dim": self.code_dim, "kbps": self.kbps(), "base": self.base.describe()}

    def derived_buffers(self) -> set[str]:
        """Only the base's derived buffers (filterbanks, windows): the codebooks are saved."""
        return {f"base.{name}" for name in self.base.derived_buffers()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> Any:
        """As nn.Module's, but a tensor of the wrong shape fails in one line (InputError)."""
        own = self.state_dict()
        for key, value in state_dict.items():
            if key in own and tuple(value.shape) != tuple(own[key].shape):
                raise InputError(f"rvq tokenizer weights do not match its config: {key} has shape "
                                 f"{tuple(value.shape)}, the config makes {tuple(own[key].shape)}")
        return super().load_state_dict(state_dict, strict=strict, assign=assign)


def _plain(value: Any) -> Any:
    """Nested tuples -> lists, dict values recursively (the form JSON round-trips)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
