import numpy as np
import pytest
import torch

from metalearn_core.figures.gan import (
    coverage_figure,
    gan_lab_figure,
    image_grid_figure,
    image_mosaic,
    loss_curves_figure,
)


def test_gan_lab_figure_layers_and_arrow_scaling():
    real, fake = torch.zeros(5, 2), torch.ones(4, 2)
    axis, values = torch.linspace(-1, 1, 3), torch.rand(3, 3)
    lines = torch.zeros(2, 4, 2)
    arrows = (torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [0.5, 0.0]]))
    fig = gan_lab_figure(real, fake, extent=1.0, heatmap=(axis, values), grid_lines=lines,
                         arrows=arrows, modes=torch.zeros(8, 2))  # fmt: skip
    names = [trace.name for trace in fig.data]
    assert names == [
        "D(x)",
        "warped noise grid",
        "real",
        "generated",
        "generator gradient",
        "modes",
    ]
    arrow = fig.data[4]
    # Longest arrow spans 15% of the 2-unit view (0.3); the other keeps its half length.
    ends = np.array(arrow.x)[[1, 4]]
    assert ends == pytest.approx([0.3, 0.15])
    assert len(fig.data[1].x) == 2 * (4 + 1)  # two lines joined with NaN gaps


def test_loss_curves_are_thinned_to_bucket_means():
    history = [{"step": i, "d_loss": float(i), "g_loss": 1.0} for i in range(1000)]
    fig = loss_curves_figure(history, max_points=10)
    assert len(fig.data[0].x) == 10
    assert fig.data[0].y[0] == pytest.approx(np.mean(range(100)))


def test_coverage_figure_plots_modes_and_quality():
    fig = coverage_figure([{"step": 50, "modes": 3, "high_quality": 0.4}], num_modes=8)
    assert list(fig.data[0].y) == [3] and list(fig.data[1].y) == [0.4]
    share_axis = fig.layout.yaxis2
    assert share_axis.tickformat == ".0%" and list(share_axis.tickvals) == [0, 0.25, 0.5, 0.75, 1]


def test_image_mosaic_places_images_row_major_with_gaps():
    images = np.stack([np.full((2, 2), v) for v in (0.1, 0.2, 0.3)])
    mosaic = image_mosaic(images, columns=2)
    assert mosaic.shape == (5, 5)
    assert mosaic[0, 0] == 0.1 and mosaic[0, 3] == 0.2 and mosaic[3, 0] == 0.3
    assert np.isnan(mosaic[2, 0]) and np.isnan(mosaic[3, 3])
    grid = image_grid_figure(images, 2)
    assert len(grid.data) == 1
    assert (grid.layout.xaxis.ticks, grid.layout.yaxis.ticks) == ("", "")  # no stray marks
    with pytest.raises(ValueError, match="shape"):
        image_mosaic(np.zeros((2, 2)), 2)


def test_empty_gan_curves_say_what_will_fill_them():
    def notes(fig):
        return [a.text for a in fig.layout.annotations if a.name == "waiting"]

    assert notes(loss_curves_figure([])) == ["Press Step or Play to train"]
    assert notes(loss_curves_figure([{"step": 1, "d_loss": 1.0, "g_loss": 0.7}])) == []
    assert notes(coverage_figure([], num_modes=8)) == ["Measured while it trains"]
    assert notes(coverage_figure([{"step": 1, "modes": 2, "high_quality": 0.5}], 8)) == []


@pytest.mark.parametrize(
    "figure",
    [
        loss_curves_figure([{"step": 1, "d_loss": 1.0, "g_loss": 0.7}]),
        coverage_figure([{"step": 50, "modes": 3, "high_quality": 0.4}], num_modes=8),
    ],
    ids=["losses", "coverage"],
)
def test_curve_legends_sit_below_the_x_axis_title_not_over_it(figure):
    # A legend placed at a negative y of the plot area lands where the x-axis title is
    # drawn (both push the bottom margin for themselves); at the foot of the whole figure
    # plotly makes room for the title above it.
    assert figure.layout.xaxis.title.text == "step"
    legend = figure.layout.legend
    assert (legend.orientation, legend.yref, legend.y, legend.yanchor) == (
        "h", "container", 0, "bottom"
    )  # fmt: skip
