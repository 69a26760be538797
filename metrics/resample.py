"""The resamplers the reference scorers use, so that our recipes feed their models the same samples.

- `fft_resample`: seed-tts-eval WER (`scipy.signal.resample(wav, int(len(wav) * 16000 / sr))`).
- `sinc_resample`: torchaudio's band-limited sinc interpolation with its defaults (Hann-windowed sinc,
  lowpass_filter_width = 6, rolloff = 0.99), used by the SIM scorers (`transforms.Resample`) and
  SpeechMOS UTMOS (`functional.resample`). torchaudio cannot be installed beside CPU torch 2.13
  here, so the kernel is rebuilt in our code from its published definition:

      base = min(orig, new) / gcd * rolloff;  width = ceil(6 * orig / base)
      t = (-j / new + i / orig) * base, clamped to [-6, 6], i in [-width, width + orig), j in [0, new)
      kernel[j, i] = sinc(pi t) * cos(pi t / 12)^2 * base / orig
      y = conv1d(pad(x, (width, width + orig)), kernel, stride=orig), cut to ceil(new * len / orig)

  Precision follows the caller being reproduced: `transforms.Resample` builds the kernel in float64
  (with the j / new term computed in float32, as torchaudio's integer arange divides into the default
  dtype) and stores it as float32; `functional.resample` builds it in the waveform's dtype.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

LOWPASS_FILTER_WIDTH = 6
ROLLOFF = 0.99


def fft_resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """seed-tts-eval's resampling: scipy's FFT method to int(len * target / orig) samples (float64 in)."""
    if orig_sr == target_sr:
        return wav
    # lazy: scipy.signal takes ~1 s to import; only the recipes that pin its resampler need it
    import scipy.signal

    return scipy.signal.resample(wav, int(len(wav) * target_sr / orig_sr))


@lru_cache(maxsize=16)
def sinc_kernel(orig_sr: int, new_sr: int, mode: str = "transforms") -> tuple[torch.Tensor, int]:
    """torchaudio's Hann-window sinc kernel, shape (new / gcd, 1, 2 * width + orig / gcd), and width.

    mode "transforms": as `torchaudio.transforms.Resample()` (float64 build, float32 result);
    mode "functional": as `torchaudio.functional.resample` on a float32 waveform (float32 build).
    """
    if mode not in ("transforms", "functional"):
        raise ValueError(f"unknown sinc kernel mode {mode!r}")
    gcd = math.gcd(int(orig_sr), int(new_sr))
    orig, new = int(orig_sr) // gcd, int(new_sr) // gcd
    base = min(orig, new) * ROLLOFF
    width = math.ceil(LOWPASS_FILTER_WIDTH * orig / base)
    if mode == "transforms":
        idx = torch.arange(-width, width + orig, dtype=torch.float64)[None, None] / orig
        phase = torch.arange(0, -new, -1)[:, None, None] / new  # int / int -> float32, as upstream
    else:
        idx = torch.arange(-width, width + orig, dtype=torch.float32)[None, None] / orig
        phase = torch.arange(0, -new, -1, dtype=torch.float32)[:, None, None] / new
    t = (phase + idx) * base
    t = t.clamp_(-LOWPASS_FILTER_WIDTH, LOWPASS_FILTER_WIDTH)
    window = torch.cos(t * math.pi / LOWPASS_FILTER_WIDTH / 2) ** 2
    t = t * math.pi
    kernel = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t)
    kernel = kernel * (window * (base / orig))
    return kernel.to(torch.float32), width


def sinc_resample(wav: torch.Tensor, orig_sr: int, new_sr: int, mode: str = "transforms") -> torch.Tensor:
    """Resample the last axis of a float32 tensor exactly as torchaudio does (see module docstring)."""
    if orig_sr == new_sr:
        return wav
    if not wav.is_floating_point():
        raise TypeError(f"expected a floating point waveform, got {wav.dtype}")
    kernel, width = sinc_kernel(int(orig_sr), int(new_sr), mode)
    gcd = math.gcd(int(orig_sr), int(new_sr))
    orig, new = int(orig_sr) // gcd, int(new_sr) // gcd
    shape = wav.shape
    flat = wav.reshape(-1, shape[-1])
    length = flat.shape[-1]
    padded = torch.nn.functional.pad(flat, (width, width + orig))
    out = torch.nn.functional.conv1d(padded[:, None], kernel.to(flat.device, flat.dtype), stride=orig)
    out = out.transpose(1, 2).reshape(flat.shape[0], -1)
    target = int(torch.ceil(torch.as_tensor(new * length / orig)))  # float32 ceil, as upstream
    out = out[..., :target]
    return out.reshape(*shape[:-1], out.shape[-1])
