"""HiFi-GAN's multi-period (MPD) and multi-scale (MSD) discriminators (Kong et al., 2020).

DiTAR §3.5.1 trains its VAE against exactly these two. Each sub-discriminator returns its score map
and the feature maps of every layer (for the feature-matching loss). Shapes: B batch, S samples.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from ttsbench.systems.speech.vae.config import DiscriminatorConfig

LRELU_SLOPE = 0.1  # HiFi-GAN


class DiscOutput(NamedTuple):
    """Per sub-discriminator: score maps and per-layer features (lists aligned across calls)."""

    scores: list[Tensor]
    features: list[list[Tensor]]


class PeriodDiscriminator(nn.Module):
    """Folds the waveform into (S / p, p) and runs 2-D convs with (k, 1) kernels over time."""

    def __init__(self, period: int, channels: tuple[int, ...]) -> None:
        super().__init__()
        self.period = period
        ins = (1, *channels[:-1])
        strides = [3] * (len(channels) - 1) + [1]  # HiFi-GAN: stride 3, last conv stride 1
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(i, o, (5, 1), (s, 1), padding=(2, 0))) for i, o, s in zip(ins, channels, strides))
        self.post = weight_norm(nn.Conv2d(channels[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, wav: Tensor) -> tuple[Tensor, list[Tensor]]:
        x = wav.unsqueeze(1)  # (B, 1, S)
        if x.shape[-1] % self.period:
            x = F.pad(x, (0, self.period - x.shape[-1] % self.period), mode="reflect")
        x = x.view(x.shape[0], 1, -1, self.period)  # (B, 1, S / p, p)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            features.append(x)
        x = self.post(x)
        features.append(x)
        return x.flatten(1), features


class ScaleDiscriminator(nn.Module):
    """Grouped strided 1-D convs over the (possibly average-pooled) waveform."""

    kernels = (15, 41, 41, 41, 41, 41, 5)
    strides = (1, 2, 2, 4, 4, 1, 1)
    groups = (1, 4, 16, 16, 16, 16, 1)

    def __init__(self, channels: tuple[int, ...], spectral: bool) -> None:
        super().__init__()
        norm = spectral_norm if spectral else weight_norm  # HiFi-GAN: spectral norm on the raw scale
        ins = (1, *channels[:-1])
        self.convs = nn.ModuleList(
            norm(nn.Conv1d(i, o, k, s, groups=math.gcd(g, i, o), padding=k // 2))
            for i, o, k, s, g in zip(ins, channels, self.kernels, self.strides, self.groups))
        self.post = norm(nn.Conv1d(channels[-1], 1, 3, padding=1))

    def forward(self, wav: Tensor) -> tuple[Tensor, list[Tensor]]:
        x = wav.unsqueeze(1)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            features.append(x)
        x = self.post(x)
        features.append(x)
        return x.flatten(1), features


class Discriminators(nn.Module):
    """MPD + MSD as one module: `forward(wav)` -> DiscOutput over all sub-discriminators."""

    def __init__(self, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        if len(cfg.msd_channels) != len(ScaleDiscriminator.kernels):
            raise ValueError(f"msd_channels needs {len(ScaleDiscriminator.kernels)} entries")
        self.subs = nn.ModuleList([PeriodDiscriminator(p, cfg.mpd_channels) for p in cfg.periods])
        self.subs.extend(ScaleDiscriminator(cfg.msd_channels, spectral=(i == 0)) for i in range(cfg.msd_scales))
        self.num_periods = len(cfg.periods)

    def forward(self, wav: Tensor) -> DiscOutput:
        scores, features = [], []
        for i, sub in enumerate(self.subs):
            scale = i - self.num_periods  # MSD k sees the waveform average-pooled k times (x2 each)
            x = wav
            for _ in range(max(scale, 0)):
                x = F.avg_pool1d(x.unsqueeze(1), 4, 2, padding=2).squeeze(1)
            score, feats = sub(x)
            scores.append(score)
            features.append(feats)
        return DiscOutput(scores, features)
