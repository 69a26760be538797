"""Log-mel frames as DiTAR's continuous tokens, with a Griffin-Lim vocoder (no trained weights).

A stand-in for the paper's VAE for small experiments: nothing to train, runs offline, and the
default shape matches the VAE (24 kHz, hop 600 -> 40 Hz, 64 channels), so one DiTAR config runs on
either. `MelConfig.vocos()` gives the F5-TTS / Vocos mel instead (hop 256 -> 93.75 Hz, 100 bins).

Encoding: magnitude STFT (Hann window) -> Slaney-scale, Slaney-normalised mel filterbank (the
librosa default) -> log(max(mel, 1e-5)) -> (log_mel - shift) / scale, so frames are roughly zero
mean and unit variance like a VAE latent (shift/scale measured on LibriVox speech, see MelConfig).

Decoding: undo the affine map and the log, map mel to a linear magnitude with the filterbank's
pseudo-inverse (clamped at 0), then fast Griffin-Lim (Perraudin et al., 2013; momentum 0.99) from a
fixed-seed random phase, so decoding is deterministic. Griffin-Lim audio is intelligible but
phasey: fine for checking that a model learns, not for quality metrics (UTMOS/SIM), which need the
VAE decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ttsbench.errors import InputError
from ttsbench.systems.speech.tokenizer import TOKENIZERS, LatentDist, SpeechTokenizer


@dataclass(frozen=True)
class MelConfig:
    """Log-mel analysis settings. Frame rate = sample_rate / hop_length."""

    sample_rate: int = 24_000
    hop_length: int = 600  # 40 Hz, the VAE's frame rate
    n_fft: int = 2048  # 85 ms window at 24 kHz, ~3.4x overlap: enough for Griffin-Lim
    win_length: int = 2048
    n_mels: int = 64  # = the VAE's latent_dim
    f_min: float = 0.0
    f_max: float = 12_000.0
    shift: float = -5.0  # latent = (log_mel - shift) / scale; log-mel mean on LibriVox speech: -5.2
    scale: float = 3.0  # log-mel std on the same clips: 3.1
    griffin_lim_iters: int = 32
    griffin_lim_momentum: float = 0.99
    griffin_lim_seed: int = 0  # initial phase; fixed so that decode is deterministic

    @classmethod
    def vocos(cls) -> MelConfig:
        """The F5-TTS / Vocos mel: 24 kHz, n_fft 1024, hop 256 (93.75 Hz), 100 bins."""
        return cls(hop_length=256, n_fft=1024, win_length=1024, n_mels=100)


def slaney_mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> Tensor:
    """(n_mels, n_fft // 2 + 1) triangular filters on the Slaney mel scale, area-normalised."""
    def hz_to_mel(f: Tensor) -> Tensor:  # linear below 1 kHz, logarithmic above (Slaney 1998)
        return torch.where(f < 1000.0, 3.0 * f / 200.0, 15.0 + 27.0 * torch.log(f / 1000.0) / math.log(6.4))

    def mel_to_hz(m: Tensor) -> Tensor:
        return torch.where(m < 15.0, 200.0 * m / 3.0, 1000.0 * torch.exp((m - 15.0) * math.log(6.4) / 27.0))

    freqs = torch.linspace(0.0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    edges = mel_to_hz(torch.linspace(float(hz_to_mel(torch.tensor(f_min, dtype=torch.float64))),
                                     float(hz_to_mel(torch.tensor(f_max, dtype=torch.float64))),
                                     n_mels + 2, dtype=torch.float64))
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None] - lower) / (center - lower)
    falling = (upper - freqs[None]) / (upper - center)
    weights = torch.clamp(torch.minimum(rising, falling), min=0.0)
    weights *= (2.0 / (upper - lower))  # Slaney norm: each filter has unit area in Hz
    return weights.float()


@TOKENIZERS.register("mel")
class MelTokenizer(SpeechTokenizer):
    """Log-mel frames (deterministic encoder, `logvar` None) + a Griffin-Lim vocoder."""

    config_class = MelConfig

    def __init__(self, config: MelConfig | None = None) -> None:
        config = config or MelConfig()
        super().__init__(config)
        if config.win_length > config.n_fft or config.f_max > config.sample_rate / 2:
            raise InputError(f"mel tokenizer: need win_length <= n_fft and f_max <= sample_rate/2, got {config}")
        self.sample_rate, self.hop_length, self.latent_dim = config.sample_rate, config.hop_length, config.n_mels
        fb = slaney_mel_filterbank(config.sample_rate, config.n_fft, config.n_mels, config.f_min, config.f_max)
        self.register_buffer("filterbank", fb, persistent=False)  # (M, F)
        self.register_buffer("inverse", torch.linalg.pinv(fb.double()).float(), persistent=False)  # (F, M)
        self.register_buffer("window", torch.hann_window(config.win_length), persistent=False)

    def _stft(self, wav: Tensor) -> Tensor:
        c = self.config
        return torch.stft(wav, c.n_fft, c.hop_length, c.win_length, self.window, center=True,
                          pad_mode="constant", return_complex=True)  # (B, F, T + 1)

    def encode_dist(self, wav: Tensor) -> LatentDist:
        if wav.dim() != 2:
            raise InputError(f"mel tokenizer: expected a (batch, samples) waveform, got shape {tuple(wav.shape)}")
        frames = self.num_frames(wav.shape[-1])
        wav = torch.nn.functional.pad(wav.float(), (0, frames * self.hop_length - wav.shape[-1]))
        mag = self._stft(wav).abs()[..., :frames]  # (B, F, T): drop the frame centred past the end
        mel = torch.einsum("mf,bft->btm", self.filterbank, mag)  # (B, T, M)
        log_mel = torch.log(torch.clamp(mel, min=1e-5))
        return LatentDist((log_mel - self.config.shift) / self.config.scale, None)

    @torch.no_grad()
    def decode(self, latents: Tensor) -> Tensor:
        c = self.config
        log_mel = latents.float() * c.scale + c.shift
        mel = torch.exp(log_mel)  # (B, T, M)
        mag = torch.clamp(torch.einsum("fm,btm->bft", self.inverse, mel), min=0.0)  # (B, F, T)
        return self._griffin_lim(mag, length=latents.shape[1] * c.hop_length)

    def _griffin_lim(self, mag: Tensor, *, length: int) -> Tensor:
        """Fast Griffin-Lim: project onto consistent spectrograms, with momentum on the phase."""
        c = self.config
        gen = torch.Generator().manual_seed(c.griffin_lim_seed)
        phase = torch.rand(mag.shape, generator=gen) * (2 * math.pi)
        angles = torch.polar(torch.ones_like(mag), phase.to(mag.device))
        previous = torch.zeros_like(angles)
        for _ in range(c.griffin_lim_iters):
            wav = torch.istft(mag * angles, c.n_fft, c.hop_length, c.win_length, self.window,
                              center=True, length=length)
            rebuilt = self._stft(wav)[..., : mag.shape[-1]]
            angles = rebuilt - (c.griffin_lim_momentum / (1 + c.griffin_lim_momentum)) * previous
            previous = rebuilt
            angles = angles / torch.clamp(angles.abs(), min=1e-8)
        return torch.istft(mag * angles, c.n_fft, c.hop_length, c.win_length, self.window,
                           center=True, length=length)
