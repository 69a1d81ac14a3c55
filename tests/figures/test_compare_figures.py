"""Comparison figures: a line per learner, in its own colour, with gaps and skips honoured."""

from __future__ import annotations

import json
import math

import pytest

from metalearn_core.figures.compare import (
    LEARNER_COLORS,
    MAX_POINTS,
    metric_lines_figure,
    metric_lines_spec,
    scores_by_figure,
)


def test_one_line_per_learner_with_its_colour():
    figure = metric_lines_figure(
        {"ProtoNet": ([1, 2, 3], [0.2, 0.4, 0.6]), "MAML": ([2, 4], [0.3, None])},
        title="Validation accuracy", x_title="episodes", y_title="accuracy", percent=True,
        chance=0.2,
    )  # fmt: skip
    names = [trace.name for trace in figure.data]
    assert names == ["ProtoNet", "MAML"]
    assert list(figure.data[0].y) == [0.2, 0.4, 0.6]
    assert list(figure.data[1].x) == [2]  # the None point is left out
    assert [t.line.color for t in figure.data] == list(LEARNER_COLORS[:2])
    assert figure.layout.yaxis.tickformat == ".0%"
    assert figure.layout.shapes[0].y0 == 0.2  # chance line


def test_long_lines_are_reduced_and_nan_dropped():
    x = list(range(10_000))
    y = [math.nan if i % 2 else 1.0 for i in x]
    figure = metric_lines_figure({"a": (x, y)}, title="", x_title="", y_title="")
    assert len(figure.data[0].x) == MAX_POINTS
    assert set(figure.data[0].y) == {1.0}


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="x has 2 values but y has 1"):
        metric_lines_figure({"a": ([1, 2], [1])}, title="", x_title="", y_title="")


def test_scores_with_error_bars_skip_missing_shapes():
    rows = {
        "ProtoNet": [
            {"k_shot": 1, "mean": 0.5, "ci95": 0.05},
            {"k_shot": 5, "mean": None, "ci95": None, "skipped": "too few examples"},
            {"k_shot": 10, "mean": 0.9, "ci95": 0.01},
        ]
    }
    figure = scores_by_figure(rows, key="k_shot", title="", x_title="K", y_title="accuracy")
    trace = figure.data[0]
    assert list(trace.x) == [1, 10] and list(trace.y) == [0.5, 0.9]
    assert list(trace.error_y.array) == [0.05, 0.01]


def test_the_plain_spec_reaches_the_browser_as_the_validated_figure_would():
    from studio_ui.live_chart import figure_json, trace_values

    lines = {"ProtoNet": ([1, 2, 3], [0.2, None, 0.6]), "MAML": (list(range(400)), [0.5] * 400)}
    words = {"title": "Validation accuracy", "x_title": "episodes", "y_title": "accuracy"}
    spec = metric_lines_spec(lines, **words, percent=True, chance=0.2, chance_label="chance")
    figure = metric_lines_figure(lines, **words, percent=True, chance=0.2, chance_label="chance")
    plain, validated = json.loads(figure_json(spec)), json.loads(figure_json(figure))
    for name in ("x", "y"):  # the figure writes its arrays as base64, the spec as lists
        assert [trace_values(t, name) for t in plain["data"]] == [
            trace_values(t, name) for t in validated["data"]
        ]
        for trace in plain["data"] + validated["data"]:
            trace.pop(name)
    plain_template = plain["layout"].pop("template")
    validated_template = validated["layout"].pop("template")
    assert plain == validated
    assert plain_template["layout"] == validated_template["layout"]
    assert plain["data"][0]["name"] == "ProtoNet" and plain["data"][1]["mode"] == "lines"
    assert json.loads(json.dumps(spec)) == spec  # plain JSON all the way down
