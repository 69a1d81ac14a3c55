"""Random-number plumbing: every run draws from generators it owns.

The app trains many students' runs in threads of one process. torch's global generator
is shared by all of them, so no run draws from it: a run's randomness is

- its initial weights, drawn from the run's seed (``make_learner``),
- its training episodes, from its ``EpisodeSampler``'s generator,
- anything random inside a step, from its learner's ``generator``,

all checkpointed with the run. Runs therefore need no lock between them: one student's
long step never holds up another's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import torch


def derive_seed(seed: int, purpose: str) -> int:
    """An independent 63-bit seed for each purpose ("init", "episodes", "validation", ...)."""
    digest = hashlib.sha256(f"{seed}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@contextmanager
def reseeded(generator: torch.Generator, seed: int) -> Iterator[torch.Generator]:
    """Run a block with ``generator`` seeded by ``seed``, then put its state back.

    Scoring an episode this way makes any randomness in adaptation depend on the
    episode alone, and leaves the run's training stream where it was.
    """
    state = generator.get_state()
    generator.manual_seed(seed)
    try:
        yield generator
    finally:
        generator.set_state(state)
