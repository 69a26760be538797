"""The torchaudio-equivalent sinc resampler against its definition and known properties; scipy FFT."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ttsbench.metrics.resample import fft_resample, sinc_kernel, sinc_resample


def by_definition(x: np.ndarray, orig: int, new: int, width: float = 6, rolloff: float = 0.99) -> np.ndarray:
    """y[j] = sum_i x[i] * k((i / orig - j / new) * base), k(t) = sinc(pi t) cos(pi t / 12)^2 * base / orig,
    |t| <= width, with base = min(orig, new) * rolloff: the published formula, evaluated in float64
    output sample by output sample (no convolution, no padding tricks)."""
    g = math.gcd(orig, new)
    o, n = orig // g, new // g
    base = min(o, n) * rolloff
    out_len = math.ceil(n * len(x) / o)
    y = np.zeros(out_len)
    i = np.arange(len(x))
    for j in range(out_len):
        t = np.clip((i / o - j / n) * base, -width, width)
        k = np.where(t == 0, 1.0, np.sin(np.pi * t) / np.where(t == 0, 1.0, np.pi * t))
        k = k * np.cos(np.pi * t / width / 2) ** 2 * base / o
        y[j] = np.sum(x * k)
    return y


@pytest.mark.parametrize(("orig", "new"), [(24_000, 16_000), (22_050, 16_000), (16_000, 24_000), (44_100, 16_000)])
@pytest.mark.parametrize("mode", ["transforms", "functional"])
def test_sinc_resample_equals_the_defining_sum(orig, new, mode):
    x = np.random.default_rng(0).standard_normal(700).astype(np.float32)
    got = sinc_resample(torch.from_numpy(x)[None], orig, new, mode=mode)[0].numpy()
    want = by_definition(x.astype(np.float64), orig, new)
    assert got.shape == want.shape
    # float32 rounding of the phase j / new (as in torchaudio) shifts t by up to ~1e-7 * base
    assert np.max(np.abs(got - want)) < 1e-4


def test_output_length_and_identity():
    x = torch.randn(2, 1000)
    assert sinc_resample(x, 16_000, 16_000) is x
    assert sinc_resample(x, 24_000, 16_000).shape == (2, math.ceil(1000 * 2 / 3))
    assert sinc_resample(x, 22_050, 16_000).shape[-1] == math.ceil(1000 * 320 / 441)


def test_passband_tone_is_kept_and_aliasing_tone_is_removed():
    sr = 48_000
    t = np.arange(sr) / sr
    low = sinc_resample(torch.tensor(np.sin(2 * np.pi * 1000 * t), dtype=torch.float32)[None], sr, 16_000)[0]
    ref = np.sin(2 * np.pi * 1000 * np.arange(16_000) / 16_000)
    core = slice(200, -200)  # away from the zero-padded edges
    assert np.max(np.abs(low.numpy()[core] - ref[core])) < 0.01
    high = sinc_resample(torch.tensor(np.sin(2 * np.pi * 12_000 * t), dtype=torch.float32)[None], sr, 16_000)[0]
    assert float(high[core].abs().max()) < 0.01  # 12 kHz is above the new Nyquist (8 kHz): filtered out


def test_kernel_modes_differ_only_by_float_rounding():
    k64, w64 = sinc_kernel(22_050, 16_000, "transforms")
    k32, w32 = sinc_kernel(22_050, 16_000, "functional")
    assert w64 == w32 and k64.dtype == k32.dtype == torch.float32 and k64.shape == (320, 1, 2 * w64 + 441)
    assert 0 < float((k64 - k32).abs().max()) < 1e-5
    # each phase's taps sum to ~rolloff-scaled unity gain (DC preserved)
    assert torch.allclose(k64.sum(dim=-1), torch.ones(320, 1), atol=0.02)


def test_fft_resample_is_scipys_with_the_reference_length_rule():
    import scipy.signal

    x = np.random.default_rng(1).standard_normal(24_001)
    y = fft_resample(x, 24_000, 16_000)
    assert len(y) == int(24_001 * 16_000 / 24_000)
    np.testing.assert_array_equal(y, scipy.signal.resample(x, int(len(x) * 16_000 / 24_000)))
    assert fft_resample(x, 16_000, 16_000) is x
