"""UTMOS22 strong learner (SpeechMOS `utmos22_strong`), rebuilt so its checkpoint loads strictly.

Architecture of SpeechMOS v1.2.0's inference model (no phoneme encoder), from its published code:

  wav (B, T) at any rate -> torchaudio-style sinc resample to 16 kHz (functional defaults)
  -> wav2vec 2.0 base: 7 conv layers (512 ch; GroupNorm in the first), LayerNorm, Linear 512->768,
     convolutional position embedding (kernel 128, 16 groups, weight norm on dim 2, last sample
     dropped), LayerNorm, 12 post-LN Transformer layers (12 heads, FFN 3072, GELU); an odd number of
     frames is padded by one masked frame, removed afterwards
  -> concat with a fixed data-domain embedding (128) and judge embedding (128) on every frame
  -> BLSTM (hidden 512 per direction) -> Linear 1024->2048, ReLU, Linear 2048->1
  -> mean over frames x 2 + 3.

State-dict keys are those of `utmos22_strong_step7459_v1.pt` (e.g. `wav2vec2.encoder.pos_conv.0.weight_g`,
`blstm.weight_ih_l0_reverse`, `projection.2.bias`). `UTMOSConfig.tiny()` is for tests only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ttsbench.metrics.resample import sinc_resample

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class UTMOSConfig:
    """Sizes of the UTMOS22 strong learner; the defaults are the released model's."""

    conv_dim: int = 512
    conv_layers: tuple[tuple[int, int], ...] = ((10, 5),) + ((3, 2),) * 4 + ((2, 2),) * 2  # (kernel, stride)
    ssl_dim: int = 768
    ffn_dim: int = 3072
    heads: int = 12
    layers: int = 12
    pos_kernel: int = 128  # even: the conv output's last sample is dropped
    pos_groups: int = 16
    domain_dim: int = 128
    judge_dim: int = 128
    rnn_hidden: int = 512
    proj_hidden: int = 2048

    @classmethod
    def tiny(cls) -> UTMOSConfig:
        """A few-thousand-parameter variant with the same layout (tests only)."""
        return cls(conv_dim=8, conv_layers=((10, 5), (3, 2), (2, 2)), ssl_dim=16, ffn_dim=32, heads=2, layers=2,
                   pos_kernel=8, pos_groups=2, domain_dim=4, judge_dim=4, rnn_hidden=8, proj_hidden=16)


class WeightNormConv1d(nn.Module):
    """Conv1d whose weight is g * v / ||v|| with the norm taken per position of the kernel (dim 2).

    Holds `weight_g`, `weight_v` and `bias` as fairseq's `nn.utils.weight_norm(conv, dim=2)` stores them.
    """

    def __init__(self, channels: int, kernel: int, groups: int) -> None:
        super().__init__()
        self.padding, self.groups = kernel // 2, groups
        self.weight_g = nn.Parameter(torch.ones(1, 1, kernel))
        self.weight_v = nn.Parameter(torch.randn(channels, channels // groups, kernel) * 0.02)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        weight = torch._weight_norm(self.weight_v, self.weight_g, 2)
        return F.conv1d(x, weight, self.bias, padding=self.padding, groups=self.groups)


class DropLast(nn.Module):
    """Drop the last time step: an even-kernel 'same' convolution yields one sample too many."""

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, :-1]


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out projections (fairseq key names)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v_proj, self.out_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x: Tensor, key_padding_mask: Tensor | None) -> Tensor:  # x: (T, B, D)
        return F.multi_head_attention_forward(
            x, x, x, x.shape[-1], self.heads, in_proj_weight=None,
            in_proj_bias=torch.cat((self.q_proj.bias, self.k_proj.bias, self.v_proj.bias)),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
            out_proj_weight=self.out_proj.weight, out_proj_bias=self.out_proj.bias, training=False,
            key_padding_mask=key_padding_mask, need_weights=False, use_separate_proj_weight=True,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight)[0]


class EncoderLayer(nn.Module):
    """Post-LN Transformer layer: x = LN(x + attn(x)); x = LN(x + fc2(gelu(fc1(x))))."""

    def __init__(self, dim: int, ffn: int, heads: int) -> None:
        super().__init__()
        self.self_attn = SelfAttention(dim, heads)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1, self.fc2 = nn.Linear(dim, ffn), nn.Linear(ffn, dim)
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor, key_padding_mask: Tensor | None) -> Tensor:
        x = self.self_attn_layer_norm(x + self.self_attn(x, key_padding_mask))
        return self.final_layer_norm(x + self.fc2(F.gelu(self.fc1(x))))


