"""Pictures of one episode and of what a learner did with it.

Pure builders: tensors in, ``plotly.graph_objects.Figure`` out, nothing from streamlit.
Every figure stays small (one image, a few traces, at most a few hundred points)
because the Train page redraws them several times a second.

Builders
    episode_grid_figure      support and query images, predictions right/wrong marked
    episode_points_figure    2-D inputs (blobs): support and query points
    regression_figure        sinusoid: true function, support/query points, adapted curves
    inner_steps_figure       query loss (and accuracy) after inner steps 0..k
    distances_heatmap        ProtoNet: each query's distance to each prototype
    attention_heatmap        Matching Networks: each query's attention over the support set
    codes_heatmap            Conditional Neural Process: support codes r_i and their mean r
    detail_figure            any other 1-D / 2-D tensor in ``Adaptation.details``
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

# Right and wrong also differ by symbol (✓/✗), never by colour alone.
RIGHT_COLOR = "#1a9850"
WRONG_COLOR = "#d73027"
SUPPORT_FRAME_COLOR = "#4d4d4d"
QUERY_FRAME_COLOR = "#4575b4"  # query frame when there are no predictions yet
RIGHT_MARK, WRONG_MARK = "✓", "✗"

# 20 distinguishable class colours (Tableau 10 + its light half), enough for 20-way.
CLASS_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip

FONT = {"size": 16}  # readable when projected in a classroom
_CELL_PAD = 3  # pixels of frame around each image in the mosaic
_GROUP_GAP = 12  # pixels between the support and the query block


def class_color(label: int) -> str:
    """Colour of class ``label`` (cycles after 20 classes)."""
    return CLASS_COLORS[int(label) % len(CLASS_COLORS)]


def _base_layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(
        # No template here: the app's theme styles the figure, and copying a named
        # template costs ~50 ms per figure (measured), too much for live redraws.
        title={"text": title} if title else None,
        font=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
    )
    return fig


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
    predicted = _as_labels(query_predictions, episode.query_y.shape[0])
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
            hovers.append(f"query {index}: true {row}, predicted {int(predicted[index])}")

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
                    name="right" if right else "wrong",
                    showlegend=False,
                )
            )
    names = episode.class_names or tuple(str(i) for i in range(episode.n_way))
    fig.update_xaxes(
        tickvals=[k_cols * cell_w / 2, query_left + q_cols * cell_w / 2],
        ticktext=[f"support ({episode.k_shot}-shot)", "query"],
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
    _base_layout(fig, title, rows_height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80 if title else 40, "b": 10})
    return fig


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1) :]


def _as_labels(predictions: torch.Tensor | None, count: int) -> list[int] | None:
    """Logits (M, N) or labels (M,) -> a list of M predicted labels."""
    if predictions is None:
        return None
    predictions = predictions.detach().cpu()
    labels = predictions.argmax(dim=-1) if predictions.dim() == 2 else predictions
    if labels.shape[0] != count:
        raise ValueError(f"got {labels.shape[0]} predictions for {count} query examples")
    return [int(v) for v in labels.tolist()]


# --------------------------------------------------------------------------- points


def episode_points_figure(
    episode: Episode,
    query_predictions: torch.Tensor | None = None,
    *,
    title: str | None = None,
) -> go.Figure:
    """2-D episode (blobs): support points as large diamonds, query points as dots.

    Args:
        episode: ``support_x`` (N*K, 2), ``query_x`` (N*Q, 2).
        query_predictions: predicted labels (N*Q,) or logits (N*Q, N); optional.

    Returns:
        One trace ``support <i>`` per class, then either one trace ``query <i>`` per
        class (no predictions) or two traces ``query right`` (dots in the true class's
        colour) and ``query wrong`` (red crosses).
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
                name=f"support {label}",
            )
        )
    predicted = _as_labels(query_predictions, query_y.shape[0])
    if predicted is None:
        for label in range(episode.n_way):
            points = query_x[query_y == label]
            fig.add_trace(
                go.Scatter(
                    x=points[:, 0].tolist(),
                    y=points[:, 1].tolist(),
                    mode="markers",
                    marker={"size": 9, "color": class_color(label), "opacity": 0.8},
                    name=f"query {label}",
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
                name=f"query right {RIGHT_MARK}",
            )
        )
        wrong = ~right
        fig.add_trace(
            go.Scatter(
                x=query_x[wrong, 0].tolist(),
                y=query_x[wrong, 1].tolist(),
                mode="markers",
                marker={"size": 12, "symbol": "x", "color": WRONG_COLOR},
                hovertext=[
                    f"true {t}, predicted {p}"
                    for t, p in zip(
                        query_y[wrong].tolist(), predicted_t[wrong].tolist(), strict=True
                    )
                ],
                name=f"query wrong {WRONG_MARK}",
            )
        )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return _base_layout(fig, title, 420)


