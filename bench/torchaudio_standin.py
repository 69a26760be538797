"""A minimal torchaudio stand-in, for tests only (and workers), where the real one cannot import.

PyPI's torchaudio does not import next to the CPU torch these machines use (`libc10_cuda.so`
missing), yet F5-TTS and Vocos import it at module level. `install()` puts this stand-in into
`sys.modules` only when `import torchaudio` fails, so the upstream's own model code can run on tiny
random weights. It covers what their inference path calls: load/save (soundfile), functional.resample
and transforms.Resample (torchaudio's sinc kernel, `ttsbench.metrics.resample`), and
transforms.MelSpectrogram/Spectrogram (torch.stft with HTK triangular filters, norm None). Never used
by an adapter itself: a user's machine runs the real torchaudio.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any

import numpy as np
import soundfile as sf
import torch

from ttsbench.metrics.resample import sinc_resample


def load(path: Any, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, int]:
    wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return torch.from_numpy(np.ascontiguousarray(wav.T)), int(sr)


def save(path: Any, wav: torch.Tensor, sample_rate: int, *args: Any, **kwargs: Any) -> None:
    sf.write(str(path), wav.detach().cpu().numpy().reshape(wav.shape[0] if wav.ndim > 1 else 1, -1).T,
             int(sample_rate), subtype="FLOAT")


def resample(wav: torch.Tensor, orig_freq: int, new_freq: int, *args: Any, **kwargs: Any) -> torch.Tensor:
    return sinc_resample(wav, int(orig_freq), int(new_freq), mode="functional")


def _hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    if mel_scale != "htk":
        raise NotImplementedError("the torchaudio stand-in has the HTK mel scale only")
    return 2595.0 * float(np.log10(1.0 + freq / 700.0))


def _mel_to_hz(mels: torch.Tensor, mel_scale: str = "htk") -> torch.Tensor:
    if mel_scale != "htk":
        raise NotImplementedError("the torchaudio stand-in has the HTK mel scale only")
    return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)


class Resample(torch.nn.Module):
    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.orig, self.new = int(orig_freq), int(new_freq)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return sinc_resample(wav, self.orig, self.new, mode="transforms")


def _htk_filters(sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> torch.Tensor:
    """(n_freqs, n_mels) triangular filters on the HTK mel scale, unnormalised (torchaudio's default)."""
    freqs = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    mel = lambda f: 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)  # noqa: E731
    pts = 700.0 * (10 ** (np.linspace(mel(f_min), mel(f_max), n_mels + 2) / 2595.0) - 1.0)
    diff = np.diff(pts)
    slopes = pts[None, :] - freqs[:, None]
    down, up = -slopes[:, :-2] / diff[:-1], slopes[:, 2:] / diff[1:]
    return torch.from_numpy(np.maximum(0.0, np.minimum(down, up))).float()


class Spectrogram(torch.nn.Module):
    def __init__(self, n_fft: int = 400, win_length: int | None = None, hop_length: int | None = None,
                 pad: int = 0, power: float | None = 2.0, center: bool = True, pad_mode: str = "reflect",
                 **kwargs: Any) -> None:
        super().__init__()
        self.n_fft, self.win = n_fft, win_length or n_fft
        self.hop, self.power, self.center, self.pad_mode = hop_length or self.win // 2, power, center, pad_mode
        self.register_buffer("window", torch.hann_window(self.win))

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        shape = wav.shape
        spec = torch.stft(wav.reshape(-1, shape[-1]), self.n_fft, self.hop, self.win, self.window.to(wav.device),
                          center=self.center, pad_mode=self.pad_mode, return_complex=True)
        spec = spec.abs() if self.power is None else spec.abs().pow(self.power)
        return spec.reshape(*shape[:-1], *spec.shape[-2:])


class MelSpectrogram(torch.nn.Module):
    def __init__(self, sample_rate: int = 16000, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, f_min: float = 0.0, f_max: float | None = None,
                 n_mels: int = 128, power: float = 2.0, center: bool = True, pad_mode: str = "reflect",
                 **kwargs: Any) -> None:
        super().__init__()
        self.spectrogram = Spectrogram(n_fft, win_length, hop_length, power=power, center=center,
                                       pad_mode=pad_mode)
        self.register_buffer("fb", _htk_filters(sample_rate, n_fft, n_mels, f_min, f_max or sample_rate / 2))

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        spec = self.spectrogram(wav)
        return torch.matmul(spec.transpose(-1, -2), self.fb.to(spec.device)).transpose(-1, -2)


def build() -> types.ModuleType:
    """The stand-in as a module tree: torchaudio, torchaudio.functional, torchaudio.transforms."""
    root = types.ModuleType("torchaudio")
    root.__doc__ = "ttsbench's test stand-in for torchaudio (ttsbench.torchaudio_standin)"
    functional = types.ModuleType("torchaudio.functional")
    functional.resample = resample  # type: ignore[attr-defined]
    functional.__path__ = []  # a package, so torchaudio.functional.functional imports (vocos.heads)
    inner = types.ModuleType("torchaudio.functional.functional")
    inner._hz_to_mel, inner._mel_to_hz, inner.resample = _hz_to_mel, _mel_to_hz, resample  # type: ignore[attr-defined]
    functional.functional = inner  # type: ignore[attr-defined]
    transforms = types.ModuleType("torchaudio.transforms")
    for cls in (Resample, Spectrogram, MelSpectrogram):
        setattr(transforms, cls.__name__, cls)
    root.load, root.save, root.functional, root.transforms = load, save, functional, transforms  # type: ignore[attr-defined]
    root.__version__ = "0.0-ttsbench-standin"  # type: ignore[attr-defined]
    for module in (root, functional, inner, transforms):  # importlib.util.find_spec (transformers) needs one
        module.__spec__ = importlib.machinery.ModuleSpec(module.__name__, None)
    return root


def install() -> bool:
    """Put the stand-in into sys.modules when the real torchaudio cannot import; True if it did."""
    try:
        # lazy: probing whether the real library imports is the point of this function
        import torchaudio  # noqa: F401
        return False
    except (ImportError, OSError):
        pass
    root = build()
    sys.modules.update({"torchaudio": root, "torchaudio.functional": root.functional,
                        "torchaudio.functional.functional": root.functional.functional,
                        "torchaudio.transforms": root.transforms})
    return True
