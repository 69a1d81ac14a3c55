"""Few-shot GAN page through Streamlit's AppTest: meta-train, adapt both starts on an
unseen task, the scores, the rule, one kept GAN per task set and seed, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from metalearn_core.gan.fewshot_tasks import FROM_SCRATCH, META_LEARNED
from studio_ui.gan_session import (
    FEWSHOT_KEY,
    MAX_KEPT_FEWSHOT,
    MAX_PRESS_ITERATIONS,
    PAGE_MAX_SEED,
)
from studio_ui.serving import REPO_ROOT

FEWSHOT_PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "fewshot_gan.py")


@pytest.fixture
def at() -> AppTest:
    return AppTest.from_file(FEWSHOT_PAGE, default_timeout=120).run()


def session(at: AppTest):
    return at.session_state[FEWSHOT_KEY]


def metric(at: AppTest, label: str) -> str:
    for element in at.metric:
        if element.label == label:
            return element.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def meta_train(at: AppTest, iterations: int) -> None:
    at.number_input(key="fewshot_gan_iterations").set_value(iterations).run()
    at.button(key="fewshot_gan_train").click().run()


def test_the_page_opens_on_rings_with_both_starts_drawn_and_scored(at):
    assert not at.exception and not at.error
    assert at.title[0].value == "Few-shot GAN"
    assert metric(at, "Meta-iterations") == "0"
    (points,) = [chart for chart in at.get("plotly_chart") if "fewshot_gan_points" in chart.id]
    assert points is not None
    (table,) = [frame.value for frame in at.dataframe]
    assert list(table.columns) == ["score", META_LEARNED, FROM_SCRATCH, "real images", "better"]
    assert table["score"].tolist()[0] == "modes covered (of 8)"
    assert not any("_" in label for label in table["score"])  # no raw identifiers
    assert any(c.value.startswith("Unseen task: ring 0, K = 32") for c in at.caption)


def test_meta_training_then_comparing_both_starts_on_an_unseen_task(at):
    meta_train(at, 2)
    assert not at.exception
    fs = session(at).model
    assert fs.iteration == 2 and metric(at, "Meta-iterations") == "2"
    result = session(at).shown
    assert set(result.traces) == {META_LEARNED, FROM_SCRATCH}
    assert len(result.traces[FROM_SCRATCH].snapshots) == 21  # start + 20 steps
    assert result.learning_rates == {META_LEARNED: 2e-3, FROM_SCRATCH: 2e-3}
    # redone for the trained start: its step 0 is the meta-trained generator's output
    with torch.no_grad():
        start = fs.meta.generator(fs.view_noise(256, seed=1))
    assert torch.allclose(result.snapshots_after(0)[META_LEARNED], start)


def test_a_new_unseen_task_and_a_learning_rate_redo_the_comparison(at):
    at.button(key="fewshot_gan_new_task").click().run()
    assert any(c.value.startswith("Unseen task: ring 1,") for c in at.caption)
    at.select_slider(key="fewshot_gan_scratch_lr").set_value(0.01).run()
    result = session(at).shown
    assert result.learning_rates[FROM_SCRATCH] == 0.01 and result.task.name == "ring 1"


def test_the_page_states_its_reptile_rule(at):
    panel = next(e for e in at.expander if e.label.startswith("How the few-shot GAN"))
    assert "\\mathrm{GANstep}" in panel.latex[0].value
    assert panel.markdown[0].value.startswith("Each *task* is one distribution")


def test_each_task_set_and_seed_keeps_its_meta_training(at):
    meta_train(at, 2)
    trained = session(at).model
    at.number_input(key="fewshot_gan_seed").set_value(3).run()
    assert session(at).model.iteration == 0
    at.number_input(key="fewshot_gan_seed").set_value(0).run()
    assert session(at).model is trained and trained.iteration == 2
    assert metric(at, "Meta-iterations") == "2"


def test_the_session_keeps_a_bounded_number_of_trained_gans_and_says_which_it_let_go(at):
    at.number_input(key="fewshot_gan_iterations").set_value(1).run()
    for seed in range(MAX_KEPT_FEWSHOT + 1):
        at.number_input(key="fewshot_gan_seed").set_value(seed).run()
        at.button(key="fewshot_gan_train").click().run()
    assert len(session(at).models) == MAX_KEPT_FEWSHOT
    assert ("rings", 0) not in session(at).models
    assert any("the one for rings, seed 0 (1 meta-iterations) was let go" in i.value
               for i in at.info)  # fmt: skip


def test_every_number_box_has_a_limit_and_values_past_it_change_nothing(at):
    limits = {box.key: box.max for box in at.number_input}
    assert limits == {"fewshot_gan_iterations": MAX_PRESS_ITERATIONS,
                      "fewshot_gan_seed": PAGE_MAX_SEED}  # fmt: skip
    meta_train(at, 2)
    trained = session(at).model
    at.number_input(key="fewshot_gan_seed").set_value(10**20).run()  # as a hostile browser might
    at.number_input(key="fewshot_gan_iterations").set_value(10**6).run()
    assert not at.exception and not at.error
    # Streamlit refuses a value past a box's limit: the box falls back to its default
    assert at.number_input(key="fewshot_gan_seed").value == 0
    assert at.number_input(key="fewshot_gan_iterations").value == 50
    assert session(at).model is trained and trained.iteration == 2


def test_a_meta_training_request_past_the_limit_is_a_message_and_trains_nothing(at):
    meta_train(at, 1)
    session(at).meta_train(10**6)  # what a press would ask, were the box's limit not checked
    at.run()
    assert not at.exception
    assert any("between 1 and 2000, got 1000000" in e.value for e in at.error)
    assert session(at).model.iteration == 1 and session(at).pending is None
    at.run()
    assert not at.error  # said once


def test_both_gan_pages_open_through_the_app_s_navigation():
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    app.switch_page("pages/fewshot_gan.py").run()
    assert not app.exception and app.title[0].value == "Few-shot GAN"
    app.switch_page("pages/gan.py").run()
    assert not app.exception and app.title[0].value == "GAN Lab"
