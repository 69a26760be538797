"""Audio reading converts (stereo, 44.1 kHz) rather than rejecting; output checks name the problem."""

from __future__ import annotations

import numpy as np
import pytest

from ttsbench.audio import check_output, read_audio, write_audio
from ttsbench.errors import InputError, SynthesisError


def test_stereo_44k_prompt_is_converted(make_wav):
    path = make_wav("st.wav", seconds=1.0, sr=44_100, channels=2, freq=440.0)
    wav, sr = read_audio(path, 16_000)
    assert sr == 16_000 and wav.ndim == 1 and wav.dtype == np.float32
    assert abs(len(wav) - 16_000) <= 1
    spectrum = np.abs(np.fft.rfft(wav))
    assert abs(np.argmax(spectrum) * 16_000 / len(wav) - 440.0) < 2.0  # the tone survives resampling


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_audio(tmp_path / "none.wav")
    (tmp_path / "bad.wav").write_bytes(b"garbage")
    with pytest.raises(InputError, match="cannot read audio"):
        read_audio(tmp_path / "bad.wav")


@pytest.mark.parametrize("wav, reason", [
    (np.zeros(0, np.float32), "empty"),
    (np.full(16_000, np.nan, np.float32), "NaN"),
    (np.zeros(16_000, np.float32), "silent"),
    (np.ones((2, 100), np.float32), "expected mono"),
    (0.1 * np.ones(10, np.float32), "under"),
])
def test_check_output_rejects_bad_audio(wav, reason):
    with pytest.raises(SynthesisError, match=reason):
        check_output(wav, utt_id="u1", sample_rate=16_000)


def test_write_then_read_round_trip(tmp_path):
    wav = (0.5 * np.sin(np.linspace(0, 100, 8000))).astype(np.float32)
    write_audio(tmp_path / "o.wav", wav, 8000)
    back, sr = read_audio(tmp_path / "o.wav")
    assert sr == 8000 and np.allclose(back, wav, atol=1e-4)
