"""Token-budget batching: length-bucketed batches of at most N padded latent frames, per rank.

The paper trains with "a batch size of 15K tokens" per GPU (Appendix A.1). Here a batch's cost is
its padded size, `len(batch) * max(frames in batch)` latent frames, so memory is bounded; bucketing
by length keeps padding small, so the real frame count stays close to the budget.

The plan for an epoch is a pure function of (lengths, budget, seed, epoch, world size): shuffle all
utterances, cut the shuffled order into buckets, sort each bucket by length, pack greedily, shuffle
the batches, then deal them to ranks round-robin, truncated so every rank gets the same number
(no rank waits on a collective that the others never join). A `DataPosition` (epoch, next batch)
is all a checkpoint needs to continue exactly where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ttsbench.errors import InputError
from ttsbench.systems.speech.batch import SpeechBatch
from ttsbench.systems.speech.training.data import CachedData, LatentReader


@dataclass(frozen=True)
class DataPosition:
    """Where the data stream is: the epoch and the index of the next batch in this rank's plan."""

    epoch: int = 0
    index: int = 0


def plan_epoch(lengths: Sequence[int], *, max_frames: int, seed: int, epoch: int, rank: int = 0,
               world_size: int = 1, bucket_size: int = 2048) -> list[list[int]]:
    """This rank's batches (lists of row indices) for `epoch`; utterances over the budget are left out."""
    rng = np.random.default_rng([seed, epoch])
    lengths = np.asarray(lengths, dtype=np.int64)
    order = rng.permutation(len(lengths))
    order = order[lengths[order] <= max_frames]
    batches: list[list[int]] = []
    for start in range(0, len(order), bucket_size):
        bucket = order[start:start + bucket_size]
        bucket = bucket[np.lexsort((bucket, lengths[bucket]))]  # by length, ties by row: deterministic
        batches += _pack(bucket.tolist(), lengths, max_frames)
    batches = [batches[i] for i in rng.permutation(len(batches))]
    per_rank = len(batches) // world_size
    return batches[rank::world_size][:per_rank]


def _pack(rows: list[int], lengths: np.ndarray, max_frames: int) -> list[list[int]]:
    """Greedy packing of length-sorted rows while len(batch) * longest <= max_frames."""
    batches, current, longest = [], [], 0
    for row in rows:
        longest_if_added = max(longest, int(lengths[row]))
        if current and (len(current) + 1) * longest_if_added > max_frames:
            batches.append(current)
            current, longest_if_added = [], int(lengths[row])
        current.append(row)
        longest = longest_if_added
    if current:
        batches.append(current)
    return batches


class _PlannedBatches(Dataset):
    """Map-style dataset whose item i is the collated i-th batch of a plan (DataLoader workers read it)."""

    def __init__(self, data: CachedData, plan: list[list[int]]) -> None:
        self.plan = plan
        self.reader = LatentReader(data)

    def __len__(self) -> int:
        return len(self.plan)

    def __getitem__(self, i: int) -> SpeechBatch:
        return self.reader.collate(self.plan[i])


def iterate_batches(data: CachedData, *, max_frames: int, seed: int, start: DataPosition = DataPosition(),
                    rank: int = 0, world_size: int = 1, bucket_size: int = 2048, num_workers: int = 0,
                    pin_memory: bool = False) -> Iterator[tuple[DataPosition, SpeechBatch]]:
    """Endless (position after this batch, batch) pairs, epoch after epoch, from `start` on."""
    for epoch in count(start.epoch):
        plan = plan_epoch(data.frames, max_frames=max_frames, seed=seed, epoch=epoch, rank=rank,
                          world_size=world_size, bucket_size=bucket_size)
        if not plan:
            raise InputError(f"no batch fits: {len(data.frames)} utterances, {world_size} rank(s), budget "
                             f"{max_frames} frames (longest utterance {max(data.frames)} frames)")
        first = start.index if epoch == start.epoch else 0
        # Own generator: creating the loader must not draw from the global torch RNG, or resuming
        # mid-epoch would shift every random number the model draws afterwards.
        loader = DataLoader(_PlannedBatches(data, plan), batch_size=None, sampler=range(first, len(plan)),
                            num_workers=num_workers, pin_memory=pin_memory, generator=torch.Generator())
        for index, batch in zip(range(first, len(plan)), loader):
            yield DataPosition(epoch, index + 1), batch
