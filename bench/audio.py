"""Audio I/O: read any wav/flac as float32 mono at a chosen rate, write, and check system output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ttsbench.errors import InputError, SynthesisError, first_line
from ttsbench.paths import temp_path


def read_audio(path: str | Path, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read `path` as float32 mono; resample to `sample_rate` with soxr (VHQ) when given.

    Multichannel audio is averaged to mono. A missing or unreadable file raises InputError naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"audio file not found: {path}")
    try:
        wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise InputError(f"cannot read audio {path}: {first_line(err)}") from None
    if wav.shape[0] == 0:
        raise InputError(f"audio file is empty: {path}")
    mono = wav.mean(axis=1) if wav.shape[1] > 1 else wav[:, 0]
    if sample_rate is not None and sr != sample_rate:
        mono, sr = resample(mono, sr, sample_rate), sample_rate
    return np.ascontiguousarray(mono, dtype=np.float32), int(sr)


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr VHQ). Metric recipes that pin another resampler use their own."""
    if orig_sr == target_sr:
        return wav.astype(np.float32, copy=False)

    return soxr.resample(wav.astype(np.float32), orig_sr, target_sr, quality="VHQ").astype(np.float32)


def write_audio(path: str | Path, wav: np.ndarray, sample_rate: int) -> None:
    """Write float32 mono as 16-bit PCM wav, atomically (a crash never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        sf.write(str(tmp), np.clip(wav, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    except (OSError, RuntimeError) as err:  # libsndfile says "System error." for a full or read-only disk
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {first_line(err)} (is the disk full or read-only?)") from None
    tmp.replace(path)


def check_output(wav: object, *, utt_id: str, sample_rate: int, min_seconds: float = 0.05,
                 silence_rms: float = 1e-4) -> np.ndarray:
    """Validate one system output; return it as float32 mono or raise SynthesisError saying why."""
    arr = np.asarray(wav)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise SynthesisError(f"{utt_id}: output has shape {arr.shape}, expected mono (samples,)")
    if arr.size == 0:
        raise SynthesisError(f"{utt_id}: output is empty")
    if not np.isfinite(arr).all():
        raise SynthesisError(f"{utt_id}: output contains NaN or Inf ({int((~np.isfinite(arr)).sum())} samples)")
    if arr.size < min_seconds * sample_rate:
        raise SynthesisError(f"{utt_id}: output is {arr.size / sample_rate:.3f} s long, under {min_seconds} s")
    arr = arr.astype(np.float32, copy=False)
    if float(np.sqrt(np.mean(arr.astype(np.float64) ** 2))) < silence_rms:
        raise SynthesisError(f"{utt_id}: output is silent (RMS < {silence_rms})")
    return arr
