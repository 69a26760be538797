"""The paper's VAE as a registered speech tokenizer ("vae"): encoder + BigVGAN-style decoder.

Shapes: B batch, S samples, T = ceil(S / 600) frames, C = 64 latent channels (paper sizes).
The discriminators are training-only and live in `discriminators.py`; a saved tokenizer directory
holds the generator (encoder + decoder) alone.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ttsbench.errors import InputError
from ttsbench.systems.speech.tokenizer import TOKENIZERS, LatentDist, SpeechTokenizer
from ttsbench.systems.speech.vae.config import VAEConfig
from ttsbench.systems.speech.vae.modules import Decoder, Encoder


class VAEOutput(NamedTuple):
    """A training forward pass: reconstruction and the posterior it was sampled from."""

    wav: Tensor  # (B, S') reconstruction, S' = T * hop >= S
    dist: LatentDist  # posterior over (B, T, C)


@TOKENIZERS.register("vae")
class VAETokenizer(SpeechTokenizer):
    """24 kHz waveform <-> 40 Hz x 64-d latent (mean, logvar), as in DiTAR §3.5.1."""

    config_class = VAEConfig

    def __init__(self, config: VAEConfig | None = None) -> None:
        config = config or VAEConfig()
        super().__init__(config)
        self.sample_rate, self.hop_length, self.latent_dim = config.sample_rate, config.hop_length, config.latent_dim
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def encode_dist(self, wav: Tensor) -> LatentDist:
        if wav.dim() != 2:
            raise InputError(f"vae tokenizer: expected a (batch, samples) waveform, got shape {tuple(wav.shape)}")
        frames = self.num_frames(wav.shape[-1])
        wav = F.pad(wav, (0, frames * self.hop_length - wav.shape[-1]))  # right-pad to whole frames
        stats = self.encoder(wav.unsqueeze(1))  # (B, 2C, T)
        mean, logvar = stats.transpose(1, 2).chunk(2, dim=-1)  # (B, T, C) each
        return LatentDist(mean, logvar.clamp(*self.config.logvar_clamp))

    def decode(self, latents: Tensor) -> Tensor:
        return self.decoder(latents.transpose(1, 2)).squeeze(1)  # (B, T, C) -> (B, T * hop)

    def forward(self, wav: Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        """Encode, sample z ~ q(z|x) (reparameterised), decode: one generator pass for training."""
        dist = self.encode_dist(wav)
        return VAEOutput(self.decode(dist.sample(generator)), dist)
