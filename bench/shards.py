"""Shards of a run: which utterances one process of a job array or a torchrun job does.

A shard is `I/N` (0 <= I < N). Utterance `u` belongs to shard `int(sha256(u)[:16], 16) % N`: a stable
hash, so the split depends on nothing but the ids (not on order, limit or machine), and a shard
redone later picks exactly the same utterances. Seeding is per utterance already, so a sharded run
makes the same audio and scores as a single process.

Each shard writes only its own files in the shared run directory (`synth.I-of-N.jsonl`,
`scores.I-of-N.jsonl`, `run.I-of-N.json`, the wavs of its utterances) under its own lock, so shards
never write one file; `ttsbench merge` (rank 0 after a barrier under torchrun) writes run.json and
summary.json from whatever shards have finished, naming the missing ones.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from ttsbench.errors import InputError

T = TypeVar("T")
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_TAG = re.compile(r"^(\d+)-of-(\d+)$")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise InputError(f"shard {self.index}/{self.count}: need 0 <= I < N (I counts from 0)")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`I/N` as on the command line (`--shard 0/4`; I counts from 0)."""
        m = _SPEC.match(text)
        if not m:
            raise InputError(f"--shard {text!r}: expected I/N with 0 <= I < N, e.g. 0/4 "
                             "(from a job array: --shard $SLURM_ARRAY_TASK_ID/N with --array=0-(N-1))")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def from_tag(cls, tag: str) -> Shard | None:
        """The shard of a file tag `I-of-N` (None when `tag` is not one)."""
        m = _TAG.match(tag)
        return cls(int(m.group(1)), int(m.group(2))) if m else None

    @property
    def tag(self) -> str:
        """`I-of-N`: the part of this shard's file names (`synth.0-of-2.jsonl`)."""
        return f"{self.index}-of-{self.count}"

    def owns(self, utt_id: str) -> bool:
        return owner(utt_id, self.count) == self.index

    def select(self, items: Sequence[T], key: str = "utt_id") -> list[T]:
        """The items (prompts) of this shard, in their order."""
        return [it for it in items if self.owns(getattr(it, key))]


def owner(utt_id: str, count: int) -> int:
    """The shard (0-based) of an utterance among `count` shards."""
    return int(hashlib.sha256(utt_id.encode("utf-8")).hexdigest()[:16], 16) % count


@dataclass(frozen=True)
class Launch:
    """How this process was started: its shard (None: the whole run) and, under torchrun, its rank."""

    shard: Shard | None
    rank: int = 0
    local_rank: int = 0
    distributed: bool = False  # started by torchrun with more than one process: ranks meet at a barrier


def launch(shard: str | None = None) -> Launch:
    """`--shard I/N` if given, else torchrun's RANK / WORLD_SIZE when there are several processes,
    else the whole run in this process. Both at once is one error (torchrun already splits)."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world > 1:
        if shard is not None:
            raise InputError("--shard and torchrun both split the run: use one of them")
        rank = int(os.environ.get("RANK", "0"))
        return Launch(Shard(rank, world), rank=rank, local_rank=int(os.environ.get("LOCAL_RANK", "0")),
                      distributed=True)
    return Launch(Shard.parse(shard) if shard is not None else None)
