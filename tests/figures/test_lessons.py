"""The Learn pages' figure builders, through fig.data."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.figures import lessons
from metalearn_core.figures.style import class_color


def test_curves_figure_draws_the_reference_dotted_then_the_curves_then_the_points():
    x = torch.linspace(-1, 1, 5).unsqueeze(1)
    fig = lessons.curves_figure(
        x, [("true", x * 2), ("adapted", x * 3)],
        points=[("support", torch.tensor([[0.0]]), torch.tensor([[1.0]]))], title="t",
    )  # fmt: skip
    names = [trace.name for trace in fig.data]
    assert names == ["true", "adapted", "support"]
    assert fig.data[0].line.dash == "dot" and fig.data[1].line.dash is None
    assert list(fig.data[1].y) == [-3.0, -1.5, 0.0, 1.5, 3.0]
    plain = lessons.curves_figure(x, [("f", x)], reference_first=False)
    assert plain.data[0].line.dash is None


def test_attention_bars_group_one_bar_per_weighting_coloured_by_class():
    fig = lessons.attention_bars_figure(
        ["s1", "s2"], [0, 1], [("cosine", [0.5, -0.2]), ("softmax", [0.7, 0.3])]
    )
    assert [trace.name for trace in fig.data] == ["cosine", "softmax"]
    assert list(fig.data[0].y) == [0.5, -0.2]
    assert list(fig.data[1].marker.color) == [class_color(0), class_color(1)]
    assert fig.layout.barmode == "group"


def test_plane_figure_orders_regions_support_prototypes_query_with_given_names():
    support = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    fig = lessons.plane_figure(
        support, [0, 1], query=torch.tensor([[0.5, 0.5]]), centres=support,
        regions=(torch.linspace(-1, 1, 3), torch.zeros(3, 3, dtype=torch.long)),
        names={"support": "支持", "prototype": "原型", "query": "查询"},
    )  # fmt: skip
    assert [trace.type for trace in fig.data] == ["heatmap", "scatter", "scatter", "scatter"]
    assert [trace.name for trace in fig.data[1:]] == ["支持", "原型", "查询"]
    assert list(fig.data[2].x) == [0.0, 1.0]


def test_loss_lines_and_gan_points_figures():
    fig = lessons.loss_lines_figure(
        [("a", [3.0, 2.0]), ("b", [1.0, 1.0])], reference=("½", 0.5), x_values=[0, 50]
    )
    assert [trace.name for trace in fig.data] == ["a", "b"]
    assert list(fig.data[0].x) == [0, 50] and fig.layout.shapes[0].y0 == 0.5
    points = lessons.gan_points_figure(
        torch.zeros(3, 2), torch.ones(4, 2), extent=2.0, real_name="真实", fake_name="生成"
    )
    assert [trace.name for trace in points.data] == ["真实", "生成"]
    assert len(points.data[1].x) == 4


def test_the_click_grid_covers_the_plot_invisibly_as_the_last_trace():
    from metalearn_core.figures.lessons import add_click_grid, plane_figure

    fig = plane_figure(torch.zeros(0, 2), [], extent=3.0)
    add_click_grid(fig, (-3.0, 3.0), (-2.0, 2.0), columns=7, rows=5)
    grid = fig.data[-1]
    assert grid.name == "click grid" and len(grid.x) == 35
    assert min(grid.x) == -3.0 and max(grid.x) == 3.0 and min(grid.y) == -2.0
    assert grid.marker.color == "rgba(0, 0, 0, 0)" and grid.hoverinfo == "none"
    with pytest.raises(ValueError, match="at most"):
        add_click_grid(fig, (0, 1), (0, 1), columns=1000, rows=1000)


def test_prototypes_take_the_colour_of_their_class():
    from metalearn_core.figures.lessons import plane_figure
    from metalearn_core.figures.style import class_color

    fig = plane_figure(
        torch.tensor([[1.0, 1.0]]), [2], centres=torch.tensor([[1.0, 1.0]]), centre_labels=[2]
    )
    assert list(fig.data[1].marker.color) == [class_color(2)]
