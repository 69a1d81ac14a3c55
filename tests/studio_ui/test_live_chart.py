"""The in-place chart: what it serves, what it writes, and reading its figures back."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from studio_ui import live_chart


def test_the_component_folder_serves_the_page_and_plotly():
    folder = live_chart._component_folder()
    page = (folder / "index.html").read_text()
    assert "Plotly.react" in page and 'src="plotly.min.js"' in page
    assert (folder / "plotly.min.js").stat().st_size > 1_000_000


def test_a_mount_restores_files_a_temp_cleaner_removed(tmp_path, monkeypatch):
    folder = tmp_path / "served"
    monkeypatch.setattr(live_chart, "_COMPONENT_FOLDER", folder)
    monkeypatch.setattr(live_chart, "_component", lambda **kwargs: None)
    app = AppTest.from_function(_mount_one_chart)
    app.run()  # the folder does not exist yet: the mount writes it
    assert (folder / "plotly.min.js").read_bytes() == live_chart._PLOTLY_JS.read_bytes()
    (folder / "plotly.min.js").unlink()  # a cleaner removed a file under the running server
    app.run()
    assert not app.exception
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "plotly.min.js"]


def _mount_one_chart():
    from studio_ui.live_chart import live_chart

    live_chart("demo", height=100)  # the test's patched module: same process


def test_trace_values_decode_plotly_typed_arrays():
    figure = go.Figure(go.Scatter(x=np.arange(4.0), y=np.array([0.5, 1.5, 2.5, 3.5])))
    trace = json.loads(figure.to_json())["data"][0]
    assert isinstance(trace["y"], dict), "plotly wrote a typed array"
    assert live_chart.trace_values(trace, "y") == [0.5, 1.5, 2.5, 3.5]
    assert live_chart.trace_values({"y": [1, 2]}, "y") == [1, 2]


def _two_redraws_in_one_run():
    import plotly.graph_objects as go

    from studio_ui.live_chart import live_chart, show_figure

    chart = live_chart("demo", height=300)
    for revision in (1, 2):  # as the Play loop does: one chart, many figures per run
        figure = go.Figure(go.Scatter(x=list(range(revision)), y=list(range(revision))))
        show_figure(chart, figure, config={"staticPlot": True}, revision=revision)


def test_one_run_mounts_once_and_the_channel_holds_the_latest_figure():
    at = AppTest.from_function(_two_redraws_in_one_run).run()
    assert not at.exception, at.exception
    assert len(at.get("component_instance")) == 1
    shown = live_chart.shown_figures([text.value for text in at.text])
    assert set(shown) == {"demo"}
    message = shown["demo"]
    assert message["revision"] == 2 and message["config"] == {"staticPlot": True}
    assert live_chart.trace_values(message["figure"]["data"][0], "x") == [0, 1]
