"""Reading one training utterance's audio: a whole file, a segment of a long file, or a tar member.

- A plain entry reads `wav` whole (`ttsbench.audio.read_audio`).
- `start` / `duration` (LibriHeavy cuts: segments of LibriLight chapter recordings) read only
  those samples (soundfile seeks; nothing else of the long file is decoded).
- `member` (Emilia shards) reads the member of the tar archive `wav` straight from the archive:
  nothing is extracted to disk. An uncompressed `.tar` is opened seekable (tarfile reads headers
  and skips member data, so finding a member costs a header scan, not a read of the audio); a
  compressed `.tar.gz` is decompressed sequentially. The archive stays open for the next entries
  of the same cache shard and is closed with `close()`.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from ttsbench.audio import read_audio, resample
from ttsbench.errors import InputError, first_line


class AudioSource:
    """Reads ManifestEntry audio as float32 mono at a sample rate; keeps one tar archive open."""

    def __init__(self) -> None:
        self._tar: tarfile.TarFile | None = None
        self._tar_path: Path | None = None

    def read(self, entry: Any, sample_rate: int) -> np.ndarray:
        if entry.member:
            data = self._member_bytes(Path(entry.wav), entry.member)
            wav, sr = _decode(io.BytesIO(data), f"{entry.wav}:{entry.member}", entry.start, entry.duration)
        elif entry.start or entry.duration:
            if not Path(entry.wav).is_file():
                raise InputError(f"audio file not found: {entry.wav}")
            wav, sr = _decode(str(entry.wav), str(entry.wav), entry.start, entry.duration)
        else:
            return read_audio(entry.wav, sample_rate)[0]
        return resample(wav, sr, sample_rate) if sr != sample_rate else wav

    def _member_bytes(self, archive: Path, member: str) -> bytes:
        if self._tar_path != archive:
            self.close()
            if not archive.is_file():
                raise InputError(f"tar shard not found: {archive}")
            try:
                self._tar = tarfile.open(archive, "r:*")
            except (tarfile.TarError, OSError) as err:
                raise InputError(f"cannot open tar shard {archive}: {first_line(err)}") from None
            self._tar_path = archive
        assert self._tar is not None
        try:
            handle = self._tar.extractfile(member)
        except KeyError:
            handle = None
        if handle is None:
            raise InputError(f"{archive}: no member {member!r}")
        return handle.read()

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()
        self._tar, self._tar_path = None, None


def _decode(source: Any, name: str, start: float, duration: float) -> tuple[np.ndarray, int]:
    """float32 mono samples [start, start + duration) of a soundfile-readable source."""
    try:
        with sf.SoundFile(source) as fh:
            sr = int(fh.samplerate)
            first = int(round(start * sr))
            count = int(round(duration * sr)) if duration > 0 else -1
            if first:
                fh.seek(first)
            wav = fh.read(frames=count, dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise InputError(f"cannot read audio {name}: {first_line(err)}") from None
    if wav.shape[0] == 0:
        raise InputError(f"no audio in {name} at {start:.3f} s (+{duration:.3f} s)")
    mono = wav.mean(axis=1) if wav.shape[1] > 1 else wav[:, 0]
    return np.ascontiguousarray(mono, dtype=np.float32), sr
