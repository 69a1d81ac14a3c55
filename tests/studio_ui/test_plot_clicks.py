"""Clicks on a plotly chart, as Streamlit's selection events report them, become points."""

from __future__ import annotations

import math

import pytest

from studio_ui.plot_clicks import (
    MAX_PLACED_POINTS,
    PlacedPoints,
    chart_key,
    clear_points,
    clicked_point,
    handle_click,
    placed_points,
)

X, Y = (-5.0, 5.0), (-6.0, 6.0)


def click(x, y, curve_number: int = 3) -> dict:
    """A selection event as st.plotly_chart's widget state holds it after a click."""
    return {
        "selection": {
            "points": [{"curve_number": curve_number, "point_index": 7, "x": x, "y": y}],
            "point_indices": [7],
            "box": [],
            "lasso": [],
        }
    }


def test_a_click_gives_its_point():
    assert clicked_point(click(1.5, -2.0), X, Y) == (1.5, -2.0)


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"selection": {"points": []}},  # a click on empty space, or a cleared selection
        {"selection": {"points": "x"}},
        click("1", 2.0),
        click(True, 2.0),
        click(math.nan, 0.0),
        click(math.inf, 0.0),
        click(5.5, 0.0),  # outside the plot
        click(0.0, -60.0),
    ],
)
def test_a_malformed_or_foreign_event_gives_nothing(event):
    assert clicked_point(event, X, Y) is None


def test_handle_click_adds_labelled_points_and_moves_the_chart_to_a_new_key():
    state: dict = {"cls": 2}
    first = chart_key(state, "pts")
    state[first] = click(1.0, 2.0)
    assert handle_click(state, "pts", X, Y, label_key="cls")
    points = placed_points(state, "pts")
    assert points.xy == [(1.0, 2.0)] and points.labels == [2]
    second = chart_key(state, "pts")
    assert second != first
    state[second] = click(1.0, 2.0)  # the same place again counts: a fresh chart
    assert handle_click(state, "pts", X, Y)
    assert points.labels == [2, 0]
    clear_points(state, "pts")
    assert points.xy == [] and chart_key(state, "pts") not in (first, second)


def test_handle_click_keeps_at_most_the_limit():
    state: dict = {"pts": PlacedPoints(xy=[(0.0, 0.0)] * MAX_PLACED_POINTS,
                                       labels=[0] * MAX_PLACED_POINTS)}  # fmt: skip
    state[chart_key(state, "pts")] = click(1.0, 1.0)
    assert not handle_click(state, "pts", X, Y)
    assert len(placed_points(state, "pts")) == MAX_PLACED_POINTS


def test_a_hostile_label_is_ignored():
    state: dict = {"cls": "0; drop"}
    state[chart_key(state, "pts")] = click(1.0, 1.0)
    assert not handle_click(state, "pts", X, Y, label_key="cls")
    assert len(placed_points(state, "pts")) == 0