# --------------------------------------------------------------------------- regression


def regression_figure(
    episode: Episode,
    probe_x: torch.Tensor | None = None,
    true_y: torch.Tensor | None = None,
    step_predictions: Sequence[torch.Tensor] = (),
    *,
    probe_std: torch.Tensor | None = None,
    title: str | None = None,
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
                name="true function",
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
                name=f"step {step}" if steps > 1 else "prediction",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=episode.support_x.detach().cpu().reshape(-1).tolist(),
            y=episode.support_y.detach().cpu().reshape(-1).tolist(),
            mode="markers",
            marker={"size": 12, "color": "#ff7f0e", "line": {"width": 1.5, "color": "black"}},
            name="support",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=episode.query_x.detach().cpu().reshape(-1).tolist(),
            y=episode.query_y.detach().cpu().reshape(-1).tolist(),
            mode="markers",
            marker={"size": 7, "color": "#7f7f7f"},
            name="query",
        )
    )
    fig.update_xaxes(title="x")
    fig.update_yaxes(title="y")
    return _base_layout(fig, title, 420)


# --------------------------------------------------------------------------- learner internals


def inner_steps_figure(
    losses: Sequence[float],
    accuracies: Sequence[float] | None = None,
    *,
    loss_name: str = "query loss",
    title: str | None = None,
) -> go.Figure:
    """Query loss (bars, left axis) and accuracy (line, right axis) after inner steps 0..k.

    Returns:
        Trace 0: ``go.Bar`` of the losses at x = 0..k; trace 1 (if accuracies are given):
        ``go.Scatter`` of the accuracies in percent on the second y axis.
    """
    steps = list(range(len(losses)))
    fig = go.Figure(
        go.Bar(x=steps, y=[float(v) for v in losses], name=loss_name, marker_color="#4575b4")
    )
    if accuracies is not None:
        if len(accuracies) != len(losses):
            raise ValueError(f"{len(accuracies)} accuracies for {len(losses)} losses")
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=[100.0 * float(v) for v in accuracies],
                mode="lines+markers",
                marker={"size": 10},
                line={"color": RIGHT_COLOR, "width": 3},
                name="query accuracy (%)",
                yaxis="y2",
            )
        )
        fig.update_layout(
            yaxis2={
                "title": {"text": "accuracy (%)", "font": {"color": RIGHT_COLOR}},
                "overlaying": "y",
                "side": "right",
                "range": [0, 100],
                "tickmode": "linear",  # 0, 25, ... 100, not the loss axis's grid
                "dtick": 25,
                "showgrid": False,
                "automargin": True,
            }
        )
    # Every step labelled while they fit; beyond that, labels every few steps.
    fig.update_layout(
        xaxis={"title": {"text": "inner step"}, "tickmode": "linear", "tick0": 0,
               "dtick": 1 if len(steps) <= 12 else 5},
        yaxis={"title": {"text": loss_name}, "automargin": True, "rangemode": "tozero"},
    )  # fmt: skip
    fig = _base_layout(fig, title, 320)
    # Above the plot: below it, the legend collided with the axis title.
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"})
    fig.update_layout(margin={"t": 90 if title else 40})
    return fig


