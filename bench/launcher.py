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
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

from ttsbench.errors import InputError, TTSBenchError
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
    """
    return run_shards(launch, [work], merge)[0]


def run_shards(launch: Launch, works: Sequence[Callable[[Shard], Path]],
               merge: Callable[[Path], Path]) -> list[tuple[Path, bool]]:
    """`run_shard` for several runs in order (the cells of a matrix), in one process group.

    Under torchrun the ranks agree after each run and after its merge: when one rank fails, every
    rank stops there with an error (the failing rank with its own), so none waits at a barrier
    for a rank that has quit.
    """
    assert launch.shard is not None
    shard = launch.shard
    done: list[tuple[Path, bool]] = []
    with _process_group(launch) as agree:
        for work in works:
            root, error = _attempt(lambda: work(shard))  # noqa: B023 - called at once
            agree(error, "its shard")
            assert root is not None
            if not launch.distributed:
                done.append(_merge_if_complete(root, shard, merge))
                continue
            _, error = _attempt(lambda: merge(root) if launch.rank == 0 else root)  # noqa: B023
            agree(error, "the merge")
            done.append((root, launch.rank == 0))
    return done


def _attempt(call: Callable[[], Path]) -> tuple[Path | None, BaseException | None]:
    try:
        return call(), None
    except Exception as exc:  # noqa: BLE001 - raised by `agree`, once every rank has reached it
        return None, exc


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
def _process_group(launch: Launch) -> Iterator[Callable[[BaseException | None, str], None]]:
    """`agree(error, what)`: a barrier at which the ranks learn whether any of them failed; raises
    this rank's error, or one line when another rank's failed. Without torchrun: raises the error."""
    if not launch.distributed:
        def alone(error: BaseException | None, what: str) -> None:
            if error is not None:
                raise error
        yield alone
        return
    # lazy: torch only when torchrun started several processes
    import torch
    import torch.distributed as dist

    if torch.cuda.is_available():  # a bare `cuda` (a saved spec's, a recipe's default) is this rank's GPU
        torch.cuda.set_device(launch.local_rank)
    dist.init_process_group("gloo", timeout=BARRIER_TIMEOUT)

    def agree(error: BaseException | None, what: str) -> None:
        failed = torch.tensor([0 if error is None else 1])
        dist.all_reduce(failed, op=dist.ReduceOp.MAX)  # also the barrier
        if error is not None:
            raise error
        if failed.item():
            raise TTSBenchError(f"rank {launch.rank}: stopped because another rank failed in {what} "
                                "(its error is in that rank's output)")

    try:
        yield agree
    finally:
        dist.destroy_process_group()
