"""An episode in the learner's embedding space: support, queries and class prototypes.

Embeddings of two dimensions (a backbone with ``embedding_2d``) are drawn as they are,
with the regions each prototype wins when the learner classifies by nearest prototype
(Prototypical Networks: Voronoi cells for the squared Euclidean distance, sectors for the
cosine distance). Wider embeddings are projected onto their first two principal
components, computed from the episode's own points; regions are not drawn there, because
the nearest prototype in the projection is not the nearest one in the embedding space.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from metalearn_core.algorithms.functional import DISTANCES, pairwise_distance
from metalearn_core.data.episodes import Episode
from metalearn_core.figures.episodes import episode_points_figure
from metalearn_core.figures.style import base_layout, class_color
from metalearn_core.figures.words import ENGLISH, EpisodeWords

REGION_DISTANCES = DISTANCES  # the learners' own rules, computed by the same function
GRID_POINTS = 90  # per side of the regions' grid: cheap to draw, fine enough to read
PROTOTYPE_SIZE = 26  # stars around the support diamonds (16) they sit under


def principal_plane(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Mean (D,), the first two principal directions (D, 2) of ``points`` (M, D), and the
    share of the variance along each. Signs are fixed (largest loading positive), so the
    picture does not flip between redraws of the same episode."""
    if points.dim() != 2 or points.shape[0] < 2:
        raise ValueError(f"need at least two points (M, D), got shape {tuple(points.shape)}")
    if not torch.isfinite(points).all():
        raise ValueError("the points are not all finite numbers (a diverging model?)")
    points = points.double()
    mean = points.mean(0)
    _, singular, right = torch.linalg.svd(points - mean, full_matrices=False)
    directions = right[:2].T.clone()  # (D, 2)
    if directions.shape[1] < 2:
        directions = torch.cat([directions, torch.zeros_like(directions)], dim=1)
    for column in range(2):
        if directions[directions[:, column].abs().argmax(), column] < 0:
            directions[:, column] = -directions[:, column]
    variance = singular.square()
    shares = (variance[:2] / variance.sum().clamp_min(1e-12)).tolist()
    return mean, directions, shares + [0.0] * (2 - len(shares))


def _nearest_regions(
    prototypes: torch.Tensor,
    x_range: list[float],
    y_range: list[float],
    distance: str,
    name: str = ENGLISH.nearest_prototype,
) -> go.Heatmap:
    """Which prototype each point of a grid is nearest to, shaded in the classes' colours."""
    xs = torch.linspace(x_range[0], x_range[1], GRID_POINTS, dtype=torch.float64)
    ys = torch.linspace(y_range[0], y_range[1], GRID_POINTS, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)
    nearest = pairwise_distance(grid, prototypes.double(), distance).argmin(dim=1)
    count = prototypes.shape[0]
    # one flat band of the colour scale per class, so that each label gets its own colour
    scale = []
    for label in range(count):
        scale += [[label / count, class_color(label)], [(label + 1) / count, class_color(label)]]
    return go.Heatmap(
        x=xs.tolist(),
        y=ys.tolist(),
        z=nearest.reshape(GRID_POINTS, GRID_POINTS).tolist(),
        zmin=-0.5,
        zmax=count - 0.5,
        colorscale=scale,
        opacity=0.18,
        showscale=False,
        hoverinfo="skip",
        name=name,
    )


def embedding_figure(
    episode: Episode,
    support_embeddings: torch.Tensor,
    query_embeddings: torch.Tensor,
    prototypes: torch.Tensor | None = None,
    query_predictions: torch.Tensor | None = None,
    *,
    region_distance: str | None = None,
    title: str | None = None,
    words: EpisodeWords = ENGLISH,
) -> go.Figure:
    """Support (diamonds), queries (dots, black crosses when wrong) and prototypes (stars).

    The stars are larger than the diamonds and drawn under them: in a 1-shot episode a
    prototype is its one support example, and both stay visible (a diamond on a star).

    Args:
        episode: gives the labels (``support_y``, ``query_y``) and N.
        support_embeddings: (N*K, D); query_embeddings: (N*Q, D).
        prototypes: (N, D) class prototypes, or None.
        query_predictions: predicted labels (N*Q,) or scores (N*Q, N), or None.
        region_distance: ``"euclidean"`` or ``"cosine"`` to shade the region each
            prototype wins (2-D embeddings only); None for none.

    Returns:
        With regions, a ``nearest prototype`` heatmap first; with prototypes, a trace
        ``prototypes``; then ``episode_points_figure``'s traces on the (projected) points.
    """
    if region_distance is not None and region_distance not in REGION_DISTANCES:
        raise ValueError(f"region_distance must be one of {REGION_DISTANCES} or None")
    groups = [support_embeddings, query_embeddings]
    if prototypes is not None:
        groups.append(prototypes)
    points = torch.cat([g.detach().cpu().double().flatten(1) for g in groups])
    dim = points.shape[1]
    if dim == 2:
        flat = points
        axis_titles = tuple(words.embedding_axis.format(n=n) for n in (1, 2))
    else:
        mean, directions, shares = principal_plane(points)
        flat = (points - mean) @ directions
        axis_titles = tuple(
            words.principal_axis.format(n=i + 1, share=f"{100 * s:.0f}")
            for i, s in enumerate(shares)
        )
    sizes = [g.shape[0] for g in groups]
    support_2d, query_2d, *rest = flat.float().split(sizes)
    picture = Episode(
        support_2d, episode.support_y.cpu(), query_2d, episode.query_y.cpu(),
        episode.n_way, episode.k_shot, episode.q_query,
    )  # fmt: skip
    fig = episode_points_figure(picture, query_predictions, words=words)
    if rest:
        points = len(fig.data)
        if region_distance is not None and dim == 2:
            x_range, y_range = _padded_ranges(flat)
            regions = _nearest_regions(
                rest[0], x_range, y_range, region_distance, words.nearest_prototype
            )
            fig.add_trace(regions)
            fig.update_xaxes(range=x_range)
            fig.update_yaxes(range=y_range)
        fig.add_trace(_prototypes_trace(rest[0], words))
        # behind the points: the regions, then the stars under the support diamonds
        fig.data = (*fig.data[points:], *fig.data[:points])
    fig.update_xaxes(title={"text": axis_titles[0]}, zeroline=False)
    fig.update_yaxes(title={"text": axis_titles[1]}, zeroline=False)
    fig = base_layout(fig, title, 500)
    # below the x axis title, not over it
    fig.update_layout(legend={"orientation": "h", "y": -0.22, "yanchor": "top"})
    return fig


def _prototypes_trace(prototypes_2d: torch.Tensor, words: EpisodeWords = ENGLISH) -> go.Scatter:
    count = prototypes_2d.shape[0]
    return go.Scatter(
        x=prototypes_2d[:, 0].tolist(),
        y=prototypes_2d[:, 1].tolist(),
        mode="markers",
        marker={
            "symbol": "star",
            "size": PROTOTYPE_SIZE,
            "color": [class_color(c) for c in range(count)],
            "line": {"width": 2, "color": "black"},
        },
        hovertext=[words.prototype.format(label=c) for c in range(count)],
        name=words.prototypes,
    )


def _padded_ranges(points: torch.Tensor, pad: float = 0.15) -> tuple[list[float], list[float]]:
    low, high = points.min(0).values, points.max(0).values
    span = (high - low).clamp_min(1e-6)
    low, high = low - pad * span, high + pad * span
    return [float(low[0]), float(high[0])], [float(low[1]), float(high[1])]
