"""Where a report page finds its audio: relative links into the run directories, or copies.

Without copying, each player links to the file where it lies (the run's `wavs/`, the prompt set's
audio) by a path relative to the report folder, so the folder works from `file://` and from a
static server whose root holds both. With `--copy-audio`, every file a page plays is copied into
`audio/` inside the report folder, so the folder can be zipped and shared:

    copy   the file as it is
    wav    16-bit PCM WAV (plays in every browser; a file already in that format is copied)
    flac   16-bit FLAC (smaller)

Copies are named by what they are, never by a raw name from a run or prompt set: an output is
`audio/<run_id>/<utt_id>.<ext>` (both plain names, encoded where not), and prompt and ground-truth
files `audio/<kind>/<hash of the source path>-<stem>.<ext>`, so files that share a name never meet.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import soundfile as sf

from ttsbench.errors import InputError
from ttsbench.paths import path_component

COPY_MODES = ("copy", "wav", "flac")


class AudioLinks:
    """Hrefs for a report folder's players: `href(path, folder, name)`; copies under `audio/` when
    `copy` is one of COPY_MODES."""

    def __init__(self, out: Path, copy: str | None = None) -> None:
        if copy is not None and copy not in COPY_MODES:
            raise InputError(f"--copy-audio {copy!r}; one of {', '.join(COPY_MODES)}")
        self.out, self.copy = out, copy
        self._done: dict[Path, str] = {}
        self.problems: list[str] = []  # one line per file a player could not get

    def href(self, path: Path | None, folder: str, name: str | None = None) -> str | None:
        """The link to `path` from a page in the report folder; None when there is no such file.

        `folder` and `name` name the copy (`audio/<folder>/<name>.<ext>`); without `name` the copy is
        named by a hash of the source path and its stem.
        """
        if path is None:
            return None
        if not path.is_file():
            self.problems.append(f"missing audio: {path}")
            return None
        source = path.resolve()
        if source in self._done:
            return self._done[source]
        if self.copy is None:
            link = _relative_url(source, self.out.resolve())
        else:
            stem = name or f"{hashlib.sha256(str(source).encode('utf-8', 'surrogatepass')).hexdigest()[:10]}-{source.stem}"
            target = self.out / "audio" / path_component(folder, "folder", encode=True) / \
                path_component(stem, "file", encode=True)
            try:
                target = _write(source, target, self.copy)
            except OSError as err:
                self.problems.append(f"cannot copy {path}: {err}")
                return None
            link = _relative_url(target.resolve(), self.out.resolve())
        self._done[source] = link
        return link


def _relative_url(path: Path, base: Path) -> str:
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive (Windows): no relative path exists
        return path.as_uri()
    return "/".join(quote(part) for part in Path(rel).as_posix().split("/"))


def _write(source: Path, target: Path, mode: str) -> Path:
    """Copy or convert `source` to `target` + the mode's suffix; returns the file written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "copy":
        out = target.with_name(target.name + source.suffix.lower())
        shutil.copyfile(source, out)
        return out
    fmt, suffix = ("WAV", ".wav") if mode == "wav" else ("FLAC", ".flac")
    out = target.with_name(target.name + suffix)
    try:
        info = sf.info(str(source))
        if info.format == fmt and info.subtype == "PCM_16":
            shutil.copyfile(source, out)
            return out
        data, rate = sf.read(str(source), dtype="float32", always_2d=False)
    except RuntimeError as err:  # soundfile's LibsndfileError: not audio it can read
        raise OSError(f"not readable audio ({err})") from None
    sf.write(str(out), data.clip(-1.0, 1.0), rate, subtype="PCM_16", format=fmt)
    return out
