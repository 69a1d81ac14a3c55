"""Edits a student makes to an episode: another support example swapped in, a query of their own.

The inspector shows one validation episode; changing one of its examples and adapting again
shows how much a learner's answer rests on that example (Matching Networks' attention,
a prototype, MAML's inner steps). Every edit returns a new ``Episode``: the rest of the
episode is the very same tensors, so any change in the predictions comes from the edit.

>>> swap = SupportSwap(label=2, shot=0, seed=7)
>>> edited = swap_support_example(episode, source, swap)   # one support image differs
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from metalearn_core.data.episodes import ClassificationSource, Episode

MAX_SWAPS = 50  # swaps kept for one episode: each is replayed when the episode is drawn


@dataclass(frozen=True)
class SupportSwap:
    """Replace shot ``shot`` of label ``label`` with another example of the same class,
    drawn from ``seed`` among the class's examples that the episode does not hold."""

    label: int
    shot: int
    seed: int


def support_index(episode: Episode, label: int, shot: int) -> int:
    """Row of ``support_x`` holding shot ``shot`` of ``label`` (support is class by class)."""
    for name, value, count in (("label", label, episode.n_way), ("shot", shot, episode.k_shot)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
            raise ValueError(f"{name} must be a whole number in 0..{count - 1}, got {value!r}")
    return label * episode.k_shot + shot


def _source_class(episode: Episode, source: ClassificationSource, label: int) -> int:
    if len(episode.class_names) != episode.n_way:
        raise ValueError("the episode does not say which classes it holds (no class names)")
    name = episode.class_names[label]
    try:
        return source.class_names.index(name)
    except ValueError:
        raise ValueError(f"class {name!r} of the episode is not in {source.describe()}") from None


def swap_support_example(
    episode: Episode, source: ClassificationSource, swap: SupportSwap
) -> Episode:
    """``episode`` with one support example replaced by another example of its class.

    The new example is one of the class's examples in ``source`` that appears nowhere in
    the episode (support or query), chosen with ``torch.Generator().manual_seed(swap.seed)``.

    Raises:
        ValueError: label or shot out of range, a class the source does not hold, or a
            class with no example left to swap in.
    """
    if not isinstance(source, ClassificationSource):
        raise ValueError(f"only a classification source has examples to swap in, got {source!r}")
    row = support_index(episode, swap.label, swap.shot)
    examples = source.class_tensor(_source_class(episode, source, swap.label))  # (S_c, *X)
    held = torch.cat(  # the episode's examples of this class, support and query: (E, *X)
        [
            episode.support_x[episode.support_y == swap.label],
            episode.query_x[episode.query_y == swap.label],
        ]
    ).to(examples.device, examples.dtype)
    # (S_c, E): does example s equal example e of the episode?
    same = (examples.flatten(1).unsqueeze(1) == held.flatten(1).unsqueeze(0)).all(dim=2)
    unused = (~same.any(dim=1)).nonzero().flatten()
    if len(unused) == 0:
        raise ValueError(
            f"class {episode.class_names[swap.label]!r} has no example outside the episode"
        )
    generator = torch.Generator().manual_seed(int(swap.seed))
    pick = unused[torch.randint(len(unused), (1,), generator=generator)].item()
    support_x = episode.support_x.clone()
    support_x[row] = examples[pick].to(support_x.device, support_x.dtype)
    return replace(episode, support_x=support_x)


def apply_swaps(
    episode: Episode, source: ClassificationSource, swaps: tuple[SupportSwap, ...]
) -> Episode:
    """Each swap in turn (a later swap of the same shot replaces the earlier one)."""
    if len(swaps) > MAX_SWAPS:
        raise ValueError(f"at most {MAX_SWAPS} swaps per episode, got {len(swaps)}")
    for swap in swaps:
        episode = swap_support_example(episode, source, swap)
    return episode


def with_query_example(episode: Episode, example: torch.Tensor) -> Episode:
    """``episode`` whose first query example is ``example`` (shape ``support_x[0]``'s).

    The rest of the query set stays, so a learner that normalises over the query batch
    (MAML's batch norm) sees the same batch it was scored on; read row 0's prediction.
    """
    if tuple(example.shape) != tuple(episode.query_x.shape[1:]):
        raise ValueError(
            f"the example must have the episode's input shape {tuple(episode.query_x.shape[1:])}"
            f", got {tuple(example.shape)}"
        )
    query_x = episode.query_x.clone()
    query_x[0] = example.to(query_x.device, query_x.dtype)
    return replace(episode, query_x=query_x)


MAX_PLACED_SUPPORT = 100  # support points a student may place on a regression task


def with_support_set(episode: Episode, support_x: torch.Tensor, support_y: torch.Tensor) -> Episode:
    """A regression ``episode`` whose support set is the given points (the query set, the
    task and its true function stay): a student's own support points to adapt on.

    Args:
        support_x: (K', *X) inputs, support_y: (K', 1) targets, 1 <= K' <= MAX_PLACED_SUPPORT.
    """
    if episode.n_way != 1 or episode.support_y.dim() != 2:
        raise ValueError("only a regression episode takes support points placed by hand")
    count = len(support_x)
    if not 1 <= count <= MAX_PLACED_SUPPORT:
        raise ValueError(f"give 1 to {MAX_PLACED_SUPPORT} support points, got {count}")
    if tuple(support_x.shape[1:]) != tuple(episode.support_x.shape[1:]) or tuple(
        support_y.shape
    ) != (count, 1):
        raise ValueError(
            f"support points must be ({count}, {', '.join(map(str, episode.support_x.shape[1:]))})"
            f" inputs and ({count}, 1) targets, got {tuple(support_x.shape)} and "
            f"{tuple(support_y.shape)}"
        )
    if not (torch.isfinite(support_x).all() and torch.isfinite(support_y).all()):
        raise ValueError("support points must be finite numbers")
    like = episode.support_x
    return replace(
        episode,
        support_x=support_x.to(like.device, like.dtype),
        support_y=support_y.to(episode.support_y.device, episode.support_y.dtype),
        k_shot=count,
    )


def with_placed_support(episode: Episode, points: torch.Tensor, labels: torch.Tensor) -> Episode:
    """A classification ``episode`` whose class k's support is the points placed with label
    k, for each class that has any; the other classes keep their own support examples.

    The support stays class by class; ``k_shot`` keeps the episode's nominal value even where
    a class now has more or fewer points (the learners read the labels, not ``k_shot``).

    Args:
        points: (P, *X) inputs, 1 <= P <= MAX_PLACED_SUPPORT; labels: (P,) in 0..N-1.
    """
    if episode.support_y.dim() != 1:
        raise ValueError("only a classification episode takes labelled points")
    count = len(points)
    if not 1 <= count <= MAX_PLACED_SUPPORT or labels.shape != (count,):
        raise ValueError(
            f"give 1 to {MAX_PLACED_SUPPORT} points with one label each, got "
            f"{tuple(points.shape)} and {tuple(labels.shape)}"
        )
    if tuple(points.shape[1:]) != tuple(episode.support_x.shape[1:]):
        raise ValueError(
            f"points must have the episode's input shape {tuple(episode.support_x.shape[1:])}, "
            f"got {tuple(points.shape[1:])}"
        )
    if not torch.isfinite(points).all():
        raise ValueError("points must be finite numbers")
    if labels.min() < 0 or labels.max() >= episode.n_way:
        raise ValueError(f"labels must lie in 0..{episode.n_way - 1}, got {labels.tolist()}")
    like = episode.support_x
    points = points.to(like.device, like.dtype)
    labels = labels.to(episode.support_y.device, episode.support_y.dtype)
    xs, ys = [], []
    for label in range(episode.n_way):
        placed = labels == label
        own = episode.support_y == label
        xs.append(points[placed] if placed.any() else like[own])
        ys.append(labels[placed] if placed.any() else episode.support_y[own])
    return replace(episode, support_x=torch.cat(xs), support_y=torch.cat(ys))