def _query_row_labels(query_y: torch.Tensor, predicted: list[int]) -> list[str]:
    return [
        f"q{i} · {t} {RIGHT_MARK if p == t else WRONG_MARK}"
        for i, (t, p) in enumerate(zip(query_y.tolist(), predicted, strict=True))
    ]


def _heatmap_height(rows: int) -> int:
    return max(300, min(900, 22 * rows + 120))


def distances_heatmap(
    distances: torch.Tensor,
    query_y: torch.Tensor,
    *,
    max_queries: int = 30,
    title: str | None = None,
) -> go.Figure:
    """ProtoNet: squared distance from each query to each class prototype.

    A query is assigned to its nearest prototype, ``argmin_c d(f(x), c_c)``; that cell
    carries ✓ (right) or ✗ (wrong), and each row label names the true class.

    Args:
        distances: (N*Q, N) distances, query i to prototype c.
        query_y: (N*Q,) true labels.
        max_queries: rows drawn (the first queries, spread over classes by the episode order).

    Returns:
        Trace 0: ``go.Heatmap`` (rows = queries, columns = prototypes, darker = nearer);
        trace 1: ``go.Scatter`` text marks at each row's nearest prototype.
    """
    rows = _spread_rows(query_y, max_queries)
    values = distances.detach().cpu()[rows]
    truth = query_y.detach().cpu()[rows]
    predicted = values.argmin(dim=1).tolist()
    return _assignment_heatmap(
        values,
        truth,
        predicted,
        x_labels=[f"proto {c}" for c in range(values.shape[1])],
        colorscale="Blues_r",
        colorbar_title="distance",
        title=title,
    )


def attention_heatmap(
    attention: torch.Tensor,
    support_y: torch.Tensor,
    query_y: torch.Tensor,
    *,
    predicted: torch.Tensor | None = None,
    max_queries: int = 30,
    title: str | None = None,
) -> go.Figure:
    """Matching Networks: each query's attention a(x̂, x_i) over the support set.

    The prediction is ``ŷ = Σ_i a(x̂, x_i) y_i``: the class with the most attention.
    The mark (✓/✗) sits on each row's most-attended support example; the row label
    says whether the prediction is right.

    Args:
        attention: (N*Q, N*K) softmax attention, rows sum to 1.
        support_y: (N*K,) labels of the support columns.
        query_y: (N*Q,) true labels.
        predicted: the learner's predictions, labels (N*Q,) or scores (N*Q, N), for
            learners whose prediction is not the summed attention (an attention layer
            inside a larger network); None: the class with the most attention.

    Returns:
        Trace 0: ``go.Heatmap``; trace 1: ``go.Scatter`` text marks.
    """
    rows = _spread_rows(query_y, max_queries)
    values = attention.detach().cpu()[rows]
    truth = query_y.detach().cpu()[rows]
    support_labels = support_y.detach().cpu()
    n_way = int(support_labels.max()) + 1
    if predicted is None:
        per_class = torch.zeros(values.shape[0], n_way).index_add_(1, support_labels, values)
        predicted_class = per_class.argmax(dim=1).tolist()
    else:
        labels = _as_labels(predicted, attention.shape[0])
        predicted_class = [labels[row] for row in rows.tolist()]
    fig = _assignment_heatmap(
        values,
        truth,
        predicted_class,
        x_labels=[f"s{j} · {c}" for j, c in enumerate(support_labels.tolist())],
        colorscale="Blues",
        colorbar_title="attention",
        title=title,
        mark_columns=values.argmax(dim=1).tolist(),
    )
    return fig


def _spread_rows(query_y: torch.Tensor, max_queries: int) -> torch.Tensor:
    """At most ``max_queries`` query indices, taking classes in turn so each appears."""
    labels = query_y.detach().cpu()
    if labels.shape[0] <= max_queries:
        return torch.arange(labels.shape[0])
    by_class = [torch.nonzero(labels == c).flatten().tolist() for c in labels.unique().tolist()]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < max_queries:
        for indices in by_class:
            if depth < len(indices) and len(chosen) < max_queries:
                chosen.append(indices[depth])
        depth += 1
    return torch.tensor(sorted(chosen))


