"""Episode views: checked through ``fig.data`` and the decoded mosaic pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from metalearn_core.data.episodes import Episode
from metalearn_core.figures import episodes as ef
from metalearn_core.figures.style import CLASS_COLORS


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
    # a wrong query is marked in a colour far from every class's (the red cross used to be
    # all but the red of class 3), in a symbol that no other point has
    wrong_marker = fig.data[3].marker
    wrong_rgb = np.array(ef._hex_to_rgb(wrong_marker.color))
    nearest = min(np.linalg.norm(wrong_rgb - ef._hex_to_rgb(c)) for c in CLASS_COLORS)
    assert nearest > 80, f"the wrong mark's colour is {nearest:.0f} from a class colour"
    other_symbols = {t.marker.symbol or "circle" for t in fig.data[:3]}
    assert wrong_marker.symbol not in other_symbols
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
