"""Run one shard of a job in this process, as `--shard I/N` or as one rank of a torchrun job.

Under torchrun each rank takes shard RANK/WORLD_SIZE on its local GPU (`cuda` becomes
`cuda:LOCAL_RANK`), the ranks meet at a barrier when their shards are done (whether they succeeded
or failed, so none waits forever), and rank 0 merges. The process group is gloo whatever the
device: the ranks share nothing but that barrier, so NCCL is not needed. Without torchrun (a job
array), the shard that finds every shard finished merges; any shard can be merged later with
`ttsbench merge`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

from ttsbench.errors import InputError
from ttsbench.shards import Launch, Shard

# a shard of a paper table runs for hours; the barrier waits for the slowest rank
BARRIER_TIMEOUT = timedelta(days=2)


def rank_device(device: str, launch: Launch) -> str:
    """The device of this rank: under torchrun `cuda` (or any `cuda:N`) is the rank's local GPU."""
    if launch.distributed and device.startswith("cuda"):
        return f"cuda:{launch.local_rank}"
    return device


def run_shard(launch: Launch, work: Callable[[Shard], Path], merge: Callable[[Path], Path]) -> tuple[Path, bool]:
    """Do `work(shard)` for this process's shard, then merge where this process should.

    Returns the run directory and whether this process merged it (so it has a fresh summary.json).
    An error of `work` is raised after the barrier, so the other ranks still finish and merge.
    """
    assert launch.shard is not None
    with _process_group(launch) as barrier:
        root: Path | None = None
        error: BaseException | None = None
        try:
            root = work(launch.shard)
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the barrier
            error = exc
        barrier()
        if error is not None:
            raise error
        assert root is not None
        if launch.distributed:
            return (merge(root), True) if launch.rank == 0 else (root, False)
        return _merge_if_complete(root, launch.shard, merge)


def _merge_if_complete(root: Path, shard: Shard, merge: Callable[[Path], Path]) -> tuple[Path, bool]:
    """A job array's shard merges when every shard of its count has finished (the last one does);
    a shard still running elsewhere holds the run, and then the merge is left to `ttsbench merge`."""
    # lazy: the store reads pandas; the launcher stays importable by the CLI parser
    from ttsbench.store import read_manifest, shard_manifests

    manifests = {s: p for s, p in shard_manifests(root).items() if s.count == shard.count}
    if len(manifests) < shard.count:
        return root, False
    if not all((m := read_manifest(p).shard) is not None and m.finished for p in manifests.values()):
        return root, False
    try:
        return merge(root), True
    except InputError:  # another shard is still finishing (it holds the run's lock): it will merge
        return root, False


@contextlib.contextmanager
def _process_group(launch: Launch) -> Iterator[Callable[[], None]]:
    """A gloo process group for torchrun's ranks (its barrier), or nothing for a single process."""
    if not launch.distributed:
        yield lambda: None
        return
    # lazy: torch only when torchrun started several processes
    import torch
    import torch.distributed as dist

    if torch.cuda.is_available():  # a bare `cuda` (a saved spec's, a recipe's default) is this rank's GPU
        torch.cuda.set_device(launch.local_rank)
    dist.init_process_group("gloo", timeout=BARRIER_TIMEOUT)
    try:
        yield dist.barrier
    finally:
        dist.destroy_process_group()
