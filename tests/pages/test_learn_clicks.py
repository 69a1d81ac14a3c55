"""Support points placed by clicking on the Learn pages' charts (AppTest cannot click a
plotly chart: the points a click handler adds are set in the session state, and the
handler itself is tested in tests/studio_ui/test_plot_clicks.py)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from studio_ui import learn
from studio_ui.plot_clicks import PlacedPoints, chart_key
from tests.pages.test_learn_pages import numbers, open_page


@pytest.fixture(autouse=True)
def _short_lessons(monkeypatch):
    monkeypatch.setattr(learn, "LESSON_META_STEPS", 3)
    monkeypatch.setattr(learn, "GAN_DEFAULT_STEPS", 0)
    monkeypatch.setattr(learn, "GAN_META_ITERATIONS", 2)


def clickable_chart(at: AppTest, points_key: str) -> dict:
    key = chart_key(at.session_state, points_key)
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)]
    assert len(found) == 1, f"no chart {key!r}"
    assert found[0].proto.selection_mode, "the chart reports clicks"
    return json.loads(found[0].proto.spec)


def test_placed_points_on_the_sinusoid_adapt_the_curve():
    at = open_page("pages/learn_maml.py")
    figure = clickable_chart(at, "learn_maml_points")
    assert [t.get("name") for t in figure["data"]][-1] == "click grid"
    assert "θ' (adapted)" not in [t.get("name") for t in figure["data"]]

    at.session_state["learn_maml_points"] = PlacedPoints(xy=[(-2.0, 3.0), (0.0, 3.0), (2.0, 3.0)])
    at.run()
    assert not at.exception, at.exception
    traces = {t.get("name"): t for t in clickable_chart(at, "learn_maml_points")["data"]}
    assert numbers(traces["your support points"]["y"]) == [3.0, 3.0, 3.0]
    start, adapted = (
        numbers(traces["θ (meta-learned start)"]["y"]),
        numbers(traces["θ' (adapted)"]["y"]),
    )
    assert adapted != start
    losses = {m.label: float(m.value) for m in at.metric if "your points" in m.label}
    assert losses["loss on your points at θ'"] < losses["loss on your points at θ"]
    at.button(key="learn_maml_clear_points").click().run()
    assert at.session_state["learn_maml_points"].xy == []


def test_placed_points_make_and_move_the_prototypes():
    at = open_page("pages/learn_prototypes.py")
    figure = clickable_chart(at, "learn_prototypes_points")
    assert "prototype" not in [t.get("name") for t in figure["data"]]

    at.session_state["learn_prototypes_points"] = PlacedPoints(
        xy=[(-2.0, 0.0), (2.0, 2.0), (2.0, 0.0)], labels=[0, 2, 2]
    )
    at.run()
    traces = {t.get("name"): t for t in clickable_chart(at, "learn_prototypes_points")["data"]}
    assert numbers(traces["prototype"]["x"]) == [-2.0, 2.0]
    assert numbers(traces["prototype"]["y"]) == [0.0, 1.0]
    table = at.dataframe[-1].value
    assert table.iloc[:, 0].tolist() == [0, 2]
    assert table.iloc[:, 1].sum() == pytest.approx(1.0, abs=1e-3)
