"""The ECAPA-TDNN speaker head of UniSpeech's `ECAPA_TDNN_SMALL`, in the checkpoint's key layout.

Layout (from UniSpeech `downstreams/speaker_verification/models/ecapa_tdnn.py`, the model behind
`wavlm_large_finetune.pth`; feat_dim=1024, channels=512, emb_dim=256):

  features (L+1 hidden states of the SSL model) -> softmax(feature_weight)-weighted sum -> (B, D, T)
  + 1e-6 -> InstanceNorm1d(D) (no affine, no running stats)
  layer1: Conv1d(D, C, 5, pad 2) -> ReLU -> BN
  layer2..4: SE-Res2Blocks (kernel 3, dilation 2 / 3 / 4, scale 8, SE bottleneck 128):
      1x1 conv-ReLU-BN, Res2 (7 branch convs, each conv-ReLU-BN, cumulative), 1x1 conv-ReLU-BN,
      squeeze-excitation, + residual
  conv: Conv1d(3C, 1536, 1) over [layer2, layer3, layer4] -> ReLU
  pooling: attentive statistics (Conv1d 1536->128, tanh, Conv1d 128->1536, softmax over time):
      weighted mean and sqrt(clamp(weighted E[x^2] - mean^2, 1e-9))
  bn: BatchNorm1d(3072) -> linear: 3072 -> emb_dim

Attribute names equal the checkpoint's keys (`layer2.Res2Conv1dReluBn.convs.0.weight`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class ECAPAConfig:
    """Sizes of the head; the defaults are ECAPA_TDNN_SMALL's as seed-tts-eval builds it for WavLM-large."""

    feat_dim: int = 1024  # width of the SSL hidden states
    feat_num: int = 25  # number of hidden states weighted (WavLM-large: 24 layers + its input)
    channels: int = 512
    emb_dim: int = 256
    cat_channels: int = 1536  # fixed in upstream, whatever `channels` is
    attention_channels: int = 128
    se_bottleneck: int = 128
    scale: int = 8

    @classmethod
    def tiny(cls) -> ECAPAConfig:
        """A few-thousand-parameter head with the same layout (tests only); feat_* come from the SSL model."""
        return cls(feat_dim=32, feat_num=3, channels=16, emb_dim=8, cat_channels=24, attention_channels=8,
                   se_bottleneck=8, scale=8)


class Conv1dReluBn(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int = 1, padding: int = 0, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, padding=padding, dilation=dilation)
        self.bn = nn.BatchNorm1d(c_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(F.relu(self.conv(x)))


class Res2Conv1dReluBn(nn.Module):
    """Res2Net block: split channels into `scale` groups; every group but the last gets a conv."""

    def __init__(self, channels: int, kernel: int, padding: int, dilation: int, scale: int) -> None:
        super().__init__()
        if channels % scale:
            raise ValueError(f"channels {channels} not divisible by scale {scale}")
        self.width = channels // scale
        self.branches = scale - 1 if scale > 1 else 1
        self.keep_last = scale > 1
        self.convs = nn.ModuleList(nn.Conv1d(self.width, self.width, kernel, padding=padding, dilation=dilation)
                                   for _ in range(self.branches))
        self.bns = nn.ModuleList(nn.BatchNorm1d(self.width) for _ in range(self.branches))

    def forward(self, x: Tensor) -> Tensor:
        pieces = torch.split(x, self.width, dim=1)
        out, running = [], None
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            running = pieces[i] if i == 0 else running + pieces[i]
            running = bn(F.relu(conv(running)))  # conv -> ReLU -> BN, as upstream orders it
            out.append(running)
        if self.keep_last:
            out.append(pieces[self.branches])
        return torch.cat(out, dim=1)


class SEConnect(nn.Module):
    def __init__(self, channels: int, bottleneck: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(channels, bottleneck)
        self.linear2 = nn.Linear(bottleneck, channels)

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.linear2(F.relu(self.linear1(x.mean(dim=2)))))
        return x * gate[:, :, None]


class SERes2Block(nn.Module):
    def __init__(self, channels: int, kernel: int, padding: int, dilation: int, scale: int, bottleneck: int) -> None:
        super().__init__()
        self.Conv1dReluBn1 = Conv1dReluBn(channels, channels)
        self.Res2Conv1dReluBn = Res2Conv1dReluBn(channels, kernel, padding, dilation, scale)
        self.Conv1dReluBn2 = Conv1dReluBn(channels, channels)
        self.SE_Connect = SEConnect(channels, bottleneck)

    def forward(self, x: Tensor) -> Tensor:
        y = self.Conv1dReluBn2(self.Res2Conv1dReluBn(self.Conv1dReluBn1(x)))
        return self.SE_Connect(y) + x


class AttentiveStatsPool(nn.Module):
    def __init__(self, dim: int, attention: int) -> None:
        super().__init__()
        self.linear1 = nn.Conv1d(dim, attention, kernel_size=1)
        self.linear2 = nn.Conv1d(attention, dim, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:  # (B, C, T) -> (B, 2C)
        alpha = torch.softmax(self.linear2(torch.tanh(self.linear1(x))), dim=2)
        mean = torch.sum(alpha * x, dim=2)
        var = torch.sum(alpha * x**2, dim=2) - mean**2
        return torch.cat([mean, torch.sqrt(var.clamp(min=1e-9))], dim=1)


class ECAPAHead(nn.Module):
    """Hidden states (feat_num, B, T, feat_dim) -> speaker embedding (B, emb_dim)."""

    def __init__(self, cfg: ECAPAConfig) -> None:
        super().__init__()
        c = cfg.channels
        self.feature_weight = nn.Parameter(torch.zeros(cfg.feat_num))
        self.instance_norm = nn.InstanceNorm1d(cfg.feat_dim)
        self.layer1 = Conv1dReluBn(cfg.feat_dim, c, kernel=5, padding=2)
        self.layer2 = SERes2Block(c, 3, padding=2, dilation=2, scale=cfg.scale, bottleneck=cfg.se_bottleneck)
        self.layer3 = SERes2Block(c, 3, padding=3, dilation=3, scale=cfg.scale, bottleneck=cfg.se_bottleneck)
        self.layer4 = SERes2Block(c, 3, padding=4, dilation=4, scale=cfg.scale, bottleneck=cfg.se_bottleneck)
        self.conv = nn.Conv1d(3 * c, cfg.cat_channels, kernel_size=1)
        self.pooling = AttentiveStatsPool(cfg.cat_channels, cfg.attention_channels)
        self.bn = nn.BatchNorm1d(2 * cfg.cat_channels)
        self.linear = nn.Linear(2 * cfg.cat_channels, cfg.emb_dim)

    def forward(self, hidden: Tensor) -> Tensor:
        weights = torch.softmax(self.feature_weight, dim=-1)[:, None, None, None]
        x = (weights * hidden).sum(dim=0).transpose(1, 2) + 1e-6  # (B, D, T)
        x = self.instance_norm(x)
        out1 = self.layer1(x)
        out2 = self.layer2(out1)
        out3 = self.layer3(out2)
        out4 = self.layer4(out3)
        x = F.relu(self.conv(torch.cat([out2, out3, out4], dim=1)))
        return self.linear(self.bn(self.pooling(x)))
