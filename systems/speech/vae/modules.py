"""VAE building blocks: Snake activations, anti-aliased activation, AMP blocks, encoder, decoder.

Shapes: B batch, S samples, T latent frames, C channels. Convolutions use weight normalisation,
as in HiFi-GAN and BigVGAN.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from ttsbench.systems.speech.vae.config import VAEConfig


class SnakeBeta(nn.Module):
    """x + 1/beta * sin^2(alpha * x), per-channel alpha and beta kept in log scale (BigVGAN)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.log_alpha = nn.Parameter(torch.zeros(1, channels, 1))
        self.log_beta = nn.Parameter(torch.zeros(1, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        alpha, beta = self.log_alpha.exp(), self.log_beta.exp()
        return x + torch.sin(alpha * x).pow(2) / (beta + 1e-9)


def kaiser_sinc(cutoff: float, half_width: float, kernel_size: int) -> Tensor:
    """Odd-length low-pass FIR filter (windowed sinc, Kaiser window), unit DC gain.

    cutoff and half_width are in cycles per sample; beta follows Kaiser's design formula for the
    attenuation implied by the transition width.
    """
    half = kernel_size // 2
    attenuation = 2.285 * (half - 1) * math.pi * 4 * half_width + 7.95
    if attenuation > 50.0:
        beta = 0.1102 * (attenuation - 8.7)
    elif attenuation >= 21.0:
        beta = 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21)
    else:
        beta = 0.0
    window = torch.kaiser_window(kernel_size, periodic=False, beta=beta, dtype=torch.float64)
    time = torch.arange(kernel_size, dtype=torch.float64) - half
    taps = 2 * cutoff * window * torch.sinc(2 * cutoff * time)
    return (taps / taps.sum()).float()


class AntiAliasedSnake(nn.Module):
    """BigVGAN's alias-free activation: 2x upsample -> SnakeBeta -> low-pass -> 2x downsample."""

    kernel_size = 13

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.act = SnakeBeta(channels)
        # Cutoff at the original Nyquist (0.25 cycles/sample at 2x), transition 0.3 (BigVGAN: 0.6/ratio).
        taps = kaiser_sinc(0.25, 0.3, self.kernel_size)
        self.register_buffer("taps", taps.view(1, 1, -1), persistent=False)

    def _lowpass(self, x: Tensor, gain: float) -> Tensor:
        channels = x.shape[1]
        weight = (gain * self.taps).to(x.dtype).expand(channels, 1, -1)
        return F.conv1d(x, weight, groups=channels)

    def forward(self, x: Tensor) -> Tensor:
        pad = self.kernel_size // 4  # 3 input samples each side become 6 after zero insertion
        padded = F.pad(x, (pad, pad), mode="replicate")
        up = torch.zeros(*padded.shape[:2], 2 * padded.shape[-1], device=x.device, dtype=x.dtype)
        up[..., ::2] = padded  # zero insertion; the gain 2 below restores the amplitude
        up = self._lowpass(up, 2.0)[..., : 2 * x.shape[-1]]  # (B, C, 2T)
        y = self.act(up)
        y = F.pad(y, (self.kernel_size // 2, self.kernel_size // 2), mode="replicate")
        return self._lowpass(y, 1.0)[..., ::2]  # (B, C, T)


def activation(channels: int, anti_alias: bool) -> nn.Module:
    return AntiAliasedSnake(channels) if anti_alias else SnakeBeta(channels)


def conv1d(c_in: int, c_out: int, kernel: int, *, stride: int = 1, dilation: int = 1,
           padding: int | None = None) -> nn.Module:
    """Weight-normalised Conv1d, 'same' padding for stride 1 unless `padding` is given."""
    pad = dilation * (kernel - 1) // 2 if padding is None else padding
    return weight_norm(nn.Conv1d(c_in, c_out, kernel, stride=stride, dilation=dilation, padding=pad))


class AMPBlock(nn.Module):
    """BigVGAN's anti-aliased multi-periodicity residual block: (act, dilated conv, act, conv) x n."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...], anti_alias: bool) -> None:
        super().__init__()
        self.dilated = nn.ModuleList(conv1d(channels, channels, kernel, dilation=d) for d in dilations)
        self.plain = nn.ModuleList(conv1d(channels, channels, kernel) for _ in dilations)
        self.acts = nn.ModuleList(activation(channels, anti_alias) for _ in range(2 * len(dilations)))

    def forward(self, x: Tensor) -> Tensor:
        for i, (c1, c2) in enumerate(zip(self.dilated, self.plain)):
            x = x + c2(self.acts[2 * i + 1](c1(self.acts[2 * i](x))))
        return x


class ResidualUnit(nn.Module):
    """Encoder unit: Snake -> dilated conv (k=7) -> Snake -> 1x1 conv, plus the input."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.net = nn.Sequential(SnakeBeta(channels), conv1d(channels, channels, 7, dilation=dilation),
                                 SnakeBeta(channels), conv1d(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.net(x)


class Encoder(nn.Module):
    """(B, 1, S) waveform, S a multiple of the hop -> (B, 2C, S / hop): latent mean and logvar."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        ch = cfg.encoder_channels
        layers: list[nn.Module] = [conv1d(1, ch, 7)]
        for stride in cfg.encoder_strides:
            layers += [ResidualUnit(ch, d) for d in cfg.encoder_dilations]
            # kernel 2s, padding ceil(s/2): exactly S/s outputs for S a multiple of s (odd or even s).
            layers += [SnakeBeta(ch), conv1d(ch, 2 * ch, 2 * stride, stride=stride, padding=(stride + 1) // 2)]
            ch *= 2
        layers += [SnakeBeta(ch), conv1d(ch, 2 * cfg.latent_dim, 3)]
        self.net = nn.Sequential(*layers)

    def forward(self, wav: Tensor) -> Tensor:
        return self.net(wav)


class Decoder(nn.Module):
    """BigVGAN generator over latents: (B, C, T) -> (B, 1, T * hop) waveform in [-1, 1]."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        ch = cfg.decoder_channels
        self.pre = conv1d(cfg.latent_dim, ch, 7)
        self.ups = nn.ModuleList()
        self.blocks = nn.ModuleList()
        for rate in cfg.upsample_rates:
            # kernel 2r, padding ceil(r/2), output_padding fixes odd r: exactly T * r outputs.
            pad = (rate + 1) // 2
            self.ups.append(weight_norm(nn.ConvTranspose1d(ch, ch // 2, 2 * rate, stride=rate, padding=pad,
                                                           output_padding=2 * pad - rate)))
            ch //= 2
            self.blocks.append(nn.ModuleList(
                AMPBlock(ch, k, d, cfg.anti_alias)
                for k, d in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilations)))
        self.post_act = activation(ch, cfg.anti_alias)
        self.post = conv1d(ch, 1, 7)
        self.final_tanh = cfg.final_tanh

    def forward(self, z: Tensor) -> Tensor:
        x = self.pre(z)
        for up, blocks in zip(self.ups, self.blocks):
            x = up(x)
            x = sum(block(x) for block in blocks) / len(blocks)  # average of the multi-kernel branches
        x = self.post(self.post_act(x))
        return torch.tanh(x) if self.final_tanh else x.clamp(-1.0, 1.0)
