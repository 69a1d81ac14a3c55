"""Tiny seeded tasks for the algorithm tests: synthetic images, sinusoids, blobs."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_core.data.episodes import ClassificationSource, Episode, EpisodeBatch


def random_image_source(
    num_classes: int = 12, per_class: int = 8, size: int = 8, dtype=torch.float32
) -> ClassificationSource:
    """Classes of random 1xSxS images; each class has its own mean image so it is learnable."""
    g = torch.Generator().manual_seed(0)
    classes = []
    for _ in range(num_classes):
        centre = torch.rand(1, size, size, generator=g, dtype=dtype)
        classes.append(
            centre + 0.3 * torch.rand(per_class, 1, size, size, generator=g, dtype=dtype)
        )
    return ClassificationSource("random", "train", classes, [f"c{i}" for i in range(num_classes)])


def sinusoid_episode(
    generator: torch.Generator, k_shot: int = 10, q_query: int = 10, dtype=torch.float32
) -> Episode:
    """y = A sin(x - phase), A ~ U[0.1, 5], phase ~ U[0, pi], x ~ U[-5, 5] (the MAML task)."""
    amplitude = 0.1 + 4.9 * torch.rand((), generator=generator, dtype=dtype)
    phase = math.pi * torch.rand((), generator=generator, dtype=dtype)
    x = 10 * torch.rand(k_shot + q_query, 1, generator=generator, dtype=dtype) - 5
    y = amplitude * torch.sin(x - phase)
    return Episode(
        x[:k_shot],
        y[:k_shot],
        x[k_shot:],
        y[k_shot:],
        1,
        k_shot,
        q_query,
        task_params={"amplitude": amplitude.item(), "phase": phase.item()},
    )


def sinusoid_batch(tasks: int, seed: int = 0, dtype=torch.float32, **shape) -> EpisodeBatch:
    g = torch.Generator().manual_seed(seed)
    return EpisodeBatch.stack([sinusoid_episode(g, dtype=dtype, **shape) for _ in range(tasks)])


class TinyTasks:
    """The helpers above, handed to tests as one fixture (test modules can't import conftest)."""

    image_source = staticmethod(random_image_source)
    sinusoid_episode = staticmethod(sinusoid_episode)
    sinusoid_batch = staticmethod(sinusoid_batch)


@pytest.fixture(scope="session")
def tiny() -> type[TinyTasks]:
    return TinyTasks
