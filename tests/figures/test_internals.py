"""Pictures of a learner's internals, and the registry that picks one per record type."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import pytest
import torch

from metalearn_core.algorithms.base import Adaptation
from metalearn_core.algorithms.internals import (
    AttentionView,
    EmbeddingView,
    InnerStepCurve,
    Internals,
    RegressionFit,
)
from metalearn_core.data.episodes import Episode
from metalearn_core.figures import internals as fi


def test_inner_steps_figure_plots_percentages():
    fig = fi.inner_steps_figure([1.6, 0.9, 0.4], [0.2, 0.6, 0.8])
    assert list(fig.data[0].x) == [0, 1, 2]
    assert list(fig.data[1].y) == pytest.approx([20.0, 60.0, 80.0])
    with pytest.raises(ValueError, match="2 accuracies for 3 losses"):
        fi.inner_steps_figure([1.0, 0.5, 0.2], [0.1, 0.2])


def test_distances_heatmap_marks_nearest_prototype():
    distances = torch.tensor([[0.1, 3.0], [2.0, 0.5], [0.2, 0.3]])
    fig = fi.distances_heatmap(distances, torch.tensor([0, 1, 1]))
    heat, marks = fig.data
    assert heat.z[2] == pytest.approx([0.2, 0.3])
    assert list(marks.x) == ["proto 0", "proto 1", "proto 0"]  # argmin of each row
    assert list(marks.text) == ["✓", "✓", "✗"]


def test_attention_heatmap_predicts_by_summed_attention():
    # query 0: single largest weight on a class-1 example, but class 0 holds 0.6 in total
    attention = torch.tensor([[0.3, 0.3, 0.4, 0.0], [0.1, 0.0, 0.5, 0.4]])
    support_y = torch.tensor([0, 0, 1, 1])
    fig = fi.attention_heatmap(attention, support_y, torch.tensor([0, 1]))
    marks = fig.data[1]
    assert list(marks.x) == ["s2 · 1", "s2 · 1"]  # most-attended example
    assert list(marks.text) == ["✓", "✓"]  # summed attention: class 0, then class 1


def test_spread_rows_takes_every_class():
    labels = torch.arange(5).repeat_interleave(10)
    rows = fi._spread_rows(labels, 10)
    assert sorted(set(labels[rows].tolist())) == [0, 1, 2, 3, 4] and len(rows) == 10


def test_inner_steps_figure_names_each_axis_and_keeps_long_runs_readable():
    fig = fi.inner_steps_figure([1.6, 0.9, 0.4], [0.2, 0.6, 0.8])
    assert fig.layout.yaxis.title.text == "query loss"
    assert fig.layout.yaxis2.title.text == "accuracy (%)"
    assert (fig.layout.yaxis2.dtick, tuple(fig.layout.yaxis2.range)) == (25, (0, 100))
    assert fig.layout.xaxis.dtick == 1
    assert fig.layout.legend.y > 1  # above the plot, clear of the axis title
    assert fi.inner_steps_figure([1.0] * 21).layout.xaxis.dtick == 5  # 21 steps: every 5th


def test_attention_heatmap_marks_a_given_prediction():
    # an attention layer inside a larger network: its prediction is not the summed attention
    attention = torch.tensor([[0.3, 0.3, 0.4, 0.0], [0.1, 0.0, 0.5, 0.4]])
    support_y = torch.tensor([0, 0, 1, 1])
    fig = fi.attention_heatmap(
        attention, support_y, torch.tensor([0, 1]), predicted=torch.tensor([1, 1])
    )
    assert list(fig.data[1].text) == ["✗", "✓"]
    assert [label.endswith("✗") for label in fig.data[0].y] == [True, False]


# ----- the registry ------------------------------------------------------------------------


def _blob_episode() -> Episode:
    points = torch.tensor([[0.0, 0.0], [0.2, 0.0], [3.0, 3.0], [3.2, 3.0]])
    labels = torch.tensor([0, 0, 1, 1])
    return Episode(points, labels, points + 0.1, labels, n_way=2, k_shot=2, q_query=2)


def test_each_record_is_drawn_by_its_type_with_the_learner_s_caption():
    episode = _blob_episode()
    adaptation = Adaptation(
        torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), 0.3, 0.75,
        internals=(
            InnerStepCurve(query_losses=(0.7, 0.2), query_accuracies=(0.5, 0.75),
                           caption="my learner's step 0"),
            RegressionFit(probe_x=torch.zeros(3, 1), step_predictions=(torch.zeros(3, 1),)),
            EmbeddingView(support=episode.support_x, query=episode.query_x,
                          caption="My learner's own words."),
        ),
    )  # fmt: skip
    views = fi.internals_figures(episode, adaptation)
    assert len(views) == 2  # the regression fit belongs to the episode's own picture
    (steps_caption, steps), (embedding_caption, embedding) = views
    assert steps_caption == "my learner's step 0" and steps.data[0].type == "bar"
    assert embedding_caption.startswith("The episode in the 2-D embedding space")
    assert embedding_caption.endswith("My learner's own words.")
    assert "black ✗" in embedding_caption
    assert [t.name for t in embedding.data][:2] == ["support 0", "support 1"]


def test_a_subclass_of_a_record_is_drawn_by_its_base_s_builder():
    @dataclass(frozen=True, kw_only=True)
    class SharperAttention(AttentionView):
        temperature: float = 0.5

    attention = torch.full((4, 4), 0.25)
    adaptation = Adaptation(torch.zeros(4, 2), 0.7, 0.5, internals=(
        SharperAttention(attention=attention),
    ))  # fmt: skip
    ((caption, figure),) = fi.internals_figures(_blob_episode(), adaptation)
    assert caption == "Each query's attention over the support examples."
    assert figure.data[0].type == "heatmap"


def test_a_new_kind_of_record_is_drawn_once_registered(monkeypatch):
    @dataclass(frozen=True, kw_only=True)
    class Margins(Internals):
        margins: torch.Tensor  # (N*Q,)

    adaptation = Adaptation(torch.zeros(4, 2), 0.7, 0.5, internals=(
        Margins(margins=torch.tensor([0.5, -0.1, 0.3, 0.2]), caption="Each query's margin."),
    ))  # fmt: skip
    assert fi.internals_figures(_blob_episode(), adaptation) == []  # not registered: skipped
    monkeypatch.setitem(fi.INTERNALS_FIGURES, Margins, lambda episode, adaptation, record: (
        record.caption, go.Figure(go.Bar(y=record.margins.tolist(), name="margins")),
    ))  # fmt: skip
    ((caption, figure),) = fi.internals_figures(_blob_episode(), adaptation)
    assert caption == "Each query's margin."
    assert list(figure.data[0].y) == pytest.approx([0.5, -0.1, 0.3, 0.2])
