"""Pure helpers shared by the algorithms: losses, accuracy, distances, prototypes.

Everything here is a function of tensors (no state), so it runs unchanged inside
``torch.func.vmap`` and on any device.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F

from metalearn_core.data.episodes import Episode, TaskKind

Distance = Literal["euclidean", "cosine"]
DISTANCES: tuple[str, ...] = get_args(Distance)


def task_loss(prediction: torch.Tensor, target: torch.Tensor, task_kind: TaskKind) -> torch.Tensor:
    """Cross-entropy on logits (M, N) vs labels (M,), or MSE on values (M, 1) vs (M, 1)."""
    if task_kind == "regression":
        return F.mse_loss(prediction, target)
    return F.cross_entropy(prediction, target)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of rows of ``logits`` (M, N) whose arg-max is ``labels`` (M,): a 0-d tensor."""
    return (logits.argmax(dim=-1) == labels).float().mean()


def class_means(embeddings: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """Prototypes c_n = mean of the embeddings labelled n: (M, D), (M,) -> (N, D)."""
    one_hot = F.one_hot(labels, n_way).to(embeddings.dtype)  # (M, N)
    counts = one_hot.sum(dim=0).clamp(min=1).unsqueeze(1)  # (N, 1)
    return one_hot.T @ embeddings / counts


def squared_euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """d(a_i, b_j) = ||a_i - b_j||^2: (..., M, D), (..., N, D) -> (..., M, N)."""
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).pow(2).sum(dim=-1)


def cosine_similarity(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """cos(a_i, b_j): (..., M, D), (..., N, D) -> (..., M, N)."""
    a = a / a.norm(dim=-1, keepdim=True).clamp(min=eps)
    b = b / b.norm(dim=-1, keepdim=True).clamp(min=eps)
    return a @ b.transpose(-1, -2)


def pairwise_distance(a: torch.Tensor, b: torch.Tensor, distance: str) -> torch.Tensor:
    """Squared Euclidean distance, or cosine distance 1 - cos: (..., M, D), (..., N, D) -> (..., M, N)."""
    if distance == "euclidean":
        return squared_euclidean(a, b)
    if distance == "cosine":
        return 1.0 - cosine_similarity(a, b)
    raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")


def check_positive(name: str, value: float, *, integer: bool = False) -> None:
    """Raise ValueError naming ``name`` unless ``value`` is a positive (integer) number."""
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise ValueError naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def embed_without_side_effects(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model(x)`` that leaves the model's buffers untouched.

    In training mode batch norm would update its running statistics; inspecting an
    episode must not change the learner, so the buffers are replaced by copies.
    """
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    params = dict(model.named_parameters())
    return torch.func.functional_call(model, (params, buffers), (x,))


def embed_episode(model: torch.nn.Module, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
    """Embed support and query in one pass, as in training: (NK, D), (NQ, D)."""
    n_support = episode.support_x.shape[0]
    embeddings = embed_without_side_effects(model, torch.cat([episode.support_x, episode.query_x]))
    return embeddings[:n_support], embeddings[n_support:]
