"""Learning curves for the live Train page.

Pure builders: numbers in, ``plotly.graph_objects.Figure`` out. The page redraws
this figure after every training tick, so long histories are reduced to at most
``max_points`` bucket means per line: the curve the class sees stays smooth and
the redraw stays cheap however long the run.

``learning_curves_spec`` returns the same figure as plotly's JSON structure (plain
dicts and lists): the live page sends that after each tick, since building and
validating a ``go.Figure`` of it costs ~4 ms and serialising it ~1 ms (measured),
against ~0.3 ms for the plain structure, on a redraw budget of a few milliseconds.
``learning_curves_figure`` is that structure as a (validated) ``go.Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import plotly.graph_objects as go

from metalearn_core.figures.words import ENGLISH_CURVES, CurveWords

Metric = Literal["accuracy", "mse"]

TRAIN_COLOR = "#4575b4"
VAL_COLOR = "#d73027"
BAND_FILL = "rgba(215,48,39,0.18)"


def bucket_means(
    x: Sequence[float], y: Sequence[float], max_points: int
) -> tuple[list[float], list[float]]:
    """Reduce a curve to at most ``max_points`` points by averaging consecutive buckets.

    Bucket b covers indices [b*n/m, (b+1)*n/m); its point is (mean x, mean y).
    A curve of ``max_points`` points or fewer is returned unchanged.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} values but y has {len(y)}")
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    n = len(x)
    if n <= max_points:
        return [float(v) for v in x], [float(v) for v in y]
    out_x, out_y = [], []
    for bucket in range(max_points):
        start, stop = bucket * n // max_points, (bucket + 1) * n // max_points
        out_x.append(sum(x[start:stop]) / (stop - start))
        out_y.append(sum(y[start:stop]) / (stop - start))
    return out_x, out_y