class Encoder(nn.Module):
    def __init__(self, cfg: UTMOSConfig) -> None:
        super().__init__()
        self.pos_conv = nn.Sequential(WeightNormConv1d(cfg.ssl_dim, cfg.pos_kernel, cfg.pos_groups), DropLast(),
                                      nn.GELU())
        self.layer_norm = nn.LayerNorm(cfg.ssl_dim)
        self.layers = nn.ModuleList(EncoderLayer(cfg.ssl_dim, cfg.ffn_dim, cfg.heads) for _ in range(cfg.layers))

    def forward(self, x: Tensor) -> Tensor:  # (B, T, D)
        x = self.layer_norm(x + self.pos_conv(x.transpose(1, 2)).transpose(1, 2))
        frames = x.shape[1]
        pad = frames % 2  # fairseq pads the sequence to a multiple of 2 and masks the pad
        mask = None
        if pad:
            x = F.pad(x, (0, 0, 0, pad))
            mask = torch.zeros(x.shape[0], x.shape[1], dtype=torch.bool, device=x.device)
            mask[:, -pad:] = True
        h = x.transpose(0, 1)  # (T, B, D)
        for layer in self.layers:
            h = layer(h, mask)
        return h.transpose(0, 1)[:, :frames]


def conv_block(n_in: int, n_out: int, kernel: int, stride: int, group_norm: bool) -> nn.Sequential:
    """Conv (no bias), Dropout(0) placeholder (keeps fairseq's indices), [GroupNorm], GELU."""
    parts: list[nn.Module] = [nn.Conv1d(n_in, n_out, kernel, stride=stride, bias=False), nn.Dropout(0.0)]
    if group_norm:
        parts.append(nn.GroupNorm(n_out, n_out, affine=True))
    return nn.Sequential(*parts, nn.GELU())


class FeatureExtractor(nn.Module):
    def __init__(self, cfg: UTMOSConfig) -> None:
        super().__init__()
        dims = [1] + [cfg.conv_dim] * len(cfg.conv_layers)
        self.conv_layers = nn.ModuleList(
            conv_block(dims[i], dims[i + 1], k, s, group_norm=i == 0) for i, (k, s) in enumerate(cfg.conv_layers))

    def forward(self, wav: Tensor) -> Tensor:  # (B, T) -> (B, C, frames)
        x = wav[:, None]
        for block in self.conv_layers:
            x = block(x)
        return x


class Wav2Vec2(nn.Module):
    def __init__(self, cfg: UTMOSConfig) -> None:
        super().__init__()
        self.feature_extractor = FeatureExtractor(cfg)
        self.layer_norm = nn.LayerNorm(cfg.conv_dim)
        self.post_extract_proj = nn.Linear(cfg.conv_dim, cfg.ssl_dim)
        self.encoder = Encoder(cfg)
        self.mask_emb = nn.Parameter(torch.zeros(cfg.ssl_dim))  # unused at inference; in the checkpoint

    def forward(self, wav: Tensor) -> Tensor:  # (B, T) -> (B, frames, D)
        feats = self.layer_norm(self.feature_extractor(wav).transpose(1, 2))
        return self.encoder(self.post_extract_proj(feats))


class UTMOS22Strong(nn.Module):
    """wave (B, T) at `sr` -> predicted MOS (B,)."""

    def __init__(self, cfg: UTMOSConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or UTMOSConfig()
        self.cfg = cfg
        self.wav2vec2 = Wav2Vec2(cfg)
        self.domain_emb = nn.Parameter(torch.zeros(1, cfg.domain_dim), requires_grad=False)
        self.judge_emb = nn.Parameter(torch.zeros(1, cfg.judge_dim), requires_grad=False)
        self.blstm = nn.LSTM(cfg.ssl_dim + cfg.domain_dim + cfg.judge_dim, cfg.rnn_hidden, batch_first=True,
                             bidirectional=True)
        self.projection = nn.Sequential(nn.Linear(2 * cfg.rnn_hidden, cfg.proj_hidden), nn.ReLU(),
                                        nn.Linear(cfg.proj_hidden, 1))

    def forward(self, wave: Tensor, sr: int) -> Tensor:
        wave = sinc_resample(wave, sr, SAMPLE_RATE, mode="functional")
        units = self.wav2vec2(wave)  # (B, F, D)
        b, frames, _ = units.shape
        cat = torch.cat([units, self.domain_emb[:, None].expand(b, frames, -1),
                         self.judge_emb[:, None].expand(b, frames, -1)], dim=2)
        per_frame = self.projection(self.blstm(cat)[0])  # (B, F, 1)
        return per_frame.mean(dim=1).squeeze(1) * 2 + 3


def min_samples(cfg: UTMOSConfig) -> int:
    """The shortest 16 kHz input that yields one frame."""
    n = 1
    for kernel, stride in reversed(cfg.conv_layers):
        n = (n - 1) * stride + kernel
    return n

