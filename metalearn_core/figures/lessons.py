"""The Learn pages' figures: data in, plotly Figure out.

Every text a student reads in a figure (title, axis, legend) is an argument, so that the
page passes it in the student's language; the defaults are English.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from metalearn_core.figures.style import base_layout, class_color

TRUE_COLOR = "#555555"
BEFORE_COLOR = "#9e9e9e"
METHOD_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#d62728")


def _np(values: torch.Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64).reshape(-1)


def curves_figure(
    x: torch.Tensor,
    curves: Sequence[tuple[str, torch.Tensor]],
    *,
    points: Sequence[tuple[str, torch.Tensor, torch.Tensor]] = (),
    title: str | None = None,
    x_label: str = "x",
    y_label: str = "y",
    reference_first: bool = True,
    height: int = 380,
) -> go.Figure:
    """Lines over a common x and marked points; with ``reference_first`` the first curve is
    drawn dotted grey (the true function), the others in the methods' colours.

    Trace order: the curves in order, then the point sets in order.
    """
    fig = go.Figure()
    xs = _np(x)
    for index, (name, values) in enumerate(curves):
        colour_index = index - 1 if reference_first else index
        line = (
            {"color": TRUE_COLOR, "dash": "dot", "width": 2}
            if reference_first and index == 0
            else {"color": METHOD_COLORS[colour_index % len(METHOD_COLORS)], "width": 3}
        )
        fig.add_trace(go.Scatter(x=xs, y=_np(values), mode="lines", name=name, line=line))
    for index, (name, px, py) in enumerate(points):
        fig.add_trace(
            go.Scatter(
                x=_np(px),
                y=_np(py),
                mode="markers",
                name=name,
                marker={"size": 10, "symbol": "circle" if index == 0 else "diamond-open",
                        "color": "#000000" if index == 0 else "#d62728"},
            )
        )  # fmt: skip
    base_layout(fig, title, height)
    fig.update_xaxes(title=x_label)
    fig.update_yaxes(title=y_label)
    return fig


def loss_lines_figure(
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str | None = None,
    x_label: str = "step",
    y_label: str = "loss",
    reference: tuple[str, float] | None = None,
    x_values: Sequence[float] | None = None,
    height: int = 320,
) -> go.Figure:
    """One line per named series (an optional dashed horizontal reference last)."""
    fig = go.Figure()
    for index, (name, values) in enumerate(series):
        ys = _np(values)
        xs = np.arange(1, len(ys) + 1) if x_values is None else _np(x_values)
        fig.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", name=name,
                       line={"color": METHOD_COLORS[index % len(METHOD_COLORS)], "width": 2})
        )  # fmt: skip
    if reference is not None:
        fig.add_hline(
            y=reference[1], line_dash="dash", annotation_text=reference[0], line_color=TRUE_COLOR
        )
    base_layout(fig, title, height)
    fig.update_xaxes(title=x_label)
    fig.update_yaxes(title=y_label)
    return fig


def attention_bars_figure(
    support_names: Sequence[str],
    support_labels: Sequence[int],
    weights: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str | None = None,
    y_label: str = "weight",
    height: int = 320,
) -> go.Figure:
    """Grouped bars: one group per support example, one bar per weighting (cosine, softmax)."""
    fig = go.Figure()
    for index, (name, values) in enumerate(weights):
        fig.add_trace(
            go.Bar(x=list(support_names), y=_np(values), name=name,
                   marker={"color": [class_color(label) for label in support_labels],
                           "pattern": {"shape": "" if index == 0 else "/"}})
        )  # fmt: skip
    base_layout(fig, title, height)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=y_label)
    return fig


def plane_figure(
    support: torch.Tensor,
    support_labels: Sequence[int],
    *,
    query: torch.Tensor | None = None,
    centres: torch.Tensor | None = None,
    centre_labels: Sequence[int] | None = None,
    regions: tuple[torch.Tensor, torch.Tensor] | None = None,
    extent: float = 3.0,
    names: dict[str, str] | None = None,
    title: str | None = None,
    height: int = 460,
) -> go.Figure:
    """Support points coloured by class, optional prototypes (stars), query (black cross) and
    the nearest-prototype regions.

    Trace order: regions, support points, prototypes, query (each only if given).
    ``centre_labels`` gives each prototype's class (default 0, 1, ...: every class has one);
    ``regions`` holds class numbers too.
    ``names`` gives the legend's words: keys "support", "prototype", "query", "class".
    """
    words = {"support": "support", "prototype": "prototype", "query": "query", "class": "class"}
    words.update(names or {})
    fig = go.Figure()
    labels = [int(v) for v in support_labels]
    n_way = max([*labels, *(centre_labels or [])], default=-1) + 1
    if regions is not None:
        axis, grid = _np(regions[0]), regions[1].detach().cpu().numpy()
        colours = [class_color(k) for k in range(n_way)] or ["#ffffff"]
        scale = [[k / max(1, n_way - 1), colours[k]] for k in range(len(colours))]
        if len(scale) == 1:
            scale.append([1.0, colours[0]])
        fig.add_trace(
            go.Heatmap(x=axis, y=axis, z=grid, colorscale=scale, zmin=0, zmax=max(1, n_way - 1),
                       opacity=0.18, showscale=False, hoverinfo="skip", name="regions")
        )  # fmt: skip
    points = support.detach().cpu().numpy().reshape(-1, 2)
    fig.add_trace(
        go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers", name=words["support"],
                   text=[f"{words['class']} {k}" for k in labels],
                   marker={"size": 13, "color": [class_color(k) for k in labels],
                           "line": {"width": 1, "color": "#000000"}})
    )  # fmt: skip
    if centres is not None:
        c = centres.detach().cpu().numpy()
        classes = range(len(c)) if centre_labels is None else [int(k) for k in centre_labels]
        fig.add_trace(
            go.Scatter(x=c[:, 0], y=c[:, 1], mode="markers", name=words["prototype"],
                       marker={"size": 22, "symbol": "star",
                               "color": [class_color(k) for k in classes],
                               "line": {"width": 1.5, "color": "#000000"}})
        )  # fmt: skip
    if query is not None:
        q = query.detach().cpu().numpy().reshape(-1, 2)
        fig.add_trace(
            go.Scatter(x=q[:, 0], y=q[:, 1], mode="markers", name=words["query"],
                       marker={"size": 16, "symbol": "x", "color": "#000000"})
        )  # fmt: skip
    base_layout(fig, title, height)
    fig.update_xaxes(range=[-extent, extent], constrain="domain", zeroline=True)
    fig.update_yaxes(range=[-extent, extent], scaleanchor="x", scaleratio=1, zeroline=True)
    return fig


def gan_points_figure(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    extent: float,
    real_name: str = "real",
    fake_name: str = "generated",
    title: str | None = None,
    height: int = 380,
) -> go.Figure:
    """Real and generated 2-D points. Trace order: real, generated."""
    fig = go.Figure()
    for name, values, colour in ((real_name, real, "#1a9850"), (fake_name, fake, "#7b3294")):
        v = values.detach().cpu().numpy()
        fig.add_trace(
            go.Scatter(x=v[:, 0], y=v[:, 1], mode="markers", name=name,
                       marker={"size": 4, "color": colour, "opacity": 0.6})
        )  # fmt: skip
    base_layout(fig, title, height)
    fig.update_xaxes(range=[-extent, extent], constrain="domain")
    fig.update_yaxes(range=[-extent, extent], scaleanchor="x", scaleratio=1)
    return fig


MAX_CLICK_GRID_POINTS = 5000  # every grid point travels to the browser with the figure


def add_click_grid(
    fig: go.Figure,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    columns: int = 41,
    rows: int = 31,
) -> go.Figure:
    """Cover the plot with an invisible grid of clickable points (the last trace).

    A plotly click selects a *point*; a click on empty space selects nothing. With the
    grid every click lands on (or next to) a grid point, and the chart's selection event
    says where (``studio_ui.plot_clicks``).
    """
    if not (2 <= columns and 2 <= rows and columns * rows <= MAX_CLICK_GRID_POINTS):
        raise ValueError(
            f"a click grid has 2 or more columns and rows and at most "
            f"{MAX_CLICK_GRID_POINTS} points, got {columns} x {rows}"
        )
    xs = np.linspace(x_range[0], x_range[1], columns)
    ys = np.linspace(y_range[0], y_range[1], rows)
    gx, gy = np.meshgrid(xs, ys)
    invisible = {"color": "rgba(0, 0, 0, 0)", "size": 10}
    fig.add_trace(
        go.Scatter(x=gx.reshape(-1), y=gy.reshape(-1), mode="markers", name="click grid",
                   marker=invisible, hoverinfo="none", showlegend=False,
                   selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}})
    )  # fmt: skip
    return fig
