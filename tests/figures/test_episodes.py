"""Episode figures: checked through ``fig.data`` and the decoded mosaic pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from metalearn_core.data.episodes import Episode
from metalearn_core.figures import episodes as ef


def _image_episode(n_way: int = 3, k_shot: int = 2, q_query: int = 2, size: int = 8) -> Episode:
    generator = torch.Generator().manual_seed(0)
    return Episode(
        support_x=torch.rand(n_way * k_shot, 1, size, size, generator=generator),
        support_y=torch.arange(n_way).repeat_interleave(k_shot),
        query_x=torch.rand(n_way * q_query, 1, size, size, generator=generator),
        query_y=torch.arange(n_way).repeat_interleave(q_query),
        n_way=n_way,
        k_shot=k_shot,
        q_query=q_query,
        class_names=tuple(f"alphabet/char{i}" for i in range(n_way)),
    )


def _frame_pixel(canvas: np.ndarray, row: int, col: int, episode: Episode, query: bool):
    """Top-left frame pixel of a cell, computed from the documented layout constants."""
    size = episode.support_x.shape[-1]
    cell = size + 2 * ef._CELL_PAD
    left = col * cell + (episode.k_shot * cell + ef._GROUP_GAP if query else 0)
    return tuple(int(v) for v in canvas[row * cell, left])


def test_grid_marks_right_and_wrong_queries():
    episode = _image_episode()
    # query order is class by class: labels 0,0,1,1,2,2; make queries 1 and 4 wrong
    predicted = torch.tensor([0, 2, 1, 1, 0, 2])
    fig = ef.episode_grid_figure(episode, predicted)
    marks = {trace.name: list(trace.text) for trace in fig.data[1:]}
    assert marks == {"right": ["✓"] * 4, "wrong": ["✗"] * 2}
    canvas = ef.decode_png_data_uri(fig.data[0].source)
    size = 8 + 2 * ef._CELL_PAD
    assert canvas.shape == (3 * size, 2 * size + ef._GROUP_GAP + 2 * size, 3)
    green, red = ef._hex_to_rgb(ef.RIGHT_COLOR), ef._hex_to_rgb(ef.WRONG_COLOR)
    assert _frame_pixel(canvas, 0, 0, episode, query=True) == green
    assert _frame_pixel(canvas, 0, 1, episode, query=True) == red  # query 1: true 0, said 2
    assert _frame_pixel(canvas, 2, 0, episode, query=True) == red  # query 4: true 2, said 0
    assert _frame_pixel(canvas, 1, 0, episode, query=False) == ef._hex_to_rgb(
        ef.SUPPORT_FRAME_COLOR
    )


def test_grid_accepts_logits_and_draws_ink_dark_on_white():
    episode = _image_episode(n_way=2, k_shot=1, q_query=1)
    # a dark image with one bright stroke: shown inverted, stroke dark on white
    image = torch.zeros(1, 8, 8)
    image[0, 4, :] = 1.0
    episode = Episode(
        image.unsqueeze(0).repeat(2, 1, 1, 1), torch.tensor([0, 1]),
        image.unsqueeze(0).repeat(2, 1, 1, 1), torch.tensor([0, 1]), 2, 1, 1,
    )  # fmt: skip
    logits = torch.tensor([[2.0, 1.0], [3.0, -1.0]])  # argmax 0, 0: second query wrong
    fig = ef.episode_grid_figure(episode, logits)
    assert [t.name for t in fig.data[1:]] == ["right", "wrong"]
    canvas = ef.decode_png_data_uri(fig.data[0].source)
    pad = ef._CELL_PAD
    assert tuple(canvas[pad + 4, pad + 3]) == (0, 0, 0)  # the stroke
    assert tuple(canvas[pad + 1, pad + 3]) == (255, 255, 255)  # the page


def test_grid_limits_queries_per_class_and_rejects_points():
    episode = _image_episode(n_way=2, k_shot=1, q_query=6)
    fig = ef.episode_grid_figure(episode, torch.zeros(12, dtype=torch.long), max_query_per_class=2)
    assert len(fig.data[1].text) + len(fig.data[2].text) == 4  # 2 classes x 2 shown
    points = Episode(torch.zeros(2, 2), torch.tensor([0, 1]), torch.zeros(2, 2),
                     torch.tensor([0, 1]), 2, 1, 1)  # fmt: skip
    with pytest.raises(ValueError, match="support_x of shape"):
        ef.episode_grid_figure(points)
    with pytest.raises(ValueError, match="3 predictions for 12"):
        ef.episode_grid_figure(episode, torch.zeros(3, dtype=torch.long))


def test_episode_picture_has_no_marks():
    fig = ef.episode_picture(_image_episode())
    assert len(fig.data) == 1 and fig.data[0].source.startswith("data:image/png;base64,")


def test_points_figure_separates_right_and_wrong():
    episode = Episode(
        support_x=torch.tensor([[0.0, 0.0], [5.0, 5.0]]),
        support_y=torch.tensor([0, 1]),
        query_x=torch.tensor([[0.1, 0.0], [4.0, 5.0], [0.5, 0.5]]),
        query_y=torch.tensor([0, 1, 1]),
        n_way=2,
        k_shot=1,
        q_query=1,
    )
    fig = ef.episode_points_figure(episode, torch.tensor([0, 1, 0]))
    names = [t.name for t in fig.data]
    assert names == ["support 0", "support 1", "query right ✓", "query wrong ✗"]
    assert list(fig.data[3].x) == [0.5] and list(fig.data[3].y) == [0.5]
    assert list(fig.data[2].x) == pytest.approx([0.1, 4.0])
    plain = ef.episode_points_figure(episode)
    assert [t.name for t in plain.data] == ["support 0", "support 1", "query 0", "query 1"]


def test_regression_figure_orders_probe_and_steps():
    episode = Episode(
        torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [0.8]]),
        torch.tensor([[2.0]]), torch.tensor([[0.9]]), 1, 2, 1,
    )  # fmt: skip
    probe = torch.tensor([[1.0], [-1.0], [0.0]])
    true_y = torch.sin(probe)
    steps = [torch.zeros(3, 1), probe * 0.5]
    fig = ef.regression_figure(episode, probe, true_y, steps)
    assert [t.name for t in fig.data] == ["true function", "step 0", "step 1", "support", "query"]
    assert list(fig.data[0].x) == [-1.0, 0.0, 1.0]
    assert fig.data[0].y == pytest.approx([math.sin(-1.0), 0.0, math.sin(1.0)])
    assert fig.data[2].y == pytest.approx([-0.5, 0.0, 0.5])
    with pytest.raises(ValueError, match="probe_x"):
        ef.regression_figure(episode, None, true_y)
    one = ef.regression_figure(episode, probe, true_y, steps[1:], probe_std=torch.ones(3, 1))
    assert [t.name for t in one.data] == ["true function", "±2σ", "prediction", "support", "query"]


def test_inner_steps_figure_plots_percentages():
    fig = ef.inner_steps_figure([1.6, 0.9, 0.4], [0.2, 0.6, 0.8])
    assert list(fig.data[0].x) == [0, 1, 2]
    assert list(fig.data[1].y) == pytest.approx([20.0, 60.0, 80.0])
    with pytest.raises(ValueError, match="2 accuracies for 3 losses"):
        ef.inner_steps_figure([1.0, 0.5, 0.2], [0.1, 0.2])


def test_distances_heatmap_marks_nearest_prototype():
    distances = torch.tensor([[0.1, 3.0], [2.0, 0.5], [0.2, 0.3]])
    fig = ef.distances_heatmap(distances, torch.tensor([0, 1, 1]))
    heat, marks = fig.data
    assert heat.z[2] == pytest.approx([0.2, 0.3])
    assert list(marks.x) == ["proto 0", "proto 1", "proto 0"]  # argmin of each row
    assert list(marks.text) == ["✓", "✓", "✗"]


def test_attention_heatmap_predicts_by_summed_attention():
    # query 0: single largest weight on a class-1 example, but class 0 holds 0.6 in total
    attention = torch.tensor([[0.3, 0.3, 0.4, 0.0], [0.1, 0.0, 0.5, 0.4]])
    support_y = torch.tensor([0, 0, 1, 1])
    fig = ef.attention_heatmap(attention, support_y, torch.tensor([0, 1]))
    marks = fig.data[1]
    assert list(marks.x) == ["s2 · 1", "s2 · 1"]  # most-attended example
    assert list(marks.text) == ["✓", "✓"]  # summed attention: class 0, then class 1


def test_spread_rows_takes_every_class():
    labels = torch.arange(5).repeat_interleave(10)
    rows = ef._spread_rows(labels, 10)
    assert sorted(set(labels[rows].tolist())) == [0, 1, 2, 3, 4] and len(rows) == 10


def test_detail_figure_handles_vectors_matrices_and_others():
    assert ef.detail_figure("v", [1.0, 2.0]).data[0].type == "bar"
    assert ef.detail_figure("m", torch.ones(2, 3)).data[0].type == "heatmap"
    assert ef.detail_figure("s", "text") is None
    assert ef.detail_figure("t", torch.ones(2, 2, 2)) is None


def test_regression_band_is_two_standard_deviations():
    episode = Episode(torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1),
                      torch.zeros(1, 1), 1, 1, 1)  # fmt: skip
    probe = torch.tensor([[0.0], [1.0]])
    fig = ef.regression_figure(
        episode, probe, None, [torch.tensor([[1.0], [2.0]])], probe_std=torch.tensor([[0.5], [1.0]])
    )
    band = fig.data[0]
    assert band.name == "±2σ"
    assert list(band.x) == [0.0, 1.0, 1.0, 0.0]
    assert list(band.y) == pytest.approx([2.0, 4.0, 0.0, 0.0])  # mean ± 2σ, lower edge reversed


def test_inner_steps_figure_names_each_axis_and_keeps_long_runs_readable():
    fig = ef.inner_steps_figure([1.6, 0.9, 0.4], [0.2, 0.6, 0.8])
    assert fig.layout.yaxis.title.text == "query loss"
    assert fig.layout.yaxis2.title.text == "accuracy (%)"
    assert (fig.layout.yaxis2.dtick, tuple(fig.layout.yaxis2.range)) == (25, (0, 100))
    assert fig.layout.xaxis.dtick == 1
    assert fig.layout.legend.y > 1  # above the plot, clear of the axis title
    assert ef.inner_steps_figure([1.0] * 21).layout.xaxis.dtick == 5  # 21 steps: every 5th


def test_attention_heatmap_marks_a_given_prediction():
    # an attention layer inside a larger network: its prediction is not the summed attention
    attention = torch.tensor([[0.3, 0.3, 0.4, 0.0], [0.1, 0.0, 0.5, 0.4]])
    support_y = torch.tensor([0, 0, 1, 1])
    fig = ef.attention_heatmap(
        attention, support_y, torch.tensor([0, 1]), predicted=torch.tensor([1, 1])
    )
    assert list(fig.data[1].text) == ["✗", "✓"]
    assert [label.endswith("✗") for label in fig.data[0].y] == [True, False]
