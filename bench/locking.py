"""One writer per folder: an advisory lock (flock) held while a job writes a run or training folder.

The OS drops the lock when the process dies, so a crash never leaves a stale lock. A second job on
the same folder fails at once with one line naming the holder's pid (exit 2), rather than doubling
every row of an append-only file or racing on a temporary file. Different lock names in one folder
do not exclude each other: a sharded run takes one lock per shard, each writing its own files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ttsbench.errors import InputError


@contextlib.contextmanager
def exclusive(folder: Path, name: str = "run.lock", *, what: str = "run", enabled: bool = True) -> Iterator[None]:
    """Hold `<folder>/<name>` for the duration; another holder is one InputError naming its pid.

    `what` names the job in the message; `enabled=False` holds nothing (e.g. the non-zero ranks of
    one torchrun job, which share the folder with rank 0).
    """
    if not enabled:
        yield
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise InputError(f"{folder} is in use by another {what} (pid {holder}); wait for it to finish, "
                             f"or write elsewhere") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
