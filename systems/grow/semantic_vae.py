"""The 16 kHz Semantic-VAE GROW models (zkniu/Semantic-VAE `semantic_vae_1000k`): waveform <-> 40 Hz x 64.

Encoder (DAC style): Conv(1 -> d, 7), one block per rate r in `encoder_rates` (three residual units
with Snake and dilations 1/3/9, Snake, strided Conv(2r, stride r)) doubling the width, Snake,
Conv(-> latent_dim, 3); then a causal attention projection to `vae_dim` (AttnProjection:
LayerNorm'd mean-over-heads causal attention pooled to the output width + a linear skip, then a
GeGLU MLP) and `fc_mu` / `fc_var` (log-variance clamped to [-12, 12]).
Decoder: BigVGAN-v2 (`bigvgan_v2_16khz_40hz_base_vae64`: 64 -> 1024 channels, transposed-conv
upsampling by 5, 5, 2, 2, 2, 2, AMP blocks with anti-aliased SnakeBeta (kernels 3, 7, 11, dilations
1, 3, 5), SnakeBeta, Conv(-> 1, 7) without bias, output clamped to [-1, 1], no tanh).

Weight norm is folded at load time (both `weight_g`/`weight_v` and parametrization keys), so the
module holds plain convolutions. Shapes: waveform (B, S) at 16 kHz; latents (B, T, 64), T = ceil(S / 400).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ttsbench.errors import InputError, MissingModelError


@dataclass(frozen=True)
class SemanticVAEConfig:
    """DAC(**metainfo["DAC"]) fields that shape the model, and the packaged 16 kHz BigVGAN config."""

    sample_rate: int = 16_000
    encoder_dim: int = 64
    encoder_rates: tuple[int, ...] = (2, 4, 5, 10)  # random weights only: the real split is in metainfo.json
    latent_dim: int = 0  # 0: encoder_dim * 2 ** len(encoder_rates)
    vae_dim: int = 64
    attn_heads: int = 8
    upsample_rates: tuple[int, ...] = (5, 5, 2, 2, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (9, 9, 4, 4, 4, 4)
    upsample_initial_channel: int = 1024
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = field(default=((1, 3, 5), (1, 3, 5), (1, 3, 5)))

    @property
    def width(self) -> int:
        return self.latent_dim or self.encoder_dim * 2 ** len(self.encoder_rates)

    @property
    def hop_length(self) -> int:
        return math.prod(self.encoder_rates)


def snake(x: Tensor, alpha: Tensor) -> Tensor:
    return x + (alpha + 1e-9).reciprocal() * torch.sin(alpha * x).pow(2)


class Snake1d(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return snake(x, self.alpha)


class SnakeBeta(nn.Module):
    """x + sin^2(e^alpha x) / (e^beta + 1e-9) (log-scale parameters, per channel)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        alpha, beta = self.alpha.exp()[None, :, None], self.beta.exp()[None, :, None]
        return x + (beta + 1e-9).reciprocal() * torch.sin(alpha * x).pow(2)


def kaiser_lowpass(cutoff: float, half_width: float, size: int) -> Tensor:
    """(1, 1, size) windowed-sinc low-pass, unit DC gain (even sizes: taps at half-integer times)."""
    half = size // 2
    attenuation = 2.285 * (half - 1) * math.pi * 4 * half_width + 7.95
    beta = (0.1102 * (attenuation - 8.7) if attenuation > 50 else
            0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21) if attenuation >= 21 else 0.0)
    window = torch.kaiser_window(size, beta=beta, periodic=False)
    time = torch.arange(-half, half) + 0.5 if size % 2 == 0 else torch.arange(size) - half
    taps = 2 * cutoff * window * torch.sinc(2 * cutoff * time)
    return (taps / taps.sum()).view(1, 1, size)


