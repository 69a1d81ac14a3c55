"""``ProblemSpec``: what a learner is asked to solve.

It sits below both ``models/`` (which size a backbone from it) and ``algorithms/``
(which build their networks from it), so that neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from metalearn_core.data.episodes import TaskKind


@dataclass(frozen=True)
class ProblemSpec:
    """What the learner is asked to solve; fixed for the life of a learner.

    ``n_way`` is the training N. Algorithms that can, also adapt to episodes of
    another N (the metric methods always; MAML through its shared head init).
    """

    task_kind: TaskKind
    input_shape: tuple[int, ...]
    n_way: int
    backbone: str = "conv4"  # "conv4" | "mlp"
    width: int | None = None  # conv filters or MLP hidden units; None: 64 for Conv4, 40 for the MLP
    embedding_2d: bool = False  # a final 2-D embedding layer, to draw without projection
