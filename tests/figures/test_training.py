"""Learning curves: bucket means and the validation band, against hand-computed values."""

from __future__ import annotations

import pytest

from metalearn_core.figures.training import bucket_means, learning_curves_figure, trailing_mean


def test_bucket_means_averages_consecutive_runs():
    x, y = bucket_means([1, 2, 3, 4, 5, 6], [0, 2, 4, 6, 8, 10], max_points=3)
    assert x == [1.5, 3.5, 5.5] and y == [1.0, 5.0, 9.0]
    assert bucket_means([1, 2], [3, 4], 5) == ([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="max_points"):
        bucket_means([1], [1], 0)


def test_learning_curves_band_is_mean_plus_minus_ci():
    fig = learning_curves_figure(
        [4, 8], [1.5, 1.2], [0.3, 0.5], [8], [0.6], [0.05], chance=0.2, smooth=1
    )
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["train accuracy"].y) == pytest.approx([30.0, 50.0])
    band = by_name["validation band"]
    assert list(band.y) == pytest.approx([65.0, 55.0])  # upper forwards, lower back
    assert list(by_name["validation (95% CI)"].y) == pytest.approx([60.0])
    assert fig.layout.shapes[0].y0 == pytest.approx(20.0)  # chance line
    (label,) = [a for a in fig.layout.annotations if a.name == "chance"]  # and its name on it
    assert (label.text, label.y, label.yref) == ("chance", pytest.approx(20.0), "y2")


def test_learning_curves_regression_and_long_runs():
    steps = list(range(1000))
    fig = learning_curves_figure(steps, [1.0] * 1000, None, [10, 20], [0.5, 0.4], [0.1, 0.1],
                                 metric="mse", max_points=50)  # fmt: skip
    by_name = {t.name: t for t in fig.data}
    assert "train accuracy" not in by_name
    assert len(by_name["train loss"].x) == 50
    assert list(by_name["validation (95% CI)"].y) == pytest.approx([0.5, 0.4])
    with pytest.raises(ValueError, match="validation lengths differ"):
        learning_curves_figure([1], [1.0], None, [1, 2], [0.5], [0.1])


def test_trailing_mean_and_smoothed_curves():
    assert trailing_mean([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    assert trailing_mean([2.0, 4.0], 5) == [2.0, 3.0]
    with pytest.raises(ValueError, match="window"):
        trailing_mean([1.0], 0)
    fig = learning_curves_figure([1, 2, 3], [3.0, 1.0, 2.0], [0.0, 0.5, 1.0], smooth=2)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["train loss"].y) == pytest.approx([3.0, 2.0, 1.5])
    assert list(by_name["train accuracy"].y) == pytest.approx([0.0, 25.0, 75.0])


def test_training_lines_are_named_for_what_they_measure():
    fig = learning_curves_figure([1, 2], [2.0, 1.0], [0.1, 0.2], train_name="pretraining batch")
    assert {t.name for t in fig.data} == {"pretraining batch loss", "pretraining batch accuracy"}


def waiting_notes(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.name == "waiting"]


def test_empty_curves_say_how_to_fill_them_and_trained_ones_do_not():
    assert waiting_notes(learning_curves_figure([], [], [])) == [
        "Press Play or Step: curves appear as it trains"
    ]
    assert waiting_notes(learning_curves_figure([5.0], [1.2], [0.4])) == []


@pytest.mark.parametrize("metric", ["accuracy", "mse"])
def test_both_panels_have_axes_before_the_first_step(metric):
    # plotly.js draws a panel's axes only when a trace lives on them: each panel keeps an
    # empty line (out of the legend) until there are points.
    accuracy = [] if metric == "accuracy" else None
    fig = learning_curves_figure([], [], accuracy, metric=metric, chance=None)
    panels = {(trace.xaxis, trace.yaxis) for trace in fig.data}
    assert panels == {("x", "y"), ("x2", "y2")}
    assert all(len(trace.x) == 0 and trace.showlegend is False for trace in fig.data)
    trained = learning_curves_figure([5.0], [1.2], [0.4] if metric == "accuracy" else None)
    assert trained.data[0].showlegend is True
