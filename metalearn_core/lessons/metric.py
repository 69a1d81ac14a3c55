r"""Matching Networks' attention and Prototypical Networks' prototypes on points of a plane.

The Learn pages treat the points themselves as embeddings (g and f_φ are the identity), so a
student moves an embedding with a slider and sees the formula's answer change:

- the article's Matching Networks weight: the cosine
  :math:`c(x, x_i) = g(x)^\top g(x_i) / (\|g(x)\| \|g(x_i)\|)`, and its prediction
  :math:`\hat y = \sum_i c(x, x_i) y_i` (not a distribution: cosines can be negative);
- the paper's (and the app's) attention: :math:`a(x, x_i) = \operatorname{softmax}_i(s\,c(x, x_i))`;
- a prototype :math:`c_k = \frac{1}{|S_k|} \sum_{(x_i, y_i) \in S_k} f_\phi(x_i)` and
  :math:`p(y = k \mid x) = \operatorname{softmax}_k(-\|f_\phi(x) - c_k\|^2)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MAX_ATTENTION_SCALE = 100.0


def cosine_similarities(query: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """c(x_j, x_i) for query (M, D) and support (S, D) → (M, S); a zero vector has cosine 0."""
    if query.dim() != 2 or support.dim() != 2 or query.shape[1] != support.shape[1]:
        raise ValueError(
            f"need query (M, D) and support (S, D), got {tuple(query.shape)} and "
            f"{tuple(support.shape)}"
        )
    return F.normalize(query, dim=1) @ F.normalize(support, dim=1).T


def _one_hot(support_y: torch.Tensor, n_way: int) -> torch.Tensor:
    if support_y.numel() and not (0 <= int(support_y.min()) and int(support_y.max()) < n_way):
        raise ValueError(f"support labels must lie in 0..{n_way - 1}, got {support_y.tolist()}")
    return F.one_hot(support_y.long(), n_way).to(torch.float32)  # (S, N)


def article_prediction(cosines: torch.Tensor, support_y: torch.Tensor, n_way: int) -> torch.Tensor:
    """The article's ŷ_j = Σ_i c(x_j, x_i) y_i: (M, S) cosines → (M, N) class scores."""
    return cosines @ _one_hot(support_y, n_way)


def softmax_attention(cosines: torch.Tensor, scale: float) -> torch.Tensor:
    """a(x_j, x_i) = exp(s c_ji) / Σ_i' exp(s c_ji'): (M, S), each row sums to 1."""
    if not 0 < scale <= MAX_ATTENTION_SCALE:
        raise ValueError(f"scale must be in (0, {MAX_ATTENTION_SCALE}], got {scale!r}")
    return (scale * cosines).softmax(dim=-1)


def attention_prediction(
    attention: torch.Tensor, support_y: torch.Tensor, n_way: int
) -> torch.Tensor:
    """ŷ_j = Σ_i a(x_j, x_i) y_i: a distribution over the N classes, (M, N)."""
    return attention @ _one_hot(support_y, n_way)


def prototypes(points: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """c_k: the mean of class k's support points, (S, D) → (N, D); every class needs a point."""
    one_hot = _one_hot(labels, n_way)  # (S, N)
    counts = one_hot.sum(dim=0)  # (N,)
    if (counts == 0).any():
        missing = [k for k in range(n_way) if counts[k] == 0]
        raise ValueError(f"classes {missing} have no support point")
    return (one_hot.T @ points.float()) / counts.unsqueeze(1)


def prototype_probabilities(query: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """p(y = k | x) = softmax_k(−‖x − c_k‖²): (M, D), (N, D) → (M, N)."""
    return (-(torch.cdist(query.float(), centres.float()) ** 2)).softmax(dim=-1)


def nearest_prototype_grid(
    centres: torch.Tensor, extent: float, resolution: int = 60
) -> tuple[torch.Tensor, torch.Tensor]:
    """The class each point of a square grid goes to: axis (R,), labels (R, R) at (axis[j], axis[i])."""
    if not 2 <= resolution <= 200:
        raise ValueError(f"resolution must be between 2 and 200, got {resolution}")
    axis = torch.linspace(-extent, extent, resolution)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (R*R, 2)
    labels = torch.cdist(grid, centres.float()).argmin(dim=1).reshape(resolution, resolution)
    return axis, labels


def placed_prototypes(
    points: torch.Tensor, labels: torch.Tensor, n_way: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Prototypes of the classes that have points so far (a student places them one by one).

    Returns:
        classes: (C,) the classes with at least one point, ascending.
        centres: (C, D) their prototypes, in the same order.
    """
    if len(points) != len(labels):
        raise ValueError(f"{len(points)} points but {len(labels)} labels")
    one_hot = _one_hot(labels, n_way)  # (S, N) checks the labels' range
    classes = (one_hot.sum(dim=0) > 0).nonzero().flatten()  # (C,)
    if len(classes) == 0:
        return classes, points.new_zeros(0, points.shape[1] if points.dim() == 2 else 2)
    present = one_hot[:, classes]  # (S, C)
    return classes, (present.T @ points.float()) / present.sum(dim=0).unsqueeze(1)
