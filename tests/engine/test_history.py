"""History: bounded, and every point is the exact mean of the steps it covers."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_core.engine import History


def _fill(history: History, steps: int) -> tuple[np.ndarray, np.ndarray]:
    losses = np.linspace(2.0, 0.1, steps) ** 2  # any non-constant sequence
    accuracies = np.linspace(0.2, 0.9, steps)
    for i in range(steps):
        history.add_step(
            i + 1, losses[i], accuracies[i], episodes=4 * (i + 1), seconds=0.1 * (i + 1)
        )
    return losses, accuracies


def test_short_runs_keep_every_step():
    history = History(limit=10)
    losses, _ = _fill(history, 7)
    arrays = history.train_arrays()
    np.testing.assert_allclose(arrays["loss"], losses)
    np.testing.assert_array_equal(arrays["iteration"], np.arange(1, 8))


@pytest.mark.parametrize("steps", [10, 37, 100, 1000])
def test_long_runs_stay_bounded_and_average_exactly(steps):
    history = History(limit=10)
    losses, accuracies = _fill(history, steps)
    arrays = history.train_arrays()
    assert len(arrays["loss"]) <= 10 + 1  # completed buckets + the one being filled
    assert arrays["iteration"][-1] == steps  # the curve always reaches the latest step
    assert arrays["episodes"][-1] == 4 * steps
    starts = np.concatenate([[0], arrays["iteration"][:-1]])
    for start, end, loss, accuracy in zip(
        starts, arrays["iteration"], arrays["loss"], arrays["accuracy"], strict=True
    ):
        np.testing.assert_allclose(loss, losses[start:end].mean(), rtol=1e-12)
        np.testing.assert_allclose(accuracy, accuracies[start:end].mean(), rtol=1e-12)


def test_regression_accuracy_is_nan():
    history = History(limit=10)
    history.add_step(1, 0.5, None, episodes=1, seconds=0.1)
    history.add_step(2, 0.3, None, episodes=2, seconds=0.2)
    assert np.isnan(history.train_arrays()["accuracy"]).all()


def test_validation_points_are_bounded_and_keep_first_and_last():
    history = History(limit=10)
    for i in range(1, 51):
        history.add_validation(10 * i, mean=i / 100, ci95=0.01, episodes=20)
    arrays = history.validation_arrays()
    assert len(arrays["iteration"]) <= 10
    assert arrays["iteration"][0] == 10 and arrays["iteration"][-1] == 500
    assert history.last_validation.mean == 0.5


def test_state_round_trip_continues_identically():
    first, second = History(limit=8), None
    _fill(first, 13)
    second = History.from_state(first.state())
    for history in (first, second):
        history.add_step(14, 0.01, 0.99, episodes=56, seconds=1.4)
    for key, values in first.train_arrays().items():
        np.testing.assert_array_equal(values, second.train_arrays()[key])
    assert first.to_csv() == second.to_csv()


def test_csv_has_one_row_per_point():
    history = History(limit=10)
    _fill(history, 3)
    history.add_validation(3, 0.75, 0.05, 10)
    lines = history.to_csv().strip().splitlines()
    assert lines[0].startswith("kind,iteration,loss,accuracy")
    assert [line.split(",")[0] for line in lines[1:]] == ["train", "train", "train", "val"]
    assert lines[-1].split(",")[7] == "0.75"
