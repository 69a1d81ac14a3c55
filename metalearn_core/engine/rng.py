"""Random-number plumbing: per-run streams on top of torch's one global RNG.

torch draws dropout masks, ``torch.randn`` and weight initialisation from a global,
per-process generator. The app runs many students' trainers in one process, in
several threads, so a run must never draw from whatever state that generator happens
to be in. Every engine section that touches it therefore

- holds ``GLOBAL_RNG_LOCK`` (so two threads cannot swap states under each other),
- forks the global state (``torch.random.fork_rng``), puts in the run's own state or a
  fixed seed, runs, and restores the process's state afterwards.

Holding the lock around a training step serialises the steps of concurrent runs; on a
CPU their kernels compete for the same cores anyway. Code outside the engine that draws
from the global RNG while runs train in other threads should hold the lock as well (or,
as the project's rule asks, use its own ``torch.Generator``): otherwise it may take
numbers out of a run's stream.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

GLOBAL_RNG_LOCK = threading.RLock()


def derive_seed(seed: int, purpose: str) -> int:
    """An independent 63-bit seed for each purpose ("init", "episodes", "validation", ...)."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def cuda_devices(device: torch.device) -> list[int]:
    """The CUDA device whose RNG a section must fork: the run's, if it lives on one."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def capture_rng(device: torch.device) -> dict[str, torch.Tensor]:
    """The global RNG state(s) a run on ``device`` uses: CPU, and CUDA if it is on one."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def seeded_rng_state(seed: int, device: torch.device) -> dict[str, torch.Tensor]:
    """The state the global RNG would have after ``torch.manual_seed(seed)``."""
    with seeded(seed, device):
        return capture_rng(device)


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run a block with the global RNG seeded by ``seed``; restore the process's state after."""
    with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=cuda_devices(device)):
        torch.manual_seed(seed)
        yield


@contextmanager
def swapped(state: dict[str, torch.Tensor], device: torch.device) -> Iterator[dict]:
    """Run a block on a run's own RNG ``state``; yields a dict whose ``"state"`` key holds the
    state the block left behind (the run keeps it for its next block)."""
    result: dict[str, dict[str, torch.Tensor]] = {}
    with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=cuda_devices(device)):
        torch.set_rng_state(state["cpu"])
        if "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"], device)
        yield result
        result["state"] = capture_rng(device)


@contextmanager
def untouched(device: torch.device) -> Iterator[None]:
    """Run a block that may draw from the global RNG without moving the process's stream
    (e.g. ``load_state_dict`` building a module that is overwritten at once)."""
    with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=cuda_devices(device)):
        yield
