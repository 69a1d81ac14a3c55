"""Pictures of one episode: its examples, and the model's answers on them.

Pure builders: tensors in, ``plotly.graph_objects.Figure`` out, nothing from streamlit.
Every figure stays small (one image, a few traces, at most a few hundred points)
because the Train page redraws them several times a second. What a learner did inside
(inner steps, distances, attention, codes) is drawn by ``internals.py``.

Builders
    episode_grid_figure      support and query images, predictions right/wrong marked
    episode_points_figure    2-D inputs (blobs): support and query points
    regression_figure        sinusoid: true function, support/query points, adapted curves
    episode_picture          the Home page's episode, no predictions
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from metalearn_core.data.episodes import Episode
from metalearn_core.figures.style import (
    RIGHT_COLOR,
    RIGHT_MARK,
    WRONG_COLOR,
    WRONG_MARK,
    WRONG_POINT_COLOR,
    WRONG_POINT_SYMBOL,
    as_labels,
    base_layout,
    class_color,
)
from metalearn_core.figures.words import ENGLISH, EpisodeWords

SUPPORT_FRAME_COLOR = "#4d4d4d"
QUERY_FRAME_COLOR = "#4575b4"  # query frame when there are no predictions yet
_CELL_PAD = 3  # pixels of frame around each image in the mosaic
_GROUP_GAP = 12  # pixels between the support and the query block


# --------------------------------------------------------------------------- images


def _display_image(x: torch.Tensor) -> np.ndarray:
    """One input image (C, H, W) as (H, W) uint8 grey, dark ink on a white page.

    Each image is rescaled to its own range; if the background (the majority) is
    dark, the image is inverted so that every data set looks like ink on paper.
    """
    image = x.detach().float().cpu()
    if image.dim() == 3:
        image = image.mean(dim=0)  # (H, W)
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) / (high - low) if high > low else torch.zeros_like(image)
    if float(scaled.mean()) < 0.5:
        scaled = 1.0 - scaled
    return (scaled.numpy() * 255).round().astype(np.uint8)


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _png_data_uri(pixels: np.ndarray) -> str:
    """(H, W, 3) uint8 -> ``data:image/png;base64,...`` (kilobytes, not a JSON array)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_png_data_uri(uri: str) -> np.ndarray:
    """Inverse of the mosaic encoding: a ``data:image/png`` URI -> (H, W, 3) uint8."""
    payload = uri.split(",", 1)[1]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))


def _query_indices_to_show(episode: Episode, max_query_per_class: int) -> list[list[int]]:
    """Per class, the indices into ``query_x`` to draw (the first few of that class)."""
    labels = episode.query_y.tolist()
    shown: list[list[int]] = [[] for _ in range(episode.n_way)]
    for index, label in enumerate(labels):
        if len(shown[label]) < max_query_per_class:
            shown[label].append(index)
    return shown


def _support_indices(episode: Episode) -> list[list[int]]:
    per_class: list[list[int]] = [[] for _ in range(episode.n_way)]
    for index, label in enumerate(episode.support_y.tolist()):
        per_class[label].append(index)
    return per_class


