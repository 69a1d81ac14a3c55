"""Compare page through Streamlit's AppTest: two and four learners, Step, Score, opening
comparisons, bad input. Runs are tiny (blobs, a few episodes, a few test episodes)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from metalearn_core.compare import build_result, run_grid, write_result
from studio_ui import compare_session as session
from studio_ui.live_chart import shown_figures
from studio_ui.serving import REPO_ROOT

COMPARE_PAGE = str(REPO_ROOT / "pages" / "compare.py")
KEY = session.KEY
TINY = {"episodes": 8, "test_episodes": 10, "extra_episodes": 5, "validate_every": 2,
        "val_episodes": 3, "k_shot": 2, "q_query": 3, "n_way": 3}  # fmt: skip


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(COMPARE_PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, algos: list[str], dataset: str = "blobs") -> AppTest:
    at.selectbox(key=KEY + "dataset").set_value(dataset).run()
    at.multiselect(key=KEY + "algos").set_value(algos)
    for name, value in TINY.items():
        widget = at.number_input(key=KEY + name)
        if not widget.disabled:
            widget.set_value(value)
    return at.run()


def chart_lines(at: AppTest) -> dict[str, list[str]]:
    figures = shown_figures(at)
    return {key: [trace.get("name") for trace in message["figure"]["data"]]
            for key, message in figures.items()}  # fmt: skip


def test_first_visit_builds_a_two_learner_comparison(app):
    comparison = app.session_state[session.COMPARISON]
    assert comparison.plan.algos == ("protonet", "maml")
    assert comparison.plan.base.dataset == "glyphs"
    assert app.button(key="compare_play_pause").proto.type == "primary"


def test_two_learners_step_then_score(app):
    choose(app, ["protonet", "maml"])
    assert not app.error, [e.value for e in app.error]
    app.button(key="compare_step").click().run()
    assert not app.exception, app.exception
    comparison = app.session_state[session.COMPARISON]
    assert [t.iteration for t in comparison.trainers.values()] == [1, 1]
    lines = chart_lines(app)
    expected = ["Prototypical Networks", "MAML"]
    for key in ("compare_loss", "compare_accuracy", "compare_validation"):
        assert lines[key] == expected, key
    # both inspector cards show the same validation episode
    assert {"compare_inspect_protonet", "compare_inspect_maml"} <= set(lines)
    assert "Prototypical Networks" in app.markdown[0].value or any(
        "Prototypical Networks" in m.value for m in app.markdown
    )

    app.button(key="compare_score_button").click().run()
    assert not app.exception, app.exception
    result = app.session_state[session.RESULT]
    assert set(result["learners"]) == {"protonet", "maml"}
    table = app.dataframe[0].value
    assert list(table["learner"]) == expected
    assert "leads on test accuracy" in app.info[0].value
    assert result["learners"]["maml"]["episodes"] == 4  # one meta-batch of MAML's recipe


def test_four_learners(app):
    algos = ["protonet", "maml", "matchingnet", "fomaml"]
    choose(app, algos)
    assert not app.error, [e.value for e in app.error]
    app.button(key="compare_step").click().run()
    assert not app.exception, app.exception
    lines = chart_lines(app)
    assert len(lines["compare_loss"]) == 4
    assert all(f"compare_inspect_{algo}" in lines for algo in algos)
    comparison = app.session_state[session.COMPARISON]
    assert [t.iteration for t in comparison.trainers.values()] == [1, 1, 1, 1]
    # the same episode stream: every learner's first training episode is the same
    episodes = {t.episodes_seen for t in comparison.trainers.values()}
    assert episodes == {1, 4}  # meta-batches of 1 (metric) and 4 (MAML recipes)


def test_one_learner_is_refused_with_a_message(app):
    choose(app, ["protonet"])
    assert not app.exception
    assert "2 to 4 learners, got 1" in app.error[0].value


def test_changing_settings_after_training_asks_first(app):
    choose(app, ["protonet", "maml"])
    app.button(key="compare_step").click().run()
    app.number_input(key=KEY + "k_shot").set_value(1).run()
    assert "discards its training" in app.warning[0].value
    assert app.session_state[session.COMPARISON].trainers["protonet"].iteration == 1
    app.button(key="compare_new").click().run()
    comparison = app.session_state[session.COMPARISON]
    assert comparison.plan.base.k_shot == 1
    assert comparison.trainers["protonet"].iteration == 0


def _result_folder(tmp_path):
    from tests.compare.conftest import small_plan

    plan = small_plan(episodes=4, validate_every=2)
    result = build_result(plan, run_grid(plan, workers=1), machine="test machine")
    write_result(tmp_path / "cmp", result)
    return tmp_path / "cmp", result


def test_open_a_folder_and_an_uploaded_zip(app, tmp_path):
    folder, result = _result_folder(tmp_path)
    app.text_input(key="compare_folder").set_value(str(folder))
    app.button(key="compare_open_folder").click().run()
    assert not app.exception, app.exception
    assert app.session_state[session.RESULT] == json.loads(json.dumps(result))
    assert "Opened the folder" in app.success[0].value

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(folder / "comparison.json", "cmp/comparison.json")
    fresh = AppTest.from_file(COMPARE_PAGE, default_timeout=120).run()
    fresh.file_uploader(key=session.UPLOAD_KEY).set_value(
        ("cmp.zip", buffer.getvalue(), "application/zip")
    ).run()
    assert not fresh.exception, fresh.exception
    assert fresh.session_state[session.RESULT]["machine"] == "test machine"


def test_foreign_files_are_refused_and_lose_nothing(app, tmp_path):
    folder, _ = _result_folder(tmp_path)
    app.text_input(key="compare_folder").set_value(str(folder))
    app.button(key="compare_open_folder").click().run()
    kept = app.session_state[session.RESULT]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("comparison.json", '{"config": {}}')
    app.file_uploader(key=session.UPLOAD_KEY).set_value(
        ("other.zip", buffer.getvalue(), "application/zip")
    ).run()
    assert not app.exception
    assert "not a comparison file" in app.error[0].value
    assert app.session_state[session.RESULT] is kept
    app.text_input(key="compare_folder").set_value(str(tmp_path / "nowhere"))
    app.button(key="compare_open_folder").click().run()
    assert "is not a folder on the server" in app.error[0].value
    app.text_input(key="compare_folder").set_value(str(folder / "comparison.json"))
    app.button(key="compare_open_folder").click().run()
    assert "is not a folder on the server" in app.error[0].value  # a file: refused


def test_prepared_comparisons_open_at_once(app):
    prepared = session.prepared_comparisons()
    if not prepared:
        pytest.skip("no prepared comparison in comparisons/ yet")
    name = next(iter(prepared))
    app.selectbox(key="compare_prepared").set_value(name)
    app.button(key="compare_open_prepared").click().run()
    assert not app.exception, app.exception
    assert f"the prepared comparison {name}" in app.success[0].value
    assert len(app.dataframe[0].value) == len(app.session_state[session.RESULT]["learners"])


def test_learners_of_another_kind_are_refused_and_lose_nothing(app):
    choose(app, ["protonet", "maml"])
    built = app.session_state[session.COMPARISON]
    choose(app, ["protonet", "cnp"])  # the CNP learns regression, blobs is classification
    assert not app.exception, app.exception
    assert "These settings cannot run" in app.error[0].value
    assert "cnp" not in app.session_state[session.COMPARISON].trainers
    assert app.session_state[session.COMPARISON] is built


def test_five_learners_get_a_clear_message_and_lose_nothing(app):
    choose(app, ["protonet", "maml"])
    app.button(key="compare_step").click().run()
    trained = app.session_state[session.COMPARISON]
    choose(app, ["protonet", "maml", "fomaml", "reptile", "matchingnet"])
    assert not app.exception, app.exception
    assert "2 to 4 learners, got 5" in app.error[0].value
    assert app.session_state[session.COMPARISON] is trained
    assert trained.trainers["protonet"].iteration == 1


def test_a_zero_budget_never_runs_and_loses_nothing(app):
    choose(app, ["protonet", "maml"])
    app.button(key="compare_step").click().run()
    app.number_input(key=KEY + "episodes").set_value(0).run()
    assert not app.exception, app.exception
    # the widget keeps a budget it allows (Streamlit refuses a value below its minimum)
    assert app.number_input(key=KEY + "episodes").value >= 1
    comparison = app.session_state[session.COMPARISON]
    assert comparison.plan.episodes >= 1
    assert comparison.trainers["protonet"].iteration == 1  # the training is kept


def test_unreadable_files_are_refused_and_lose_nothing(app, tmp_path):
    folder, _ = _result_folder(tmp_path)
    app.text_input(key="compare_folder").set_value(str(folder))
    app.button(key="compare_open_folder").click().run()
    kept = app.session_state[session.RESULT]
    garbled = tmp_path / "garbled"
    garbled.mkdir()
    (garbled / "comparison.json").write_bytes(b"\x00\xff{not json")
    app.text_input(key="compare_folder").set_value(str(garbled))
    app.button(key="compare_open_folder").click().run()
    assert not app.exception, app.exception
    assert "Could not open the folder" in app.error[0].value
    app.file_uploader(key=session.UPLOAD_KEY).set_value(
        ("broken.zip", b"PK\x03\x04 not really a zip", "application/zip")
    ).run()
    assert not app.exception, app.exception
    assert "Could not open the uploaded broken.zip" in app.error[0].value
    assert app.session_state[session.RESULT] is kept


def test_every_prepared_comparison_opens(app):
    prepared = session.prepared_comparisons()
    assert "glyphs-5w1s-others" in prepared and "sinusoid-10shot" in prepared
    for name, path in prepared.items():
        app.selectbox(key="compare_prepared").set_value(name).run()  # the button's name
        app.button(key="compare_open_prepared").click().run()
        assert not app.exception, (name, app.exception)
        assert f"the prepared comparison {name}" in app.success[0].value
        result = app.session_state[session.RESULT]
        assert result == json.loads(path.read_text())
        assert len(app.dataframe[0].value) == len(result["learners"])
        assert result["machine"] and result["command"].startswith("python -m metalearn_core")
