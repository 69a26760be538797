"""One writer per folder: an advisory lock (flock) held while a job writes a run or training folder.

The OS drops the lock when the process dies, so a crash never leaves a stale lock. A second job on
the same folder fails at once with one line naming the holder's pid (exit 2), rather than doubling
every row of an append-only file or racing on a temporary file. Different lock names in one folder
do not exclude each other: a sharded run takes one lock per shard, each writing its own files, and
holds run.lock shared, so that a whole-run job or a merge (run.lock exclusive) waits for no shard
and no shard starts under one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError


@contextlib.contextmanager
def exclusive(folder: Path, name: str = "run.lock", *, what: str = "run", enabled: bool = True,
              shared: bool = False) -> Iterator[None]:
    """Hold `<folder>/<name>` for the duration; another holder is one InputError naming its pid.

    `what` names the job in the message; `enabled=False` holds nothing (e.g. the non-zero ranks of
    one torchrun job, which share the folder with rank 0). `shared=True` takes the lock shared: any
    number of shared holders at once (the shards of one run), none while an exclusive one holds it.
    """
    if not enabled:
        yield
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            pid = fh.read().strip()
            holder = f"pid {pid}" if pid else "the shards of a sharded run"
            raise InputError(f"{folder} is in use by another {what} ({holder}); wait for it to finish, "
                             f"or write elsewhere") from None
        if not shared:  # the exclusive holder names itself; shared holders cannot write the one file
            _write(fh, str(os.getpid()))
        try:
            yield
        finally:
            if not shared:
                _write(fh, "")
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write(fh: Any, text: str) -> None:
    fh.seek(0)
    fh.truncate()
    fh.write(text)
    fh.flush()
