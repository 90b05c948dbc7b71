"""Data-parallel training under ``torchrun``: the process group, and agreement between processes.

See :mod:`smapdown.model.train` (design note "Data-parallel") for how batches and validation are shared out.
"""

from __future__ import annotations

import os

import torch

from ..core.errors import InputError

__all__ = ["any_rank", "distributed_env", "is_main_process", "join_process_group"]


def distributed_env() -> tuple[int, int, int]:
    """(rank, world size, local world size) from torchrun's environment ((0, 1, 1) when not under torchrun)."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    return (int(os.environ.get("RANK", "0") or 0), world, int(os.environ.get("LOCAL_WORLD_SIZE", str(world)) or 1))


def is_main_process() -> bool:
    """Whether this process writes files (rank 0 of a torchrun job, or a plain single process)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return distributed_env()[0] == 0


def join_process_group(dev: torch.device) -> tuple[int, int]:
    """Join torchrun's process group if there is one (gloo on CPU, NCCL on CUDA); (rank, world size)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    rank, world, _ = distributed_env()
    if world <= 1:
        return 0, 1
    if not dist.is_available():
        raise InputError("WORLD_SIZE > 1 (torchrun) but this torch has no torch.distributed")
    dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def any_rank(flag: bool, world: int) -> bool:
    """Whether ``flag`` holds on any process (all of them take the same branch: no process waits alone)."""
    if world <= 1:
        return bool(flag)
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)
