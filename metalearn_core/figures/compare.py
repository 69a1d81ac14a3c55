"""Figures of a comparison: one line per learner, a colour per learner.

Pure builders: numbers in, ``plotly.graph_objects.Figure`` out. The Compare page draws the
live metrics with ``metric_lines_spec`` (one figure per metric, as plotly's JSON structure) and a scored comparison's
extra plots with ``scores_by_figure`` (accuracy against shots, ways or inner steps) and
``metric_lines_figure`` again (accuracy against wall-clock time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from metalearn_core.figures.training import bucket_means

# one colour per learner, in the order they were chosen (colour-blind safe: Okabe-Ito)
LEARNER_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
MAX_POINTS = 300  # per line: the live redraw stays cheap however long the run


def learner_color(index: int) -> str:
    return LEARNER_COLORS[index % len(LEARNER_COLORS)]


def metric_lines_figure(
    lines: Mapping[str, tuple[Sequence[float], Sequence[float | None]]], **kwargs: Any
) -> go.Figure:
    """``metric_lines_spec`` (same arguments) as a ``go.Figure``; its lines as numpy arrays,
    which plotly validates in one go (a list is checked value by value)."""
    spec = metric_lines_spec(lines, **kwargs)
    for trace in spec["data"]:
        trace["x"] = np.asarray(trace["x"], dtype=np.float64)
        trace["y"] = np.asarray(trace["y"], dtype=np.float64)
    return go.Figure(spec)


def metric_lines_spec(
    lines: Mapping[str, tuple[Sequence[float], Sequence[float | None]]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    percent: bool = False,
    chance: float | None = None,
    chance_label: str = "chance",
    height: int = 300,
) -> dict[str, Any]:
    """One line per learner: ``lines`` maps a learner's name to its (x, y) values.

    Points whose y is None or NaN are left out; each line keeps at most ``MAX_POINTS``
    bucket means. ``percent``: y in [0, 1] drawn as a percentage; ``chance``: a dotted
    horizontal line at that value (1/N for accuracy), named ``chance_label``.

    Returns plotly's JSON structure of the figure (``{"data": [...], "layout": {...}}``,
    plain dicts and lists of Python numbers and text): the live page sends it as it is
    after every tick, without building and validating a ``go.Figure``.
    """
    traces = []
    for index, (name, (x, y)) in enumerate(lines.items()):
        if len(x) != len(y):
            raise ValueError(f"{name}: x has {len(x)} values but y has {len(y)}")
        kept = [(a, b) for a, b in zip(x, y, strict=True) if b is not None and b == b]
        xs, ys = bucket_means([a for a, _ in kept], [b for _, b in kept], MAX_POINTS)
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "name": name,
                "mode": "lines+markers" if len(xs) <= 30 else "lines",
                "line": {"color": learner_color(index), "width": 2},
                "marker": {"size": 5},
            }
        )
    layout = _layout(title, x_title, y_title, percent, height)
    if chance is not None:
        layout["shapes"] = [
            {
                "type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y",
                "y0": chance, "y1": chance, "line": {"dash": "dot", "color": "#888"},
            }
        ]  # fmt: skip
        layout["annotations"] = [
            {
                "text": chance_label, "xref": "x domain", "x": 1, "xanchor": "right",
                "yref": "y", "y": chance, "yanchor": "bottom", "showarrow": False,
            }
        ]  # fmt: skip
    return {"data": traces, "layout": layout}


def scores_by_figure(
    rows: Mapping[str, Sequence[Mapping]],
    *,
    key: str,
    title: str,
    x_title: str,
    y_title: str,
    percent: bool = True,
    height: int = 300,
) -> go.Figure:
    """Mean score with its 95% interval as error bars against ``key`` (``k_shot``,
    ``n_way``, ``steps``), one line per learner; rows without a mean (a shape the data
    could not give) are left out."""
    figure = go.Figure()
    for index, (name, learner_rows) in enumerate(rows.items()):
        kept = [row for row in learner_rows if row.get("mean") is not None]
        figure.add_trace(
            go.Scatter(
                x=[row[key] for row in kept],
                y=[row["mean"] for row in kept],
                error_y={"type": "data", "array": [row.get("ci95") or 0.0 for row in kept]},
                name=name,
                mode="lines+markers",
                line={"color": learner_color(index), "width": 2},
            )
        )
    return _laid_out(figure, title, x_title, y_title, percent, height)


def _laid_out(
    figure: go.Figure, title: str, x_title: str, y_title: str, percent: bool, height: int
) -> go.Figure:
    """The layout every comparison chart shares: title, axes, legend below the plot."""
    figure.update_layout(_layout(title, x_title, y_title, percent, height))
    return figure


def _layout(title: str, x_title: str, y_title: str, percent: bool, height: int) -> dict:
    yaxis: dict = {"title": {"text": y_title}}
    if percent:
        yaxis["tickformat"] = ".0%"
    return {
        "title": {"text": title, "font": {"size": 14}},
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.25},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": yaxis,
    }
