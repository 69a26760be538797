"""Process-group, device and precision helpers shared by the DiTAR and VAE trainers.

Launching is torchrun's job (no home-made process spawning): a process started by torchrun sees
RANK / WORLD_SIZE / LOCAL_RANK and joins the group (nccl on CUDA, gloo on CPU); a plain
`python -m ...` or `ttsbench train` process is a world of one. On CUDA the forward pass runs under
bf16 autocast; on CPU everything stays fp32.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ttsbench.errors import InputError


@dataclass(frozen=True)
class Runtime:
    """Where this process runs: its rank in the job and its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str = "auto") -> Runtime:
    """Join the torchrun process group if there is one and pick this rank's device.

    Args:
        device: "auto" (CUDA when available, else CPU), "cpu", "cuda" (this rank's local GPU)
            or an explicit "cuda:N" (single-process runs only).
    """
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device {device!r} asked for, but CUDA is not available here")
        dev = torch.device("cuda", local_rank) if device == "cuda" else torch.device(device)
        torch.cuda.set_device(dev)
    elif device == "cpu":
        dev = torch.device("cpu")
    else:
        raise InputError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend, device_id=dev if dev.type == "cuda" else None)
    return Runtime(rank, world, local_rank, dev)


def teardown(rt: Runtime) -> None:
    """Leave the process group (after a final barrier so no rank exits mid-collective)."""
    if rt.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def autocast(rt: Runtime, enabled: bool = True) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on CUDA; a no-op on CPU (fp32 there)."""
    if enabled and rt.device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def wrap(module: nn.Module, rt: Runtime) -> nn.Module:
    """DistributedDataParallel around `module` when running under torchrun; else the module itself."""
    if not rt.distributed:
        return module

    ids = [rt.device.index] if rt.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def shard(module: nn.Module, rt: Runtime) -> nn.Module:
    """FSDP (fully_shard, per-parameter sharding) for models too big to replicate, e.g. DiTAR 1B.

    Every element of every nn.ModuleList (the transformer blocks) becomes its own FSDP unit, then
    the root; the module is changed in place and returned. Parameters become DTensor shards, so
    checkpoints go through `full_state()` / `load_full_state()`. One process: unchanged.
    """
    if not rt.distributed:
        return module
    # lazy: ~0.8 s to import; only FSDP training and its checkpoints need it
    from torch.distributed.fsdp import fully_shard

    for child in list(module.modules()):
        if isinstance(child, nn.ModuleList):
            for block in child:
                fully_shard(block)
    fully_shard(module)
    return module


def full_state(model: nn.Module, opt: torch.optim.Optimizer) -> tuple[dict[str, Any], dict[str, Any]]:
    """Unsharded (model, optimizer) state dicts on CPU, keyed by parameter name (collective under FSDP).

    The same layout whether the run used one process, DDP or FSDP, so a checkpoint resumes under any.
    """
    # lazy: ~0.8 s to import; only FSDP training and its checkpoints need it
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=opts), get_optimizer_state_dict(model, opt, options=opts)


def full_model_state(model: nn.Module) -> dict[str, Any]:
    """The unsharded model state dict on CPU (collective under FSDP; no optimizer state)."""
    if not any(hasattr(p, "device_mesh") for p in model.parameters()):
        return {k: v.detach().cpu().clone() for k, v in unwrap(model).state_dict().items()}
    # lazy: ~0.8 s to import; only FSDP training needs it
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_full_state(model: nn.Module, opt: torch.optim.Optimizer, model_state: dict[str, Any],
                    opt_state: dict[str, Any]) -> None:
    """Load what `full_state()` returned into a plain, DDP-ready or FSDP-sharded model."""
    # lazy: ~0.8 s to import; only FSDP training and its checkpoints need it
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        set_model_state_dict,
        set_optimizer_state_dict,
    )

    opts = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, model_state, options=opts)
    set_optimizer_state_dict(model, opt, opt_state, options=opts)


def unwrap(module: nn.Module) -> nn.Module:
    """The bare module inside a DDP wrapper (what checkpoints store)."""
    return getattr(module, "module", module)


def mean_over_ranks(values: dict[str, float], rt: Runtime) -> dict[str, float]:
    """Average scalar logs over ranks (identical keys on every rank)."""
    if not rt.distributed:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64,
                     device=rt.device if rt.device.type == "cuda" else "cpu")
    dist.all_reduce(t)
    return {k: float(v) / rt.world_size for k, v in zip(keys, t.tolist())}


def sum_over_ranks(value: float, rt: Runtime) -> float:
    if not rt.distributed:
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=rt.device if rt.device.type == "cuda" else "cpu")
    dist.all_reduce(t)
    return float(t.item())


def gather_objects(obj: Any, rt: Runtime) -> list[Any]:
    """Every rank's `obj`, in rank order (RNG states for the checkpoint)."""
    if not rt.distributed:
        return [obj]
    out: list[Any] = [None] * rt.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(rt: Runtime) -> None:
    if rt.distributed:
        dist.barrier()


@contextlib.contextmanager
def main_first(rt: Runtime) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. builds a cache), then the others."""
    if not rt.is_main:
        barrier(rt)
    yield
    if rt.is_main:
        barrier(rt)
