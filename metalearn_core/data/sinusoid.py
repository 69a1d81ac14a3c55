"""Sinusoid regression tasks, as in the MAML paper (Finn, Abbeel & Levine, ICML 2017, §5.1).

Each task is a sine wave :math:`y = A \\sin(x - \\varphi)` with amplitude
:math:`A \\sim U[0.1, 5]` and phase :math:`\\varphi \\sim U[0, \\pi]`; its support and
query points have :math:`x \\sim U[-5, 5]`. A regression task has one "way": an episode
holds K support points and Q query points of one function, and ``task_params`` carries
the amplitude and phase so that a page can draw the true curve.

>>> source = SinusoidSource("train")
>>> sampler = EpisodeSampler(source, n_way=1, k_shot=10, q_query=10, seed=0)
>>> episode = sampler.sample()          # support_x, support_y: (10, 1)
>>> x = torch.linspace(-5, 5, 200)
>>> y = sinusoid_function(x, **episode.task_params)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from metalearn_core.data.episodes import Episode, TaskKind, TaskSource

AMPLITUDE_RANGE = (0.1, 5.0)
PHASE_RANGE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)

# Each split mixes its own constant into every task's seed, so that the same sampler
# seed draws different tasks in train, val and test (disjoint random streams).
_SPLIT_SALT = {"train": 0x5EED_7A1, "val": 0x5EED_0A1, "test": 0x5EED_7E5}


def sinusoid_function(x: Any, amplitude: float, phase: float) -> Any:
    """The true function of a task: ``amplitude * sin(x - phase)``.

    Works on torch tensors, numpy arrays and floats (returns the same kind).
    """
    if isinstance(x, torch.Tensor):
        return amplitude * torch.sin(x - phase)
    return amplitude * np.sin(np.asarray(x, dtype=np.float64) - phase)


class SinusoidSource(TaskSource):
    """Sine-wave regression tasks of one split; unlimited, drawn fresh for every episode.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``; each split draws tasks from its own
            random stream.
        seed: mixed into every task's seed, so that two sources with different seeds
            draw different tasks from the same sampler state.
    """

    task_kind: TaskKind = "regression"
    input_shape = (1,)

    def __init__(self, split: str = "train", seed: int = 0):
        if split not in _SPLIT_SALT:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(_SPLIT_SALT)}")
        self.name, self.split = "sinusoid", split
        self._salt = (_SPLIT_SALT[split] * 1_000_003 + int(seed)) % (2**62)

    def check_episode_shape(self, n_way: int, k_shot: int, q_query: int) -> None:
        if n_way != 1:
            raise ValueError(
                f"n_way={n_way}, but regression tasks have one 'way' (one function per "
                f"task): use n_way=1 for {self.describe()}"
            )

    @staticmethod
    def true_function(x: Any, task_params: dict[str, float]) -> Any:
        """The task's ground truth at ``x``: ``sinusoid_function(x, **task_params)``."""
        return sinusoid_function(x, task_params["amplitude"], task_params["phase"])

    def sample_episode(
        self, n_way: int, k_shot: int, q_query: int, generator: torch.Generator
    ) -> Episode:
        self.check_episode_shape(n_way, k_shot, q_query)
        # One draw from the caller's generator picks the task; the split's salt makes
        # the stream of tasks differ between splits.
        draw = int(torch.randint(0, 2**62, (1,), generator=generator))
        local = torch.Generator().manual_seed(draw ^ self._salt)
        u = torch.rand(2 + k_shot + q_query, generator=local, dtype=torch.float64)
        amplitude = AMPLITUDE_RANGE[0] + (AMPLITUDE_RANGE[1] - AMPLITUDE_RANGE[0]) * float(u[0])
        phase = PHASE_RANGE[0] + (PHASE_RANGE[1] - PHASE_RANGE[0]) * float(u[1])
        x = (X_RANGE[0] + (X_RANGE[1] - X_RANGE[0]) * u[2:]).float().unsqueeze(1)  # (K+Q, 1)
        y = sinusoid_function(x, amplitude, phase)  # (K+Q, 1)
        return Episode(
            support_x=x[:k_shot],
            support_y=y[:k_shot],
            query_x=x[k_shot:],
            query_y=y[k_shot:],
            n_way=1,
            k_shot=k_shot,
            q_query=q_query,
            class_names=(f"amplitude {amplitude:.2f}, phase {phase:.2f}",),
            task_params={"amplitude": amplitude, "phase": phase},
        )
