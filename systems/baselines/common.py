"""What every baseline adapter shares: declared weight files, the hub's offline switches, item seeds.

A baseline's weights live in one directory, `checkpoint=DIR` or `<cache_dir>/<name>/`, laid out as
the hub repositories are (`hf download REPO FILES --local-dir DIR/SUBDIR` fills it). Every declared
file is checked before the upstream package is imported, so a missing one is one line naming the
file, its hub repository and the command that fetches it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ttsbench.errors import MissingDependencyError, MissingModelError, SynthesisError, first_line
from ttsbench.types import LoadContext, SystemSpec

# The switches the hub libraries read (huggingface_hub, transformers, datasets, modelscope).
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1"}


@dataclass(frozen=True)
class HubFiles:
    """Files of one hub repository, kept under `<weights dir>/<subdir>` with the repository's layout.

    files: paths inside the repository that must exist (a path ending in "/" is a folder that must
    exist and be non-empty). whole: the download command fetches the whole repository.
    """

    repo: str
    files: tuple[str, ...]
    subdir: str = ""
    whole: bool = False

    def local(self, root: Path, file: str) -> Path:
        return root / self.subdir / file.rstrip("/")

    def command(self, root: Path) -> str:
        """The download command; the whole repository when the file list would make a long line."""
        wanted = " ".join(f.rstrip("/") + ("/*" if f.endswith("/") else "") for f in self.files)
        listed = not self.whole and len(wanted) <= 60
        return f"hf download {self.repo}{' ' + wanted if listed else ''} --local-dir {root / self.subdir}"


def weights_dir(name: str, spec: SystemSpec, ctx: LoadContext) -> Path | None:
    """`checkpoint=DIR`, else `<cache_dir>/<name>/`, else None (neither given)."""
    if spec.checkpoint is not None:
        return Path(spec.checkpoint).expanduser()
    return None if ctx.cache_dir is None else Path(ctx.cache_dir) / name


def missing_file(root: Path, groups: Sequence[HubFiles]) -> tuple[HubFiles, str] | None:
    """The first declared file that is absent (or an empty folder), with its repository."""
    for group in groups:
        for file in group.files:
            path = group.local(root, file)
            present = path.is_dir() and any(path.iterdir()) if file.endswith("/") else path.is_file()
            if not present:
                return group, file
    return None


def require_weights(name: str, root: Path | None, groups: Sequence[HubFiles], *,
                    allow_download: bool = False) -> Path:
    """The weights directory with every declared file present; fetch the missing groups only when
    `allow_download`, else one MissingModelError line (file, hub repository, download command)."""
    shown = root if root is not None else Path("<cache_dir>") / name
    gap = missing_file(shown, groups) if root is not None else (groups[0], groups[0].files[0])
    if gap is not None and allow_download and root is not None:
        download(root, groups)
        gap = missing_file(root, groups)
    if gap is None:
        return shown
    group, file = gap
    where = "" if root is not None else " (no checkpoint=DIR, --cache-dir or $TTSBENCH_CACHE)"
    raise MissingModelError(
        f"{name}: missing weight file {Path(group.subdir) / file} (hub {group.repo}) in {shown}{where}; "
        f"get it with: {group.command(shown)}")


def download(root: Path, groups: Sequence[HubFiles]) -> None:
    """Fetch the groups that miss a file (only under --allow-download)."""
    try:
        # lazy: huggingface_hub is optional and only needed under --allow-download
        from huggingface_hub import snapshot_download
    except ImportError:
        raise MissingDependencyError(
            "--allow-download needs huggingface_hub: pip install \"ttsbench[hf]\"") from None
    for group in groups:
        if missing_file(root, [group]) is None:
            continue
        patterns = None if group.whole else [f + "*" if f.endswith("/") else f for f in group.files]
        try:
            snapshot_download(group.repo, allow_patterns=patterns, local_dir=str(root / group.subdir))
        except Exception as err:  # the hub raises many types (HTTP, offline, auth)
            raise MissingModelError(f"downloading {group.repo} into {root / group.subdir} failed: "
                                    f"{first_line(err)}") from None


def hub_env(allow_download: bool, home: Path | None = None) -> dict[str, str]:
    """Environment for code that may reach the hub: offline unless downloads are allowed; HF_HOME
    points into the weights directory so helper models resolve from local copies."""
    env = {} if allow_download else dict(OFFLINE_ENV)
    if home is not None:
        env["HF_HOME"] = str(home)
    return env


def set_hub_env(env: Mapping[str, str]) -> None:
    """Apply `hub_env` in this process (called from `load()`, never at import)."""
    os.environ.update(env)


def item_seed(seed: int, utt_id: str) -> int:
    """A 31-bit seed from (seed, utterance), fit for torch, numpy's legacy RNG and `random`; the
    same digest as `ttsbench.systems.base.item_rng`, so batching and resuming never change audio."""
    digest = hashlib.sha256(f"{seed}:{utt_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % (2**31 - 1)


def mono_float32(wav: object, what: str) -> np.ndarray:
    """An upstream's output as float32 mono (int16 PCM scaled to [-1, 1); (1, T) or (T, 1) squeezed)."""
    arr = np.asarray(wav)
    if arr.dtype == np.int16:
        arr = arr.astype(np.float32) / 32768.0
    arr = np.squeeze(arr)
    if arr.ndim != 1:
        raise SynthesisError(f"{what}: expected mono audio, got shape {tuple(np.shape(wav))}")
    return np.ascontiguousarray(arr, dtype=np.float32)
