"""Embedding space page through Streamlit's AppTest: a trained run, a comparison, bad choices.

Runs are tiny (glyphs 3-way, Conv4 of width 8, a few steps) and built once per module; the
page reads them from the session as the Train and Compare pages leave them there.
"""

from __future__ import annotations

import json
import sys

import pytest
from streamlit.testing.v1 import AppTest

from metalearn_core.engine import RunConfig, Trainer
from studio_ui import train_session
from studio_ui.embedding_space import COMPARISON_KEY
from studio_ui.serving import REPO_ROOT

PAGE = str(REPO_ROOT / "pages" / "embeddings.py")


def _run(algo: str, steps: int = 3, **changes) -> Trainer:
    values = {"dataset": "glyphs", "n_way": 3, "k_shot": 1, "q_query": 2, "width": 8}
    values.update(changes)
    hparams = {} if algo == "transfer" else {"meta_batch": 2}
    trainer = Trainer(RunConfig(algo=algo, val_every=0, hparams=hparams, **values))
    trainer.run_tick(max_iterations=steps)
    return trainer


@pytest.fixture(scope="module")
def protonet_run() -> Trainer:
    return _run("protonet")


@pytest.fixture(scope="module")
def maml_run() -> Trainer:
    return _run("maml", steps=2)


def _page(trainer: Trainer | None = None, **state) -> AppTest:
    """The page with ``trainer`` as the Train page's current run (and other state)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[train_session.KEY] = train_session.TrainSession(trainer=trainer)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _traces(figure: dict) -> dict[str, dict]:
    return {trace["name"]: trace for trace in figure["data"]}


def _headings(at: AppTest) -> list[str]:
    return [m.value[5:] for m in at.markdown if m.value.startswith("#### ")]


def _clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_without_a_trained_run_the_page_says_where_to_train():
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/embeddings.py").run()
    assert not at.exception, at.exception
    assert "No trained run yet" in at.info[0].value
    assert [link.proto.page.rsplit("/", 1)[-1] for link in at.get("page_link")] == ["train"]
    assert not at.get("plotly_chart")
    untrained = Trainer(RunConfig(dataset="glyphs", algo="protonet", n_way=3, width=8))
    at = _page(trainer=untrained)
    assert "No trained run yet" in at.info[0].value


def test_a_trained_run_beside_its_initial_network_on_the_same_examples(protonet_run):
    at = _page(trainer=protonet_run)
    _clean(at)
    assert _headings(at) == ["initial network", "trained (3 steps)"]
    initial, trained = _figures(at)
    for figure in (initial, trained):  # the run's own episode shape: 3-way, 1 + 2
        traces = _traces(figure)
        assert len(traces["support"]["x"]) == 3 and len(traces["prototypes"]["x"]) == 3
        assert len(traces["query right"]["x"]) + len(traces["query wrong"]["x"]) == 6
        assert figure["layout"]["xaxis"]["title"]["text"].startswith("PC 1")
    # the same examples: the same classes and pictures, point by point
    assert _traces(initial)["support"]["hovertext"] == _traces(trained)["support"]["hovertext"]
    assert _traces(initial)["support"]["x"] != _traces(trained)["support"]["x"]
    labels = [m.label for m in at.metric]
    assert labels == ["Silhouette", "Prototype accuracy", "Between / within"] * 2


def test_many_classes_by_tsne(protonet_run):
    at = _page(trainer=protonet_run)
    at.radio(key="embed_mode").set_value("Many classes").run()
    at.number_input(key="embed_classes").set_value(12)
    at.selectbox(key="embed_method").set_value("tsne").run()
    _clean(at)
    for figure in _figures(at):
        traces = _traces(figure)
        assert len(traces["support"]["x"]) == 60  # 12 classes x 5
        assert len(traces["query right"]["x"]) + len(traces["query wrong"]["x"]) == 60
        assert figure["layout"]["xaxis"]["title"]["text"] == "t-SNE 1"
    assert "120 examples of 12 held-out classes" in at.caption[-1].value


def test_many_classes_start_with_what_a_small_split_holds():
    blobs = _run("protonet", dataset="blobs", width=16)  # 12 validation classes
    at = _page(trainer=blobs)
    at.radio(key="embed_mode").set_value("Many classes").run()
    _clean(at)
    assert at.number_input(key="embed_classes").value == 12
    assert len(_traces(_figures(at)[0])["prototypes"]["x"]) == 12
    support = _traces(_figures(at)[0])["support"]["hovertext"][0]
    assert "support<br>(" in support  # a point's picture: its coordinates


def test_maml_features_before_and_after_the_inner_steps(maml_run):
    at = _page(trainer=maml_run)
    _clean(at)
    assert _headings(at) == ["initial network", "trained (2 steps)"]
    at.radio(key="embed_view").set_value("Before and after the inner steps").run()
    _clean(at)
    assert _headings(at) == ["before the inner steps", "after 1 inner step"]
    before, after = _figures(at)
    assert _traces(before)["support"]["x"] == _traces(after)["support"]["x"]
    assert "first inner step moves the head alone" in at.info[0].value


def test_a_comparison_shows_each_learners_space(protonet_run, maml_run):
    comparison = {"Prototypical Networks": protonet_run, "MAML": maml_run}
    at = _page(trainer=None, **{COMPARISON_KEY: comparison})
    assert "No trained run yet" in at.info[0].value  # the default subject: the Train run
    at.radio(key="embed_subject").set_value("Comparison").run()
    _clean(at)
    assert _headings(at) == ["Prototypical Networks", "MAML"]
    first, second = _figures(at)
    assert _traces(first)["support"]["hovertext"] == _traces(second)["support"]["hovertext"]
    with_snail = {**comparison, "SNAIL": _run("snail", steps=1)}
    at = _page(**{COMPARISON_KEY: with_snail})
    at.radio(key="embed_subject").set_value("Comparison").run()
    _clean(at)
    assert _headings(at) == ["Prototypical Networks", "MAML"]
    assert at.info[0].value.startswith("Left out: SNAIL: ")
    at = _page(**{COMPARISON_KEY: {"MAML": maml_run}})
    at.radio(key="embed_subject").set_value("Comparison").run()
    assert "a comparison shows 2 to 4 learners, this one has 1" in at.info[0].value


def test_a_2d_embedding_layer_is_drawn_as_it_is_with_its_regions():
    at = _page(trainer=_run("protonet", embedding_2d=True))
    _clean(at)
    assert at.selectbox(key="embed_method").disabled
    for figure in _figures(at):
        assert figure["data"][0]["name"] == "prototype regions"
        assert figure["layout"]["xaxis"]["title"]["text"] == "embedding 1"
    assert "drawn as they are" in at.caption[-1].value
    at.selectbox(key="embed_split").set_value("test").run()  # the test split's classes
    _clean(at)
    assert "(test split)" in at.caption[-1].value


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        (
            {"classes": 50, "support": 5, "queries": 6},
            "50 classes x (5 support + 6 query) = 550 points, more than the 500",
        ),
        ({"classes": 10, "support": 15, "queries": 10}, "the data holds fewer examples than asked"),
        ({"method": "tsne"}, "t-SNE perplexity 30 must be below the number of points shown (9)"),
        ({"method": "umap"}, "pip install umap-learn"),
    ],
)
def test_bad_choices_get_a_clear_message_in_place(protonet_run, monkeypatch, choices, message):
    monkeypatch.setitem(sys.modules, "umap", None)  # as if umap-learn were not installed
    at = _page(trainer=protonet_run)
    if "classes" in choices:
        at.radio(key="embed_mode").set_value("Many classes").run()
        for name in ("classes", "support", "queries"):
            at.number_input(key="embed_" + name).set_value(choices[name])
    if "method" in choices:
        at.selectbox(key="embed_method").set_value(choices["method"])
    at.run()
    assert not at.exception, at.exception
    assert message in at.error[0].value
    assert not at.get("plotly_chart")


@pytest.mark.parametrize(
    ("algo", "changes", "message"),
    [
        ("snail", {}, "no embedding of single examples"),
        ("maml", {"dataset": "sinusoid", "n_way": 1, "k_shot": 5, "q_query": 5}, "regression"),
    ],
)
def test_learners_without_a_drawable_space_say_so(algo, changes, message):
    at = _page(trainer=_run(algo, steps=1, **changes))
    assert not at.exception, at.exception
    assert message in at.info[0].value
    assert not at.get("plotly_chart")


def test_the_compare_pages_live_comparison_is_found(protonet_run, maml_run):
    from types import SimpleNamespace

    from studio_ui import compare_session

    live = SimpleNamespace(trainers={"protonet": protonet_run, "maml": maml_run})
    at = _page(trainer=None, **{compare_session.COMPARISON: live})
    at.radio(key="embed_subject").set_value("Comparison").run()
    _clean(at)
    assert _headings(at) == ["Prototypical Networks", "MAML"]  # each learner by its title
