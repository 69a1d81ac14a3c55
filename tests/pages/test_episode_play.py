"""Be part of the inspector's episode on the Train page: swap a support example, draw a query.

One page load serves the whole test (the opening run: Prototypical Networks on glyphs),
so the file stays at a few AppTest runs.
"""

from __future__ import annotations

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from metalearn_core.algorithms.internals import EmbeddingView
from metalearn_core.data.drawing import CANVAS_SIDE, encode_drawing
from studio_ui import train_session as session
from studio_ui.episode_play import canvas_key, current_edits
from studio_ui.live_chart import shown_figures, trace_values
from studio_ui.serving import REPO_ROOT

TRAIN_PAGE = str(REPO_ROOT / "pages" / "train.py")
KEY = "train_inspect"


def _episode_figure(app: AppTest) -> str:
    return repr(shown_figures(app)[KEY]["figure"]["data"])


def test_a_swap_changes_the_episode_and_the_prototypes_then_undo_restores_it():
    app = AppTest.from_file(TRAIN_PAGE, default_timeout=90).run()
    assert not app.exception, app.exception
    trainer = app.session_state[session.KEY].trainer
    episode, adaptation = trainer.inspect(seed=0)
    before = _episode_figure(app)
    assert app.button(key=f"{KEY}_undo_swaps").disabled

    app.selectbox(key=f"{KEY}_swap_label").set_value(2).run()
    app.button(key=f"{KEY}_swap").click().run()
    assert not app.exception, app.exception
    swaps = current_edits(app.session_state, KEY, 0).swaps
    assert [(s.label, s.shot) for s in swaps] == [(2, 0)]
    assert _episode_figure(app) != before  # another image in the support row of label 2
    assert any("Swaps made: 1" in c.value for c in app.caption)
    # what the page shows is the edited episode, adapted again: label 2's prototype moved
    from metalearn_core.data.episode_edits import apply_swaps

    edited = apply_swaps(episode, trainer.source("val"), swaps)
    _, readapted = trainer.adapt_episode(edited, seed=0)
    moved = (
        readapted.find(EmbeddingView).prototypes - adaptation.find(EmbeddingView).prototypes
    ).norm(dim=1) > 1e-6
    assert moved.tolist() == [k == 2 for k in range(episode.n_way)]

    app.button(key=f"{KEY}_undo_swaps").click().run()
    assert current_edits(app.session_state, KEY, 0).swaps == ()
    assert _episode_figure(app) == before

    # a drawing (a stroke) is classified against the support set; a hostile one is refused
    ink = torch.zeros(CANVAS_SIDE, CANVAS_SIDE, dtype=torch.uint8)
    ink[10:54, 30:34] = 255
    app.session_state[canvas_key(KEY)] = {"ink": encode_drawing(ink)}
    app.run()
    assert not app.exception, app.exception
    assert any("The learner says" in m.value for m in app.markdown)
    table = app.dataframe[-1].value
    assert len(table) == episode.n_way
    assert abs(table.iloc[:, -1].sum() - 1.0) < 1e-4

    app.session_state[canvas_key(KEY)] = {"ink": "A" * 100_000}
    app.run()
    assert not app.exception, app.exception
    assert any("could not be read" in w.value for w in app.warning)


def test_placed_support_points_are_what_the_learner_adapts_to():
    from studio_ui.plot_clicks import PlacedPoints, chart_key
    from tests.pages.test_train import choose

    app = AppTest.from_file(TRAIN_PAGE, default_timeout=90).run()
    choose(app, "sinusoid", "maml")
    assert not app.exception, app.exception
    points_key = f"{KEY}_placed"

    def placed_chart() -> dict:
        key = chart_key(app.session_state, points_key)
        found = [c for c in app.get("plotly_chart") if c.proto.id.endswith(key)]
        assert len(found) == 1, f"no chart {key!r}"
        return json.loads(found[0].proto.spec)

    names = [t.get("name") for t in placed_chart()["data"]]
    assert names[0] == "true function" and names[-1] == "click grid" and "step 0" not in names

    app.session_state[points_key] = PlacedPoints(xy=[(-3.0, 4.0), (0.0, 4.0), (3.0, 4.0)])
    app.run()
    assert not app.exception, app.exception
    traces = {t.get("name"): t for t in placed_chart()["data"]}
    assert trace_values(traces["support"], "y") == [4.0, 4.0, 4.0]
    steps = [name for name in traces if name and name.startswith("step ")]
    assert len(steps) >= 2, "MAML's curve after each inner step"
    first, last = (trace_values(traces[steps[i]], "y") for i in (0, -1))
    assert first != last
    # the last curve is closer to the placed points than the start
    assert abs(sum(last) / len(last) - 4.0) < abs(sum(first) / len(first) - 4.0)


def test_placed_points_of_a_blob_class_move_its_prototype():
    from studio_ui.plot_clicks import PlacedPoints, chart_key
    from tests.pages.test_train import choose

    app = AppTest.from_file(TRAIN_PAGE, default_timeout=90).run()
    choose(app, "blobs", "protonet", n_way=3, k_shot=2)
    assert not app.exception, app.exception
    points_key = f"{KEY}_placed"
    trainer = app.session_state[session.KEY].trainer
    episode, adaptation = trainer.inspect(seed=0)
    before = adaptation.find(EmbeddingView).prototypes

    app.selectbox(key=f"{KEY}_placed_class").set_value(1).run()
    far = (float(episode.support_x[:, 0].max()) + 1.0, float(episode.support_x[:, 1].max()) + 1.0)
    app.session_state[points_key] = PlacedPoints(xy=[far], labels=[1])
    app.run()
    assert not app.exception, app.exception
    key = chart_key(app.session_state, points_key)
    chart = [c for c in app.get("plotly_chart") if c.proto.id.endswith(key)]
    traces = {t.get("name"): t for t in json.loads(chart[0].proto.spec)["data"]}
    assert trace_values(traces["support 1"], "x") == pytest.approx([far[0]])
    assert len(trace_values(traces["support 0"], "x")) == 2  # the other classes keep theirs
    internals = [c for c in app.get("plotly_chart") if f"{KEY}_placed_internals_" in c.proto.id]
    assert internals, "the learner's internals for the edited episode"
    from metalearn_core.data.episode_edits import with_placed_support

    edited = with_placed_support(episode, torch.tensor([far]), torch.tensor([1]))
    after = trainer.adapt_episode(edited, seed=0)[1].find(EmbeddingView).prototypes
    moved = (after - before).norm(dim=1) > 1e-6
    assert moved.tolist() == [False, True, False]
