"""Many examples in a learner's embedding space, for the Embedding space page.

Few traces whatever the number of classes (one per kind of mark), so that 500 points redraw
fast: ``nearest prototype`` lines (each query to the prototype it is nearest to, in the
embedding space), ``prototypes`` (large stars, under the rest), ``support`` (diamonds in the
class's colour), ``query right`` (dots) and ``query wrong`` (black crosses, as in every
episode picture); for a 2-D embedding drawn as it is, each prototype's region is shaded
behind them (``figures.embeddings``' regions).
Hovering a point shows its class and its image, drawn in text characters (a plotly hover
label cannot hold a picture).
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import torch

from metalearn_core.embedding_space import EmbeddedEpisode, Projection
from metalearn_core.figures.embeddings import REGION_DISTANCES, _nearest_regions, _padded_ranges
from metalearn_core.figures.style import (
    WRONG_POINT_COLOR,
    WRONG_POINT_SYMBOL,
    base_layout,
    class_color,
)
from metalearn_core.words import N_

ART_SIZE = 14  # characters per side of a hover image: 500 of them stay small
ART_SHADES = "\u00a0.:-=+*#%@"  # light to dark; a no-break space, which SVG text keeps
LINE_COLOR = "rgba(90, 90, 90, 0.35)"


@dataclass(frozen=True)
class SpaceWords:
    """Every word the figure shows (legend and hover), English by default; a page passes
    them in its language. ``{name}`` and ``{label}`` are filled in per point."""

    nearest_prototype: str = N_("nearest prototype")
    prototypes: str = N_("prototypes")
    support: str = N_("support")
    query: str = N_("query")
    query_right: str = N_("query right")
    query_wrong: str = N_("query wrong")
    regions: str = N_("prototype regions")
    class_name: str = N_("class {label}")
    point: str = N_("<b>{name}</b> (label {label}), {role}")
    nearest_is: str = N_("nearest prototype: {name}")
    own_class: str = N_("its own class")
    prototype: str = N_("prototype of <b>{name}</b> (label {label}): its support points' mean")


def image_art(examples: torch.Tensor, size: int = ART_SIZE) -> list[str]:
    """Each example as text for a hover label: images (M, C, H, W) as at most ``size`` lines
    of characters, ink dark (``@``) on a light page; other inputs (M, D) as coordinates.

    Images are averaged over channels, resized by area, scaled to their own range and
    inverted when their background (the majority) is dark, as the episode pictures are.
    Each pixel is two characters wide (characters are about twice as tall as wide).
    """
    if examples.dim() != 4:
        rows = examples.detach().cpu().flatten(1)[:, :8].tolist()
        return ["(" + ", ".join(f"{v:.2f}" for v in row) + ")" for row in rows]
    grey = examples.detach().float().cpu().mean(dim=1, keepdim=True)  # (M, 1, H, W)
    height, width = grey.shape[-2:]
    scale = min(1.0, size / max(height, width))
    shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    grey = torch.nn.functional.adaptive_avg_pool2d(grey, shape).flatten(1)  # (M, h*w)
    low, high = grey.min(1, keepdim=True).values, grey.max(1, keepdim=True).values
    grey = (grey - low) / (high - low).clamp_min(1e-12)
    dark_page = grey.median(1, keepdim=True).values < 0.5
    grey = torch.where(dark_page, grey, 1 - grey)  # ink is the minority: make it dark
    levels = (grey * (len(ART_SHADES) - 1)).round().long().view(-1, *shape).tolist()
    return [
        "<br>".join("".join(ART_SHADES[v] * 2 for v in row) for row in image) for image in levels
    ]


def _hover(
    labels: torch.Tensor,
    role: str,
    class_names: tuple[str, ...],
    images: list[str] | None,
    nearest: torch.Tensor | None = None,
    words: SpaceWords = SpaceWords(),
) -> list[str]:
    texts = []
    for i, label in enumerate(labels.tolist()):
        name = _class_name(label, class_names, words)
        text = words.point.format(name=name, label=label, role=role)
        if nearest is not None:
            said = int(nearest[i])
            text += "<br>" + words.nearest_is.format(
                name=words.own_class if said == label else f"{said}"
            )
        if images is not None:
            text += "<br>" + images[i]
        texts.append(text)
    return texts


def _class_name(label: int, class_names: tuple[str, ...], words: SpaceWords) -> str:
    return class_names[label] if label < len(class_names) else words.class_name.format(label=label)


def embedding_space_figure(
    support: torch.Tensor,
    support_y: torch.Tensor,
    query: torch.Tensor,
    query_y: torch.Tensor,
    prototypes: torch.Tensor,
    nearest: torch.Tensor,
    *,
    class_names: tuple[str, ...] = (),
    support_images: list[str] | None = None,
    query_images: list[str] | None = None,
    axis_titles: tuple[str, str] = ("embedding 1", "embedding 2"),
    region_distance: str | None = None,
    title: str | None = None,
    height: int = 520,
    words: SpaceWords = SpaceWords(),
) -> go.Figure:
    """The points of one embedding space in 2-D, with prototypes and each query's nearest one.

    Args:
        support: (N*K, 2) plotted support points; support_y: (N*K,) labels in 0..N-1.
        query: (N*Q, 2) plotted query points; query_y: (N*Q,).
        prototypes: (N, 2) where each class's prototype is drawn.
        nearest: (N*Q,) the prototype each query is nearest to (in the embedding space):
            right when it is the query's class; the query is joined to it by a line.
        class_names: a name per label, for the hover text.
        support_images, query_images: hover pictures, one string per point (``image_art``).
        region_distance: ``"euclidean"`` or ``"cosine"`` to shade the region each prototype
            wins; only for points drawn as they are (a 2-D embedding), where it is true.
        words: the legend's and the hover's words (``SpaceWords``), in the page's language.

    Returns:
        Traces ``nearest prototype`` (lines), ``prototypes``, ``support``, ``query right``,
        ``query wrong``; with regions, a heatmap ``prototype regions`` first (named by
        ``words``).
    """
    if region_distance is not None and region_distance not in REGION_DISTANCES:
        raise ValueError(f"region_distance must be one of {REGION_DISTANCES} or None")
    for name, points in (("support", support), ("query", query), ("prototypes", prototypes)):
        if points.dim() != 2 or points.shape[1] != 2:
            raise ValueError(f"{name} must be 2-D points (M, 2), got {tuple(points.shape)}")
    if nearest.shape != query_y.shape:
        raise ValueError(f"nearest {tuple(nearest.shape)} must match query_y's shape")
    support, query, prototypes = (p.detach().cpu().double() for p in (support, query, prototypes))
    support_y, query_y, nearest = (t.detach().cpu().long() for t in (support_y, query_y, nearest))
    fig = go.Figure()
    # lines first, so the marks sit on top of them
    line_x: list[float | None] = []
    line_y: list[float | None] = []
    for point, target in zip(query.tolist(), prototypes[nearest].tolist(), strict=True):
        line_x += [point[0], target[0], None]
        line_y += [point[1], target[1], None]
    fig.add_trace(
        go.Scatter(
            x=line_x, y=line_y, mode="lines", line={"color": LINE_COLOR, "width": 1},
            hoverinfo="skip", name=words.nearest_prototype,
        )
    )  # fmt: skip
    # the layout's hover alignment does not reach the traces: each sets its own
    hover = {"hovertemplate": "%{hovertext}<extra></extra>", "hoverlabel": {"align": "left"}}
    count = prototypes.shape[0]
    fig.add_trace(
        go.Scatter(
            x=prototypes[:, 0].tolist(),
            y=prototypes[:, 1].tolist(),
            mode="markers",
            marker={
                "symbol": "star",
                "size": 20,  # larger than the diamonds drawn over it: a 1-shot class shows both
                "color": [class_color(c) for c in range(count)],
                "line": {"width": 2, "color": "black"},
            },
            hovertext=[
                words.prototype.format(name=_class_name(c, class_names, words), label=c)
                for c in range(count)
            ],
            name=words.prototypes,
            **hover,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=support[:, 0].tolist(),
            y=support[:, 1].tolist(),
            mode="markers",
            marker={
                "symbol": "diamond",
                "size": 11,
                "color": [class_color(c) for c in support_y.tolist()],
                "line": {"width": 1, "color": "black"},
            },
            hovertext=_hover(support_y, words.support, class_names, support_images, words=words),
            name=words.support,
            **hover,
        )
    )
    right = nearest == query_y
    for is_right, name in ((True, words.query_right), (False, words.query_wrong)):
        chosen = (right == is_right).nonzero().flatten()
        images = [query_images[i] for i in chosen.tolist()] if query_images else None
        marker = (
            {"size": 7, "color": [class_color(c) for c in query_y[chosen].tolist()]}
            if is_right
            else {"symbol": WRONG_POINT_SYMBOL, "size": 9, "color": WRONG_POINT_COLOR}
        )
        fig.add_trace(
            go.Scatter(
                x=query[chosen, 0].tolist(),
                y=query[chosen, 1].tolist(),
                mode="markers",
                marker=marker,
                hovertext=_hover(
                    query_y[chosen], words.query, class_names, images, nearest[chosen], words
                ),
                name=name,
                **hover,
            )
        )
    if region_distance is not None:
        x_range, y_range = _padded_ranges(torch.cat([support, query, prototypes]))
        regions = _nearest_regions(prototypes, x_range, y_range, region_distance)
        regions.name = words.regions
        fig.add_trace(regions)
        fig.data = (fig.data[-1], *fig.data[:-1])  # behind the points
        fig.update_xaxes(range=x_range)
        fig.update_yaxes(range=y_range)
    fig.update_xaxes(title={"text": axis_titles[0]}, zeroline=False)
    fig.update_yaxes(title={"text": axis_titles[1]}, zeroline=False)
    fig = base_layout(fig, title, height)
    fig.update_layout(
        legend={"orientation": "h", "y": -0.18, "yanchor": "top"},
        hoverlabel={"font": {"family": "monospace", "size": 11}, "align": "left"},
    )
    return fig


def space_figure(
    space: EmbeddedEpisode,
    projection: Projection,
    *,
    class_names: tuple[str, ...] = (),
    images: list[str] | None = None,
    title: str | None = None,
    axis_titles: tuple[str, str] | None = None,
    words: SpaceWords = SpaceWords(),
) -> go.Figure:
    """``embedding_space_figure`` for one space and its projection; ``images``: one hover
    picture per example, support first (``image_art`` of the episode's support then query).
    Regions are shaded when the points are drawn as they are (a 2-D embedding layer).
    ``axis_titles``: the page's own wording (default: the projection's English titles)."""
    n_support = space.support.shape[0]
    return embedding_space_figure(
        projection.support,
        space.support_y,
        projection.query,
        space.query_y,
        projection.prototypes,
        space.nearest,
        class_names=class_names,
        support_images=images[:n_support] if images else None,
        query_images=images[n_support:] if images else None,
        axis_titles=axis_titles or projection.axis_titles,
        region_distance=space.distance if projection.as_is else None,
        title=title,
        words=words,
    )
