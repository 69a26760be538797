"""VAE and discriminator sizes: a paper-like default and a tiny variant for tests.

The paper gives only the interface (24 kHz -> 40 Hz x 64, conv encoder, BigVGAN decoder, MPD+MSD).
Channel widths, strides and kernels below follow BigVGAN (Lee et al., 2022) and HiFi-GAN (Kong et
al., 2020) where they have an equivalent, and are our choice otherwise (marked).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ttsbench.errors import InputError


@dataclass(frozen=True)
class VAEConfig:
    """Encoder/decoder shapes. hop_length = prod(encoder_strides) = prod(upsample_rates)."""

    sample_rate: int = 24_000
    latent_dim: int = 64  # C: channels of the latent (paper: 64)
    # Encoder (our choice: DAC-style residual conv stack): width doubles at every strided conv.
    encoder_channels: int = 32
    encoder_strides: tuple[int, ...] = (2, 3, 4, 5, 5)  # 600 samples per frame -> 40 Hz at 24 kHz
    encoder_dilations: tuple[int, ...] = (1, 3, 9)  # residual units before each strided conv
    # Decoder (BigVGAN): transposed-conv upsampling, each followed by AMP blocks.
    decoder_channels: int = 512  # BigVGAN base's upsample_initial_channel; halves per stage
    upsample_rates: tuple[int, ...] = (5, 5, 4, 3, 2)
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilations: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    anti_alias: bool = True  # BigVGAN's 2x up -> Snake -> 2x down activation (alias-free)
    final_tanh: bool = True
    logvar_clamp: tuple[float, float] = (-30.0, 20.0)  # keeps exp(logvar) finite in bf16/fp32

    def __post_init__(self) -> None:
        if math.prod(self.encoder_strides) != math.prod(self.upsample_rates):
            raise InputError(f"vae config: encoder strides {self.encoder_strides} and upsample rates "
                             f"{self.upsample_rates} must have the same product (the hop length)")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilations):
            raise InputError("vae config: one dilation tuple per resblock kernel size")

    @property
    def hop_length(self) -> int:
        """Waveform samples per latent frame (600 for the paper's 24 kHz -> 40 Hz)."""
        return math.prod(self.encoder_strides)

    @classmethod
    def tiny(cls) -> VAEConfig:
        """Same rates and latent shape, few channels: for CPU tests."""
        return cls(encoder_channels=4, encoder_dilations=(1,), decoder_channels=64,
                   resblock_kernel_sizes=(3,), resblock_dilations=((1, 3),))


@dataclass(frozen=True)
class DiscriminatorConfig:
    """HiFi-GAN's multi-period (MPD) and multi-scale (MSD) discriminators, width-scalable."""

    periods: tuple[int, ...] = (2, 3, 5, 7, 11)  # MPD periods (HiFi-GAN)
    mpd_channels: tuple[int, ...] = (32, 128, 512, 1024, 1024)
    msd_scales: int = 3  # raw, 2x and 4x average-pooled waveform (HiFi-GAN)
    msd_channels: tuple[int, ...] = (128, 128, 256, 512, 1024, 1024, 1024)

    @classmethod
    def tiny(cls) -> DiscriminatorConfig:
        return cls(periods=(2, 3), mpd_channels=(4, 8, 16, 16), msd_scales=2,
                   msd_channels=(8, 8, 16, 16, 32, 32, 32))


@dataclass(frozen=True)
class VAELossConfig:
    """Generator loss = mel_weight * mel + stft_weight * stft + kl_weight * KL + adv + fm_weight * FM.

    Multi-scale mel L1 with weight 15 as in BigVGAN-v2 / DAC, feature matching x2 as in HiFi-GAN and
    BigVGAN; the KL weight (mean over latent elements) is our choice: the paper does not give it.
    """

    mel_windows: tuple[int, ...] = (32, 64, 128, 256, 512, 1024, 2048)  # hop = window / 4
    mel_bins: tuple[int, ...] = (5, 10, 20, 40, 80, 160, 320)
    mel_weight: float = 15.0
    stft_weight: float = 0.0  # optional multi-resolution log-magnitude STFT L1 on the same windows
    kl_weight: float = 1e-3
    adv_weight: float = 1.0
    fm_weight: float = 2.0

    def __post_init__(self) -> None:
        if len(self.mel_windows) != len(self.mel_bins):
            raise InputError("vae loss config: mel_windows and mel_bins need the same length")

    @classmethod
    def tiny(cls) -> VAELossConfig:
        return cls(mel_windows=(256, 1024), mel_bins=(40, 80))