def _assignment_heatmap(
    values: torch.Tensor,
    truth: torch.Tensor,
    predicted: list[int],
    *,
    x_labels: list[str],
    colorscale: str,
    colorbar_title: str,
    title: str | None,
    mark_columns: list[int] | None = None,
) -> go.Figure:
    """Rows = queries, columns = classes or support examples; marks on chosen cells."""
    y_labels = _query_row_labels(truth, predicted)
    columns = mark_columns if mark_columns is not None else predicted
    right = [p == t for p, t in zip(predicted, truth.tolist(), strict=True)]
    fig = go.Figure(
        go.Heatmap(
            z=values.tolist(),
            x=x_labels,
            y=y_labels,
            colorscale=colorscale,
            colorbar={"title": {"text": colorbar_title}},
            hovertemplate="%{y} → %{x}: %{z:.3g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[x_labels[c] for c in columns],
            y=y_labels,
            mode="text",
            text=[RIGHT_MARK if r else WRONG_MARK for r in right],
            textfont={
                "size": 16,
                "color": [RIGHT_COLOR if r else WRONG_COLOR for r in right],
            },
            hoverinfo="skip",
            showlegend=False,
            name="assignment",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    fig = _base_layout(fig, title, _heatmap_height(len(y_labels)))
    fig.update_layout(font={"size": 13})
    return fig


def codes_heatmap(
    codes: torch.Tensor, representation: torch.Tensor, support_x: torch.Tensor
) -> go.Figure:
    """Conditional Neural Process: each support point's code r_i and their mean r.

    Args:
        codes: (K, H) the encoder's code of each (x_i, y_i).
        representation: (H,) r = mean_i r_i, all the decoder sees of the support set.
        support_x: (K, 1) the support inputs, to label the rows.

    Returns:
        One ``go.Heatmap``: rows r_1..r_K then r, columns the H code units, a diverging
        colour scale centred on 0.
    """
    rows = torch.cat([codes.detach().cpu(), representation.detach().cpu().unsqueeze(0)])
    xs = support_x.detach().cpu().flatten().tolist()
    labels = [f"r{i + 1} (x={x:.1f})" for i, x in enumerate(xs)] + ["r = mean"]
    limit = float(rows.abs().max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=rows.tolist(),
            y=labels,
            colorscale="RdBu",
            zmin=-limit,
            zmax=limit,
            colorbar={"title": {"text": "value"}},
            hovertemplate="%{y}, unit %{x}: %{z:.3g}<extra></extra>",
            name="codes",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title={"text": "code unit"})
    fig = _base_layout(fig, None, _heatmap_height(len(labels)))
    fig.update_layout(font={"size": 13})
    return fig


def detail_figure(name: str, value: object, *, max_rows: int = 40) -> go.Figure | None:
    """A generic picture of one ``Adaptation.details`` entry of an unknown algorithm.

    A 1-D tensor or list of numbers becomes a bar chart, a 2-D tensor a heatmap
    (first ``max_rows`` rows). Anything else returns None (the page prints it).
    """
    if isinstance(value, list | tuple) and value and all(isinstance(v, int | float) for v in value):
        value = torch.tensor([float(v) for v in value])
    if not isinstance(value, torch.Tensor) or value.numel() == 0:
        return None
    tensor = value.detach().float().cpu()
    if tensor.dim() == 1:
        fig = go.Figure(go.Bar(x=list(range(tensor.shape[0])), y=tensor.tolist(), name=name))
        return _base_layout(fig, name, 300)
    if tensor.dim() == 2:
        shown = tensor[:max_rows]
        fig = go.Figure(go.Heatmap(z=shown.tolist(), colorscale="Viridis", name=name))
        fig.update_yaxes(autorange="reversed")
        return _base_layout(fig, name, _heatmap_height(shown.shape[0]))
    return None


def episode_picture(episode: Episode, *, title: str | None = None) -> go.Figure:
    """The Home page's picture: an episode's support and query sets, no predictions."""
    return episode_grid_figure(episode, None, max_query_per_class=3, title=title)