def trailing_mean(values: Sequence[float], window: int) -> list[float]:
    """Mean of each value and up to ``window - 1`` values before it (smooths noisy steps)."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    out, total = [], 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        out.append(total / min(index + 1, window))
    return out


def _band_polygon(
    x: Sequence[float], mean: Sequence[float], half_width: Sequence[float]
) -> tuple[list[float], list[float]]:
    """Closed polygon around mean ± half_width: upper edge forwards, lower edge back."""
    upper = [m + h for m, h in zip(mean, half_width, strict=True)]
    lower = [m - h for m, h in zip(mean, half_width, strict=True)]
    return list(x) + list(x)[::-1], upper + lower[::-1]


def learning_curves_figure(*args: Any, **kwargs: Any) -> go.Figure:
    """``learning_curves_spec`` (same arguments) as a ``go.Figure``."""
    return go.Figure(learning_curves_spec(*args, **kwargs))


def learning_curves_spec(
    train_episodes: Sequence[float],
    train_loss: Sequence[float],
    train_accuracy: Sequence[float] | None = None,
    val_episodes: Sequence[float] = (),
    val_mean: Sequence[float] = (),
    val_ci95: Sequence[float] = (),
    *,
    metric: Metric = "accuracy",
    chance: float | None = None,
    max_points: int = 120,
    smooth: int = 5,
    height: int = 360,
    train_name: str | None = None,
    words: CurveWords = ENGLISH_CURVES,
) -> dict[str, Any]:
    """Training loss on the left, accuracy (or MSE) on the right, validation with its band.

    Args:
        train_episodes: episodes seen at each training step (x axis), length T.
        train_loss: mean query loss of each step (cross-entropy, or MSE for regression), T.
        train_accuracy: mean query accuracy in [0, 1] of each step, T; None for regression.
        val_episodes, val_mean, val_ci95: validation points, each length V: episodes seen,
            mean accuracy in [0, 1] (or MSE when ``metric="mse"``), and the half-width of
            its 95% confidence interval, 1.96·σ/√n.
        metric: ``"accuracy"`` draws percentages, ``"mse"`` raw errors.
        chance: accuracy of guessing (1/N), drawn as a dashed line; None for none.
        max_points: most points per training line (bucket means beyond that).
        smooth: training lines show the trailing mean of this many points (1: raw);
            a single episode's accuracy jumps by 1/(N*Q), too noisy to read.
        train_name: what the training lines are measured on, in their names
            (``"pretraining batch"`` for a learner that pretrains on all classes);
            default ``words.train``.
        words: every word the figure shows (``CurveWords``), English by default.

    Returns:
        A two-panel figure as plotly's JSON structure (``{"data": [...], "layout": {...}}``,
        plain dicts and lists of Python numbers and text). Traces are named ``train loss`` and ``train accuracy`` (with
        ``train_name`` for "train"; both always there, empty and out of the legend before
        the first step, so that each panel has its axes), ``validation band`` and
        ``validation (95% CI)`` (only with validation points; a regression run without
        any yet has an empty ``validation`` line instead, for the same reason).
    """
    if len(val_episodes) != len(val_mean) or len(val_mean) != len(val_ci95):
        raise ValueError(
            f"validation lengths differ: {len(val_episodes)} episodes, {len(val_mean)} means, "
            f"{len(val_ci95)} intervals"
        )
    train_name = train_name or words.train
    right_title = words.accuracy if metric == "accuracy" else words.validation_mse
    loss_title = words.training_loss if metric == "accuracy" else words.training_mse
    scale = 100.0 if metric == "accuracy" else 1.0
    # The training lines are there even before the first step (empty, out of the legend):
    # plotly.js draws a panel's axes only when some trace lives on them.
    x, y = bucket_means(train_episodes, train_loss, max_points)
    traces: list[dict[str, Any]] = [
        _line(
            x,
            trailing_mean(y, smooth),
            words.train_loss.format(name=train_name),
            TRAIN_COLOR,
            LEFT,
        )
    ]
    if train_accuracy is not None:
        x, y = bucket_means(train_episodes, train_accuracy, max_points)
        accuracy = [scale * v for v in trailing_mean(y, smooth)]
        name = words.train_accuracy.format(name=train_name)
        traces.append(_line(x, accuracy, name, TRAIN_COLOR, RIGHT))
    elif not val_mean:  # regression before its first validation: the right panel's axes
        traces.append(_line([], [], words.validation, VAL_COLOR, RIGHT))
    if val_mean:
        x = [float(v) for v in val_episodes]
        mean = [scale * float(v) for v in val_mean]
        half = [scale * float(v) for v in val_ci95]
        band_x, band_y = _band_polygon(x, mean, half)
        traces.append(
            {
                "type": "scatter",
                "x": band_x,
                "y": band_y,
                "fill": "toself",
                "fillcolor": BAND_FILL,
                "mode": "lines",
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": words.validation_band,
                "showlegend": False,
                **RIGHT,
            }
        )
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": mean,
                "mode": "lines+markers",
                "line": {"color": VAL_COLOR, "width": 3},
                "marker": {"size": 8},
                "name": words.validation_ci,
                **RIGHT,
            }
        )
    shapes, chance_label = [], {}
    if chance is not None and metric == "accuracy":
        shapes.append(
            {
                "type": "line",
                "xref": "x2 domain",
                "yref": "y2",
                "x0": 0,
                "x1": 1,
                "y0": 100.0 * chance,
                "y1": 100.0 * chance,
                "line": {"dash": "dash", "color": "#7f7f7f"},
                "name": "chance",
            }
        )
        chance_label = {
            "text": words.chance,
            "xref": "x2 domain",
            "yref": "y2",
            "x": 1.0,
            "y": 100.0 * chance,
            "xanchor": "right",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"color": "#7f7f7f", "size": 12},
            "name": "chance",
        }
    # Two panels laid out by hand: make_subplots costs ~60 ms per call (measured), and
    # this figure is rebuilt after every training tick.
    layout = {
        "xaxis": {"domain": [0.0, 0.45], "title": {"text": words.episodes}},
        "yaxis": {"anchor": "x", "automargin": True},
        "xaxis2": {"domain": [0.55, 1.0], "anchor": "y2", "title": {"text": words.episodes}},
        "yaxis2": {"anchor": "x2", "automargin": True},
        "annotations": [
            _panel_title(loss_title, 0.225),
            _panel_title(right_title, 0.775),
            *([chance_label] if shapes else []),
        ],
        "shapes": shapes,
        "font": {"size": 16},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {"orientation": "h", "y": -0.3},
        "uirevision": "learning-curves",  # keep zoom and hover state across live redraws
    }
    if metric == "accuracy":
        layout["yaxis2"]["range"] = [0, 100]
    if not train_loss and not val_mean:
        layout["annotations"].append(waiting_note(words.waiting))
    return {"data": traces, "layout": layout}


def waiting_note(text: str) -> dict:
    """A grey note across the middle of a chart that has nothing to show yet."""
    return {
        "text": text,
        "x": 0.5,
        "y": 0.5,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "font": {"color": "#7f7f7f"},
        "name": "waiting",
    }


LEFT = {"xaxis": "x", "yaxis": "y"}
RIGHT = {"xaxis": "x2", "yaxis": "y2"}


def _line(x: list[float], y: list[float], name: str, color: str, axes: dict) -> dict[str, Any]:
    return {
        "type": "scatter", "x": x, "y": y, "mode": "lines",
        "line": {"color": color, "width": 2}, "name": name, "showlegend": bool(x), **axes,
    }  # fmt: skip


def _panel_title(text: str, x: float) -> dict:
    return {
        "text": f"<b>{text}</b>",
        "x": x,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "center",
        "yanchor": "bottom",
        "showarrow": False,
    }