def episode_grid_figure(
    episode: Episode,
    query_predictions: torch.Tensor | None = None,
    *,
    max_query_per_class: int = 5,
    title: str | None = None,
    words: EpisodeWords = ENGLISH,
) -> go.Figure:
    """Support and query images of an image episode, one class per row.

    Each row shows label i's K support images, a gap, then up to
    ``max_query_per_class`` of its query images. With predictions, every query
    image gets a green frame and ✓ when right, a red frame and ✗ when wrong.

    Args:
        episode: an image episode, ``support_x`` (N*K, C, H, W), ``query_x`` (N*Q, C, H, W).
        query_predictions: predicted labels (N*Q,) or logits (N*Q, N); optional.
        max_query_per_class: query images drawn per class (keeps the figure light).
        title: figure title.

    Returns:
        A figure with one ``go.Image`` trace (the mosaic, a PNG data URI) and, with
        predictions, one ``go.Scatter`` text trace per outcome (``right`` / ``wrong``).
    """
    if episode.support_x.dim() != 4:
        raise ValueError(
            f"episode_grid_figure needs images (N*K, C, H, W), got support_x of shape "
            f"{tuple(episode.support_x.shape)}"
        )
    predicted = as_labels(query_predictions, episode.query_y.shape[0])
    height, width = episode.support_x.shape[-2:]
    cell_h, cell_w = height + 2 * _CELL_PAD, width + 2 * _CELL_PAD
    support_rows = _support_indices(episode)
    query_rows = _query_indices_to_show(episode, max(1, max_query_per_class))
    k_cols = max(len(r) for r in support_rows)
    q_cols = max(len(r) for r in query_rows)
    query_left = k_cols * cell_w + _GROUP_GAP
    canvas = np.full((episode.n_way * cell_h, query_left + q_cols * cell_w, 3), 255, np.uint8)

    def paste(image: torch.Tensor, row: int, left: int, frame: str) -> None:
        top = row * cell_h
        canvas[top : top + cell_h, left : left + cell_w] = _hex_to_rgb(frame)
        grey = _display_image(image)
        inner = canvas[top + _CELL_PAD : top + _CELL_PAD + height, left + _CELL_PAD :]
        inner[:, :width] = grey[:, :, None]

    marks: dict[bool, tuple[list[float], list[float], list[str]]] = {
        True: ([], [], []),
        False: ([], [], []),
    }
    for row in range(episode.n_way):
        for col, index in enumerate(support_rows[row]):
            paste(episode.support_x[index], row, col * cell_w, SUPPORT_FRAME_COLOR)
        for col, index in enumerate(query_rows[row]):
            left = query_left + col * cell_w
            if predicted is None:
                paste(episode.query_x[index], row, left, QUERY_FRAME_COLOR)
                continue
            right = bool(predicted[index] == row)
            paste(episode.query_x[index], row, left, RIGHT_COLOR if right else WRONG_COLOR)
            xs, ys, hovers = marks[right]
            xs.append(left + cell_w - 6)
            ys.append(row * cell_h + 8)
            hovers.append(
                words.query_predicted.format(
                    index=index, label=row, predicted=int(predicted[index])
                )
            )

    fig = go.Figure(go.Image(source=_png_data_uri(canvas), hoverinfo="skip", name="episode"))
    for right, (xs, ys, hovers) in marks.items():
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="text",
                    text=[RIGHT_MARK if right else WRONG_MARK] * len(xs),
                    textfont={"size": 18, "color": RIGHT_COLOR if right else WRONG_COLOR},
                    hovertext=hovers,
                    hoverinfo="text",
                    name=words.right if right else words.wrong,
                    showlegend=False,
                )
            )
    names = episode.class_names or tuple(str(i) for i in range(episode.n_way))
    fig.update_xaxes(
        tickvals=[k_cols * cell_w / 2, query_left + q_cols * cell_w / 2],
        ticktext=[words.support_shot.format(k=episode.k_shot), words.query],
        side="top",
        showgrid=False,
        zeroline=False,
    )
    fig.update_yaxes(
        tickvals=[row * cell_h + cell_h / 2 for row in range(episode.n_way)],
        ticktext=[f"{row}: {_short(names[row])}" for row in range(episode.n_way)],
        showgrid=False,
        zeroline=False,
    )
    rows_height = max(220, min(900, 60 * episode.n_way + 60))
    base_layout(fig, title, rows_height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80 if title else 40, "b": 10})
    return fig


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1) :]


# --------------------------------------------------------------------------- points


def episode_points_figure(
    episode: Episode,
    query_predictions: torch.Tensor | None = None,
    *,
    title: str | None = None,
    words: EpisodeWords = ENGLISH,
) -> go.Figure:
    """2-D episode (blobs): support points as large diamonds, query points as dots.

    Args:
        episode: ``support_x`` (N*K, 2), ``query_x`` (N*Q, 2).
        query_predictions: predicted labels (N*Q,) or logits (N*Q, N); optional.

    Returns:
        One trace ``support <i>`` per class, then either one trace ``query <i>`` per
        class (no predictions) or two traces ``query right`` (dots in the true class's
        colour) and ``query wrong`` (black crosses, a colour no class has).
    """
    if episode.support_x.dim() != 2 or episode.support_x.shape[1] != 2:
        raise ValueError(
            f"episode_points_figure needs 2-D points (N*K, 2), got support_x of shape "
            f"{tuple(episode.support_x.shape)}"
        )
    support_x = episode.support_x.detach().cpu()
    query_x = episode.query_x.detach().cpu()
    support_y = episode.support_y.cpu()
    query_y = episode.query_y.cpu()
    fig = go.Figure()
    for label in range(episode.n_way):
        points = support_x[support_y == label]
        fig.add_trace(
            go.Scatter(
                x=points[:, 0].tolist(),
                y=points[:, 1].tolist(),
                mode="markers",
                marker={
                    "symbol": "diamond",
                    "size": 16,
                    "color": class_color(label),
                    "line": {"width": 2, "color": "black"},
                },
                name=words.support_class.format(label=label),
            )
        )
    predicted = as_labels(query_predictions, query_y.shape[0])
    if predicted is None:
        for label in range(episode.n_way):
            points = query_x[query_y == label]
            fig.add_trace(
                go.Scatter(
                    x=points[:, 0].tolist(),
                    y=points[:, 1].tolist(),
                    mode="markers",
                    marker={"size": 9, "color": class_color(label), "opacity": 0.8},
                    name=words.query_class.format(label=label),
                )
            )
    else:
        predicted_t = torch.tensor(predicted)
        right = predicted_t == query_y
        fig.add_trace(
            go.Scatter(
                x=query_x[right, 0].tolist(),
                y=query_x[right, 1].tolist(),
                mode="markers",
                marker={
                    "size": 9,
                    "color": [class_color(v) for v in query_y[right].tolist()],
                    "opacity": 0.8,
                },
                name=f"{words.query_right} {RIGHT_MARK}",
            )
        )
        wrong = ~right
        fig.add_trace(
            go.Scatter(
                x=query_x[wrong, 0].tolist(),
                y=query_x[wrong, 1].tolist(),
                mode="markers",
                marker={
                    "size": 13,
                    "symbol": WRONG_POINT_SYMBOL,
                    "color": WRONG_POINT_COLOR,
                    "line": {"width": 1.5, "color": "white"},  # seen on a shaded region too
                },
                hovertext=[
                    words.true_predicted.format(label=t, predicted=p)
                    for t, p in zip(
                        query_y[wrong].tolist(), predicted_t[wrong].tolist(), strict=True
                    )
                ],
                name=f"{words.query_wrong} {WRONG_MARK}",
            )
        )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return base_layout(fig, title, 420)


