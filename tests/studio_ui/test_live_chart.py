"""The in-place chart: what it mounts, what it serves, and reading its figures back."""

from __future__ import annotations

import json
import re
import tempfile

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from studio_ui import live_chart


def test_the_served_files_are_the_installed_ones():
    script = live_chart._FRONTEND / "live_chart.js"
    assert "Plotly.react" in script.read_text()
    assert live_chart._SCRIPT_FILES.abspath == str(live_chart._FRONTEND)
    assert live_chart._PLOTLY_FILES.abspath == str(live_chart._PLOTLY_JS.parent)
    assert live_chart._PLOTLY_JS.stat().st_size > 1_000_000
    assert live_chart.SCRIPT_PATH.startswith(f"./component/{live_chart._SCRIPT_FILES.name}/")
    assert "/plotly.min.js?v=" in live_chart.PLOTLY_PATH
    for served in (live_chart._FRONTEND, live_chart._PLOTLY_JS.parent):
        assert not served.resolve().is_relative_to(tempfile.gettempdir())


def test_trace_values_decode_plotly_typed_arrays():
    figure = go.Figure(go.Scatter(x=np.arange(4.0), y=np.array([0.5, 1.5, 2.5, 3.5])))
    trace = json.loads(figure.to_json())["data"][0]
    assert isinstance(trace["y"], dict), "plotly wrote a typed array"
    assert live_chart.trace_values(trace, "y") == [0.5, 1.5, 2.5, 3.5]
    assert live_chart.trace_values({"y": [1, 2]}, "y") == [1, 2]


def _redraws_in_one_run():
    import plotly.graph_objects as go
    import streamlit as st

    from studio_ui.live_chart import live_chart, show_figure

    st.session_state["runs"] = runs = st.session_state.get("runs", 0) + 1
    redraws = st.session_state.get("first_run_redraws", 2) if runs == 1 else 2
    chart = live_chart("demo", height=300)
    for revision in range(1, redraws + 1):  # as the Play loop: one chart, many figures a run
        figure = go.Figure(go.Scatter(x=list(range(revision)), y=list(range(revision))))
        show_figure(chart, figure, config={"staticPlot": True}, revision=revision)


def _components(at: AppTest) -> list[dict]:
    return [live_chart.mounted_data(element.proto) for element in at.get("bidi_component")]


def test_one_run_mounts_the_view_once_and_the_latest_figure_beside_it():
    at = AppTest.from_function(_redraws_in_one_run).run()
    assert not at.exception, at.exception
    mounted = _components(at)
    views = [m for m in mounted if m["role"] == "view"]
    assert views == [
        {"role": "view", "chart": "demo", "height": 300, "plotly": live_chart.PLOTLY_PATH,
         "script": live_chart.SCRIPT_PATH}
    ]  # fmt: skip
    assert [m["revision"] for m in mounted if m["role"] == "figure"] == [2], "one slot, replaced"
    shown = live_chart.shown_figures(at)
    assert set(shown) == {"demo"}
    message = shown["demo"]
    assert message["revision"] == 2 and message["config"] == {"staticPlot": True}
    assert live_chart.trace_values(message["figure"]["data"][0], "x") == [0, 1]
    assert at.get("bidi_component")[0].key == "demo", "the view keeps the chart's key"


def test_a_rerun_keeps_the_view_and_redraws_from_the_first_figure_key():
    at = AppTest.from_function(_redraws_in_one_run).run()
    first_keys = [element.key for element in at.get("bidi_component")]
    at.run()
    assert [element.key for element in at.get("bidi_component")] == first_keys


def test_a_long_play_loop_reruns_before_streamlits_records_grow_without_bound(monkeypatch):
    monkeypatch.setattr(live_chart, "MAX_FIGURES_PER_RUN", 5)
    at = AppTest.from_function(_redraws_in_one_run)
    at.session_state["first_run_redraws"] = 7
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["runs"] == 2, "the sixth figure of the first run asked for a rerun"
    assert live_chart.shown_figures(at)["demo"]["revision"] == 2


@pytest.mark.parametrize(
    ("key", "height", "message"),
    [
        ("a__b", 100, "without '__', got 'a__b'"),
        ("demo", 0, "1 to 4000 pixels, got 0"),
        ("demo", 1.5, "whole number of pixels, got 1.5"),
    ],
)
def test_bad_keys_and_heights_are_refused_with_the_value(key, height, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        live_chart.live_chart(key, height)


def test_shown_figures_refuses_the_old_text_list():
    with pytest.raises(TypeError, match="AppTest"):
        live_chart.shown_figures(["{}"])


def test_a_figure_sent_as_plain_json_reaches_the_browser_as_its_go_figure_would():
    from metalearn_core.figures.training import learning_curves_figure, learning_curves_spec

    args = ([4, 8], [1.5, 1.2], [0.3, 0.5], [8], [0.6], [0.05])
    plain = json.loads(live_chart.figure_json(learning_curves_spec(*args, chance=0.2)))
    validated = json.loads(live_chart.figure_json(learning_curves_figure(*args, chance=0.2)))
    plain_template = plain["layout"].pop("template")
    validated_template = validated["layout"].pop("template")
    assert plain == validated
    # the default template's look, without its part for the kinds of trace not drawn
    assert plain_template["layout"] == validated_template["layout"]
    assert plain_template["data"] == {"scatter": validated_template["data"]["scatter"]}


def test_plain_json_figures_keep_their_template_and_write_what_json_cannot_hold():
    text = live_chart.figure_json(
        {"data": [{"type": "bar", "y": np.array([1.0, np.nan])}], "layout": {"template": {}}}
    )
    figure = json.loads(text)
    assert figure["layout"]["template"] == {}
    assert live_chart.trace_values(figure["data"][0], "y") == [1.0, None]
    with pytest.raises(TypeError, match="go.Figure or a dict"):
        live_chart.figure_json([1, 2])


def _redraws_when_the_data_changes():
    import streamlit as st

    from studio_ui.live_chart import live_chart, show_figure

    chart = live_chart("demo", height=300)
    assert chart.signature is None  # a new script run sends every chart again
    for revision, points in enumerate([1, 1, 2, 2, 2], start=1):
        if chart.signature == points:  # the Play loop's check: unchanged data, not sent
            continue
        figure = {"data": [{"type": "scatter", "y": list(range(points))}], "layout": {}}
        show_figure(chart, figure, config={}, revision=revision, signature=points)
    st.session_state["sent"] = chart.sent


def test_a_chart_keeps_the_signature_of_its_latest_figure():
    at = AppTest.from_function(_redraws_when_the_data_changes).run()
    assert not at.exception, at.exception
    assert at.session_state["sent"] == 2
    shown = live_chart.shown_figures(at)["demo"]
    assert shown["revision"] == 3
    assert live_chart.trace_values(shown["figure"]["data"][0], "y") == [0, 1]
