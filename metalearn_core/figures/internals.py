"""Pictures of what a learner did inside while adapting to one episode, and the registry
that picks them: record type -> figure builder.

A learner's ``adapt`` returns typed records (``metalearn_core.algorithms.internals``);
``internals_figures(episode, adaptation)`` draws each through ``INTERNALS_FIGURES``, the
one place that maps a record type to its picture, so the inspector never asks which
algorithm it shows. A new kind of record gets its picture with ``register_internals_figure``;
a new learner that fills existing records needs nothing here.

Pure builders: tensors in, ``plotly.graph_objects.Figure`` out, nothing from streamlit.

Builders
    inner_steps_figure       query loss (and accuracy) after inner steps 0..k
    distances_heatmap        each query's distance to each prototype
    attention_heatmap        each query's attention over the support set
    codes_heatmap            a neural process's support codes r_i and their mean r
    (embeddings.embedding_figure draws an ``EmbeddingView``)
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import torch

from metalearn_core.algorithms.base import Adaptation
from metalearn_core.algorithms.internals import (
    AttentionView,
    ContextCodes,
    EmbeddingView,
    InnerStepCurve,
    Internals,
    PrototypeDistances,
)
from metalearn_core.data.episodes import Episode
from metalearn_core.figures.embeddings import embedding_figure
from metalearn_core.figures.style import (
    RIGHT_COLOR,
    RIGHT_MARK,
    WRONG_COLOR,
    WRONG_MARK,
    as_labels,
    base_layout,
)
from metalearn_core.figures.words import ENGLISH, EpisodeWords


def inner_steps_figure(
    losses: Sequence[float],
    accuracies: Sequence[float] | None = None,
    *,
    loss_name: str | None = None,
    title: str | None = None,
    words: EpisodeWords = ENGLISH,
) -> go.Figure:
    """Query loss (bars, left axis) and accuracy (line, right axis) after inner steps 0..k.

    Returns:
        Trace 0: ``go.Bar`` of the losses at x = 0..k; trace 1 (if accuracies are given):
        ``go.Scatter`` of the accuracies in percent on the second y axis.
    """
    loss_name = loss_name or words.query_loss
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
                name=words.query_accuracy,
                yaxis="y2",
            )
        )
        fig.update_layout(
            yaxis2={
                "title": {"text": words.accuracy, "font": {"color": RIGHT_COLOR}},
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
        xaxis={"title": {"text": words.inner_step}, "tickmode": "linear", "tick0": 0,
               "dtick": 1 if len(steps) <= 12 else 5},
        yaxis={"title": {"text": loss_name}, "automargin": True, "rangemode": "tozero"},
    )  # fmt: skip
    fig = base_layout(fig, title, 320)
    # Above the plot: below it, the legend collided with the axis title.
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"})
    fig.update_layout(margin={"t": 90 if title else 40})
    return fig


def _query_row_labels(
    query_y: torch.Tensor, predicted: list[int], words: EpisodeWords
) -> list[str]:
    return [
        words.query_row.format(index=i, label=t, mark=RIGHT_MARK if p == t else WRONG_MARK)
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
    words: EpisodeWords = ENGLISH,
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
        x_labels=[words.prototype_column.format(label=c) for c in range(values.shape[1])],
        colorscale="Blues_r",
        colorbar_title=words.distance,
        title=title,
        words=words,
    )


def attention_heatmap(
    attention: torch.Tensor,
    support_y: torch.Tensor,
    query_y: torch.Tensor,
    *,
    predicted: torch.Tensor | None = None,
    max_queries: int = 30,
    title: str | None = None,
    words: EpisodeWords = ENGLISH,
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
        labels = as_labels(predicted, attention.shape[0])
        predicted_class = [labels[row] for row in rows.tolist()]
    fig = _assignment_heatmap(
        values,
        truth,
        predicted_class,
        x_labels=[
            words.support_column.format(index=j, label=c)
            for j, c in enumerate(support_labels.tolist())
        ],
        colorscale="Blues",
        colorbar_title=words.attention,
        title=title,
        words=words,
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
    words: EpisodeWords = ENGLISH,
) -> go.Figure:
    """Rows = queries, columns = classes or support examples; marks on chosen cells."""
    y_labels = _query_row_labels(truth, predicted, words)
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
    fig = base_layout(fig, title, _heatmap_height(len(y_labels)))
    fig.update_layout(font={"size": 13})
    return fig


def codes_heatmap(
    codes: torch.Tensor,
    representation: torch.Tensor,
    support_x: torch.Tensor,
    *,
    words: EpisodeWords = ENGLISH,
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
    labels = [words.code_row.format(index=i + 1, x=f"{x:.1f}") for i, x in enumerate(xs)]
    labels.append(words.code_mean)
    limit = float(rows.abs().max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=rows.tolist(),
            y=labels,
            colorscale="RdBu",
            zmin=-limit,
            zmax=limit,
            colorbar={"title": {"text": words.value}},
            hovertemplate="%{y}, " + words.unit + " %{x}: %{z:.3g}<extra></extra>",
            name="codes",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title={"text": words.code_unit})
    fig = base_layout(fig, None, _heatmap_height(len(labels)))
    fig.update_layout(font={"size": 13})
    return fig


# ----- the registry: record type -> (caption, figure) ------------------------------------------

# A builder gets the episode, the whole adaptation (its predictions) and one record; it
# returns the figure's caption and the figure, or None when the record has nothing to draw.
# A builder that declares a ``words`` parameter also gets the pictures' words
# (``EpisodeWords``, in the student's language).
InternalsFigure = Callable[..., "tuple[str, go.Figure] | None"]
INTERNALS_FIGURES: dict[type[Internals], InternalsFigure] = {}


def register_internals_figure(
    record_type: type[Internals],
) -> Callable[[InternalsFigure], InternalsFigure]:
    """Decorator: draw records of ``record_type`` (and its subclasses) with the function."""

    def register(builder: InternalsFigure) -> InternalsFigure:
        INTERNALS_FIGURES[record_type] = builder
        return builder

    return register


def internals_builder(record_type: type) -> InternalsFigure | None:
    """The builder registered for ``record_type`` or its nearest registered base class."""
    for klass in record_type.__mro__:
        if klass in INTERNALS_FIGURES:
            return INTERNALS_FIGURES[klass]
    return None


def _build(
    builder: InternalsFigure,
    episode: Episode,
    adaptation: Adaptation,
    record: Internals,
    words: EpisodeWords,
) -> tuple[str, go.Figure] | None:
    if "words" in inspect.signature(builder).parameters:
        return builder(episode, adaptation, record, words=words)
    return builder(episode, adaptation, record)  # a builder with English words of its own


def internals_figures(
    episode: Episode,
    adaptation: Adaptation,
    *,
    words: EpisodeWords = ENGLISH,
    translate: Callable[[str], str] | None = None,
) -> list[tuple[str, go.Figure]]:
    """Every record of ``adaptation`` that has a picture, as (caption, figure), in the
    learner's order. Records without a registered builder (a ``RegressionFit`` is drawn in
    the episode's own picture) are left out.

    ``words``: the pictures' words and default captions; ``translate``: applied to a
    learner's own caption (``record.caption``, marked in its module with the core's ``N_``),
    e.g. the app's gettext; both English by default.
    """
    views = []
    for record in adaptation.internals:
        if translate is not None and record.caption:
            record = dataclasses.replace(record, caption=translate(record.caption))
        builder = internals_builder(type(record))
        view = _build(builder, episode, adaptation, record, words) if builder is not None else None
        if view is not None:
            views.append(view)
    return views


@register_internals_figure(InnerStepCurve)
def _inner_step_view(
    episode: Episode, adaptation: Adaptation, record: InnerStepCurve, words: EpisodeWords = ENGLISH
) -> tuple[str, go.Figure]:
    caption = record.caption or words.inner_steps_caption
    figure = inner_steps_figure(record.query_losses, record.query_accuracies, words=words)
    return caption, figure


@register_internals_figure(PrototypeDistances)
def _distances_view(
    episode: Episode,
    adaptation: Adaptation,
    record: PrototypeDistances,
    words: EpisodeWords = ENGLISH,
) -> tuple[str, go.Figure]:
    caption = record.caption or words.distances_caption
    return caption, distances_heatmap(record.distances, episode.query_y, words=words)


@register_internals_figure(AttentionView)
def _attention_view(
    episode: Episode, adaptation: Adaptation, record: AttentionView, words: EpisodeWords = ENGLISH
) -> tuple[str, go.Figure]:
    figure = attention_heatmap(
        record.attention,
        episode.support_y,
        episode.query_y,
        predicted=adaptation.query_prediction,
        words=words,
    )
    return record.caption or words.attention_caption, figure


@register_internals_figure(ContextCodes)
def _codes_view(
    episode: Episode, adaptation: Adaptation, record: ContextCodes, words: EpisodeWords = ENGLISH
) -> tuple[str, go.Figure]:
    caption = record.caption or words.codes_caption
    figure = codes_heatmap(
        record.support_codes, record.representation, episode.support_x, words=words
    )
    return caption, figure


@register_internals_figure(EmbeddingView)
def _embedding_view(
    episode: Episode, adaptation: Adaptation, record: EmbeddingView, words: EpisodeWords = ENGLISH
) -> tuple[str, go.Figure] | None:
    """The episode in the embedding space: flat in 2-D, else on two principal components."""
    support, query, prototypes = record.support, record.query, record.prototypes
    if support.dim() != 2 or support.shape[0] + query.shape[0] < 3:
        return None  # too few points for a plane
    flat = support.shape[1] == 2
    region = record.region_distance if flat and prototypes is not None else None
    figure = embedding_figure(
        episode,
        support,
        query,
        prototypes,
        adaptation.query_prediction,
        region_distance=region,
        words=words,
    )
    marks = words.embedding_marks + (words.prototype_marks if prototypes is not None else "")
    if flat:
        caption = words.flat_caption.format(marks=marks)
        if region:
            caption += words.regions_caption
    else:
        caption = words.projected_caption.format(dim=support.shape[1], marks=marks)
    if record.caption:
        caption += " " + record.caption
    return caption, figure