class AntiAliased(nn.Module):
    """2x upsample (replicate pad, transposed conv with a 12-tap low-pass), activation, 2x downsample."""

    def __init__(self, act: nn.Module, ratio: int = 2, size: int = 12) -> None:
        super().__init__()
        self.act, self.ratio, self.size = act, ratio, size
        self.register_buffer("up_filter", kaiser_lowpass(0.5 / ratio, 0.6 / ratio, size), persistent=False)
        self.register_buffer("down_filter", kaiser_lowpass(0.5 / ratio, 0.6 / ratio, size), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        C, r, k = x.shape[1], self.ratio, self.size
        pad = k // r - 1
        y = F.pad(x, (pad, pad), mode="replicate")
        y = r * F.conv_transpose1d(y, self.up_filter.expand(C, -1, -1), stride=r, groups=C)
        y = y[..., pad * r + (k - r) // 2: -(pad * r + (k - r + 1) // 2)]
        y = self.act(y)
        y = F.pad(y, (k // 2 - 1, k // 2), mode="replicate")
        return F.conv1d(y, self.down_filter.expand(C, -1, -1), stride=r, groups=C)


class ResidualUnit(nn.Module):
    def __init__(self, dim: int, dilation: int) -> None:
        super().__init__()
        self.block = nn.Sequential(Snake1d(dim), nn.Conv1d(dim, dim, 7, dilation=dilation, padding=3 * dilation),
                                   Snake1d(dim), nn.Conv1d(dim, dim, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.block(x)
        crop = (x.shape[-1] - y.shape[-1]) // 2
        return (x[..., crop:-crop] if crop > 0 else x) + y


class EncoderBlock(nn.Module):
    def __init__(self, dim: int, stride: int) -> None:
        super().__init__()
        self.block = nn.Sequential(ResidualUnit(dim // 2, 1), ResidualUnit(dim // 2, 3), ResidualUnit(dim // 2, 9),
                                   Snake1d(dim // 2),
                                   nn.Conv1d(dim // 2, dim, 2 * stride, stride=stride, padding=math.ceil(stride / 2)))

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class CausalAttention(nn.Module):
    """Causal attention over `dim_in` channels in `heads` heads, averaged over heads, pooled to `dim_out`."""

    def __init__(self, dim_in: int, dim_out: int, heads: int) -> None:
        super().__init__()
        self.heads, self.dim_out = heads, dim_out
        self.qkv = nn.Linear(dim_in, 3 * dim_in, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim_in))
        self.v_bias = nn.Parameter(torch.zeros(dim_in))
        self.proj = nn.Linear(dim_out, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        B, N, D = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        q, k, v = F.linear(x, self.qkv.weight, bias).reshape(B, N, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).mean(dim=1)  # (B, N, D / heads)
        if a.shape[-1] != self.dim_out:
            a = F.adaptive_avg_pool1d(a, self.dim_out)
        return self.proj(a)


class GeGLU(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.w0, self.w1, self.w2 = nn.Linear(dim, hidden), nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm(x)
        return self.w2(F.gelu(self.w0(x), approximate="tanh") * self.w1(x))


class AttnProjection(nn.Module):
    """(B, T, in) -> (B, T, out): proj(norm3 x) + attn(norm1 x), then x + GeGLU(norm2 x)."""

    def __init__(self, dim_in: int, dim_out: int, heads: int) -> None:
        super().__init__()
        self.norm1, self.norm3, self.norm2 = nn.LayerNorm(dim_in), nn.LayerNorm(dim_in), nn.LayerNorm(dim_out)
        self.attn = CausalAttention(dim_in, dim_out, heads)
        self.proj = nn.Linear(dim_in, dim_out)
        self.mlp = GeGLU(dim_out, 2 * dim_out)

    def forward(self, x: Tensor) -> Tensor:
        x = self.proj(self.norm3(x)) + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class AMPBlock(nn.Module):
    def __init__(self, ch: int, kernel: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(nn.Conv1d(ch, ch, kernel, dilation=d, padding=(kernel * d - d) // 2)
                                    for d in dilations)
        self.convs2 = nn.ModuleList(nn.Conv1d(ch, ch, kernel, padding=(kernel - 1) // 2) for _ in dilations)
        self.activations = nn.ModuleList(AntiAliased(SnakeBeta(ch)) for _ in range(2 * len(dilations)))

    def forward(self, x: Tensor) -> Tensor:
        for c1, c2, a1, a2 in zip(self.convs1, self.convs2, self.activations[::2], self.activations[1::2]):
            x = x + c2(a2(c1(a1(x))))
        return x


class BigVGANDecoder(nn.Module):
    def __init__(self, cfg: SemanticVAEConfig) -> None:
        super().__init__()
        ch0 = cfg.upsample_initial_channel
        self.conv_pre = nn.Conv1d(cfg.vae_dim, ch0, 7, padding=3)
        self.ups = nn.ModuleList(
            nn.ModuleList([nn.ConvTranspose1d(ch0 // 2 ** i, ch0 // 2 ** (i + 1), k, u, padding=(k - u) // 2)])
            for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes)))
        self.resblocks = nn.ModuleList(AMPBlock(ch0 // 2 ** (i + 1), k, tuple(d))
                                    for i in range(len(self.ups))
                                    for k, d in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes))
        ch = ch0 // 2 ** len(self.ups)
        self.activation_post = AntiAliased(SnakeBeta(ch))
        self.conv_post = nn.Conv1d(ch, 1, 7, padding=3, bias=False)
        self.kernels = len(cfg.resblock_kernel_sizes)

    def forward(self, z: Tensor) -> Tensor:
        """z (B, vae_dim, T) -> waveform (B, 1, T * hop) in [-1, 1]."""
        x = self.conv_pre(z)
        for i, up in enumerate(self.ups):
            x = up[0](x)
            blocks = self.resblocks[i * self.kernels:(i + 1) * self.kernels]
            x = sum(b(x) for b in blocks) / self.kernels
        return self.conv_post(self.activation_post(x)).clamp(-1.0, 1.0)


class DACEncoder(nn.Module):
    def __init__(self, cfg: SemanticVAEConfig) -> None:
        super().__init__()
        d = cfg.encoder_dim
        layers: list[nn.Module] = [nn.Conv1d(1, d, 7, padding=3)]
        for stride in cfg.encoder_rates:
            d *= 2
            layers.append(EncoderBlock(d, stride))
        layers += [Snake1d(d), nn.Conv1d(d, cfg.width, 3, padding=1)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class SemanticVAE(nn.Module):
    """`encode(wav (B, S))` -> (mean, logvar) (B, T, 64); `decode(z (B, T, 64))` -> wav (B, T * 400)."""

    def __init__(self, cfg: SemanticVAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.sample_rate, self.hop_length, self.latent_dim = cfg.sample_rate, cfg.hop_length, cfg.vae_dim
        self.frame_rate = cfg.sample_rate / cfg.hop_length
        self.encoder = DACEncoder(cfg)
        self.pre_block = AttnProjection(cfg.width, cfg.vae_dim, cfg.attn_heads)
        self.fc_mu = nn.Linear(cfg.vae_dim, cfg.vae_dim)
        self.fc_var = nn.Linear(cfg.vae_dim, cfg.vae_dim)
        self.decoder = BigVGANDecoder(cfg)

    def encode(self, wav: Tensor) -> tuple[Tensor, Tensor]:
        right = (-wav.shape[-1]) % self.hop_length
        z = self.pre_block(self.encoder(F.pad(wav, (0, right))[:, None]).transpose(1, 2))
        return self.fc_mu(z), self.fc_var(z).clamp(-12, 12)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z.transpose(1, 2))[:, 0]

    def describe(self) -> dict[str, Any]:
        return {"name": "semantic-vae", "sample_rate": self.sample_rate, "hop_length": self.hop_length,
                "frame_rate_hz": self.frame_rate, "latent_dim": self.latent_dim,
                "encoder_rates": list(self.cfg.encoder_rates)}


DROP = re.compile(r"projectors\..*|.*\.filter|.*zero_k_bias")  # a deleted module, and constant buffers


def fold_weight_norm(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """w = g * v / ||v|| (norm over all but dim 0) for `X.weight_g/_v` and `X.parametrizations.weight.original0/1`."""
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        for g_suffix, v_suffix in ((".weight_g", ".weight_v"),
                                   (".parametrizations.weight.original0", ".parametrizations.weight.original1")):
            if key.endswith(g_suffix):
                base = key[: -len(g_suffix)]
                v = state[base + v_suffix].float()
                norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))
                out[base + ".weight"] = value.float() * v / norm
                break
            if key.endswith(v_suffix):
                break
        else:
            out[key] = value
    return out


def vae_state(raw: dict[str, Any]) -> dict[str, Tensor]:
    """A Semantic-VAE state dict (EMA prefix optional) -> our keys: dropped buffers, weight norm folded."""
    return fold_weight_norm({k.removeprefix("ema_model."): v for k, v in raw.items()
                             if isinstance(v, Tensor) and not DROP.fullmatch(k.removeprefix("ema_model."))})


def config_from_metainfo(meta: dict[str, Any], where: str) -> SemanticVAEConfig:
    dac = meta.get("DAC") if isinstance(meta.get("DAC"), dict) else None
    if dac is None:
        raise InputError(f"{where}: no 'DAC' section (not Semantic-VAE's metainfo.json)")
    conf = Path(str(dac.get("bigvgan_conf", "bigvgan_v2_16khz_40hz_base_vae64.json"))).name
    if conf != "bigvgan_v2_16khz_40hz_base_vae64.json":
        raise InputError(f"{where}: BigVGAN config {conf!r}; only bigvgan_v2_16khz_40hz_base_vae64 is built here")
    known = {f.name for f in fields(SemanticVAEConfig)}  # decoder fields only appear in small test files
    values = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
              for k, v in dac.items() if k in known}
    values["latent_dim"] = int(dac.get("latent_dim") or 0)
    return SemanticVAEConfig(**values)


def load_semantic_vae(folder: Path) -> SemanticVAE:
    """`<folder>/metainfo.json` + `<folder>/dac/ema_state_dict.pth` (keys `ema_model.*`), as GROW loads it."""
    folder = Path(folder)
    meta_path, weights = folder / "metainfo.json", folder / "dac" / "ema_state_dict.pth"
    for path in (meta_path, weights):
        if not path.is_file():
            raise MissingModelError(f"Semantic-VAE file not found: {path} (hub zkniu/Semantic-VAE, "
                                    f"semantic_vae_1000k/{{metainfo.json,dac/ema_state_dict.pth}})")
    cfg = config_from_metainfo(json.loads(meta_path.read_text()), str(meta_path))
    try:
        raw = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as err:
        raise InputError(f"{weights}: not a readable state dict ({type(err).__name__})") from None
    state = vae_state(raw)
    model = SemanticVAE(cfg)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise InputError(f"{weights}: does not fit the Semantic-VAE built from {meta_path.name} "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model.eval()
