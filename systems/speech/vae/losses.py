"""VAE training losses: multi-resolution mel / STFT L1, KL, least-squares GAN, feature matching.

All losses are computed in float32 (STFTs do not run in bf16) and averaged over elements, so their
scale does not depend on the batch or segment length.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ttsbench.systems.speech.mel import slaney_mel_filterbank
from ttsbench.systems.speech.tokenizer import LatentDist
from ttsbench.systems.speech.vae.config import VAELossConfig


class MultiResolutionSpectralLoss(nn.Module):
    """Sum over window sizes of L1(log10 mel) and, optionally, L1(log10 |STFT|); hop = window / 4."""

    def __init__(self, cfg: VAELossConfig, sample_rate: int) -> None:
        super().__init__()
        self.windows, self.stft_weight = cfg.mel_windows, cfg.stft_weight
        for win, bins in zip(cfg.mel_windows, cfg.mel_bins):
            fb = slaney_mel_filterbank(sample_rate, win, bins, 0.0, sample_rate / 2)
            self.register_buffer(f"fb{win}", fb, persistent=False)
            self.register_buffer(f"hann{win}", torch.hann_window(win), persistent=False)

    def forward(self, fake: Tensor, real: Tensor) -> tuple[Tensor, Tensor]:
        """(mel L1, STFT L1), each summed over resolutions. fake and real: (B, S)."""
        mel_loss = fake.new_zeros((), dtype=torch.float32)
        stft_loss = fake.new_zeros((), dtype=torch.float32)
        for win in self.windows:
            spec = [torch.stft(x.float(), win, win // 4, win, getattr(self, f"hann{win}"), center=True,
                               return_complex=True).abs() for x in (fake, real)]  # (B, F, frames)
            fb = getattr(self, f"fb{win}")
            mels = [torch.log10(torch.clamp(torch.einsum("mf,bft->bmt", fb, s), min=1e-5)) for s in spec]
            mel_loss = mel_loss + (mels[0] - mels[1]).abs().mean()
            if self.stft_weight:
                logs = [torch.log10(torch.clamp(s, min=1e-5)) for s in spec]
                stft_loss = stft_loss + (logs[0] - logs[1]).abs().mean()
        return mel_loss, stft_loss


def kl_divergence(dist: LatentDist) -> Tensor:
    """KL(q(z|x) || N(0, I)), averaged over latent elements."""
    mean, logvar = dist.mean.float(), dist.logvar.float()
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).mean()


def discriminator_loss(real_scores: list[Tensor], fake_scores: list[Tensor]) -> Tensor:
    """Least-squares GAN (HiFi-GAN): push D(real) to 1 and D(fake) to 0, summed over sub-discriminators."""
    return sum(((1 - r.float()) ** 2).mean() + (f.float() ** 2).mean() for r, f in zip(real_scores, fake_scores))


def generator_adv_loss(fake_scores: list[Tensor]) -> Tensor:
    """Least-squares GAN generator term: push D(fake) to 1."""
    return sum(((1 - f.float()) ** 2).mean() for f in fake_scores)


def feature_matching_loss(real_feats: list[list[Tensor]], fake_feats: list[list[Tensor]]) -> Tensor:
    """L1 between discriminator features of real and fake audio, summed over layers (HiFi-GAN)."""
    return sum((r.detach().float() - f.float()).abs().mean()
               for rs, fs in zip(real_feats, fake_feats) for r, f in zip(rs, fs))