# --------------------------------------------------------------------------- regression


def regression_figure(
    episode: Episode,
    probe_x: torch.Tensor | None = None,
    true_y: torch.Tensor | None = None,
    step_predictions: Sequence[torch.Tensor] = (),
    *,
    probe_std: torch.Tensor | None = None,
    title: str | None = None,
    words: EpisodeWords = ENGLISH,
) -> go.Figure:
    """1-D regression episode (sinusoid) with the curve after each inner step.

    Args:
        episode: ``support_x`` (K, 1), ``support_y`` (K, 1), ``query_x`` (Q, 1), ``query_y`` (Q, 1).
        probe_x: (P, 1) inputs on a grid, where ``true_y`` and the predictions are drawn.
        true_y: (P, 1) the task's true function at ``probe_x``.
        step_predictions: predictions at ``probe_x`` after inner steps 0..k, each (P, 1).
            Step 0 is the meta-learned initialisation before any adaptation.
        probe_std: (P, 1) predictive standard deviation of the last prediction (e.g. a
            neural process); drawn as a band of ±2σ.

    Returns:
        Traces in order: ``true function`` (if given), ``±2σ`` (if ``probe_std``),
        ``step 0`` .. ``step k`` (light to dark; one curve alone is ``prediction``: a
        learner without inner steps), ``support``, ``query``.
    """
    fig = go.Figure()
    if (true_y is not None or step_predictions) and probe_x is None:
        raise ValueError("regression_figure needs probe_x to draw true_y or step_predictions")
    order = None
    if probe_x is not None:
        grid = probe_x.detach().cpu().reshape(-1)
        order = torch.argsort(grid)
        grid = grid[order].tolist()
    if true_y is not None and order is not None:
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=true_y.detach().cpu().reshape(-1)[order].tolist(),
                mode="lines",
                line={"color": "black", "width": 3, "dash": "dash"},
                name=words.true_function,
            )
        )
    steps = len(step_predictions)
    if probe_std is not None and steps and order is not None:
        mean = step_predictions[-1].detach().cpu().reshape(-1)[order]
        spread = 2.0 * probe_std.detach().cpu().reshape(-1)[order]
        band_y = (mean + spread).tolist() + (mean - spread).flip(0).tolist()
        fig.add_trace(
            go.Scatter(
                x=grid + grid[::-1],
                y=band_y,
                fill="toself",
                fillcolor="rgba(69,117,180,0.18)",
                line={"width": 0},
                hoverinfo="skip",
                name="±2σ",
            )
        )
    for step, prediction in enumerate(step_predictions):
        shade = 0.25 + 0.75 * (step / max(1, steps - 1))  # later steps darker
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=prediction.detach().cpu().reshape(-1)[order].tolist(),
                mode="lines",
                line={"color": f"rgba(69,117,180,{shade:.2f})", "width": 2 + (step == steps - 1)},
                name=words.step.format(step=step) if steps > 1 else words.prediction,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=episode.support_x.detach().cpu().reshape(-1).tolist(),
            y=episode.support_y.detach().cpu().reshape(-1).tolist(),
            mode="markers",
            marker={"size": 12, "color": "#ff7f0e", "line": {"width": 1.5, "color": "black"}},
            name=words.support,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=episode.query_x.detach().cpu().reshape(-1).tolist(),
            y=episode.query_y.detach().cpu().reshape(-1).tolist(),
            mode="markers",
            marker={"size": 7, "color": "#7f7f7f"},
            name=words.query,
        )
    )
    fig.update_xaxes(title="x")
    fig.update_yaxes(title="y")
    return base_layout(fig, title, 420)


def episode_picture(
    episode: Episode, *, title: str | None = None, words: EpisodeWords = ENGLISH
) -> go.Figure:
    """The Home page's picture: an episode's support and query sets, no predictions."""
    return episode_grid_figure(episode, None, max_query_per_class=3, title=title, words=words)
