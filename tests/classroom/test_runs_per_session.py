"""max_runs_per_session: the models one browser session holds, across its pages. A run
past the limit is refused with a message saying where the others are; nothing is lost."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from metalearn_core.engine import RunConfig, Trainer
from metalearn_core.engine.limits import CONFIG_ENV, ServerLimits
from metalearn_core.gan.toy_gan import ToyGAN, ToyGANConfig
from studio_ui import compare_session
from studio_ui import train_session as train
from studio_ui.classroom import RunsLimitExceeded, check_runs_budget, runs_held
from studio_ui.gan_session import LAB_KEY, LabSession
from studio_ui.serving import REPO_ROOT
from tests.pages.test_compare_page import choose as choose_learners

COMPARE_PAGE = str(REPO_ROOT / "pages" / "compare.py")
TRAIN_PAGE = str(REPO_ROOT / "pages" / "train.py")


@pytest.fixture
def runs_limit(tmp_path, monkeypatch):
    def write(limit: int) -> None:
        config = tmp_path / "classroom.toml"
        config.write_text(f"[classroom]\nmax_runs_per_session = {limit}\n")
        monkeypatch.setenv(CONFIG_ENV, str(config))

    return write


def small_trainer() -> Trainer:
    return Trainer(RunConfig(dataset="blobs", algo="protonet", n_way=2, k_shot=1, q_query=2))


def lab_with_a_gan() -> LabSession:
    lab = LabSession()
    lab.model = ToyGAN(ToyGANConfig())
    return lab


def test_runs_are_counted_per_page_and_a_page_replaces_its_own():
    state = {train.KEY: train.TrainSession(trainer=small_trainer()), LAB_KEY: lab_with_a_gan()}
    assert runs_held(state) == {"train": 1, "gan": 1}
    limits = ServerLimits(max_runs_per_session=3)
    check_runs_budget("train", 1, limits, state)  # replaces the Train run: 2 in all
    check_runs_budget("compare", 1, limits, state)  # 3 in all
    with pytest.raises(RunsLimitExceeded, match=r"4 runs .*Train 1, GAN Lab 1.*at most 3"):
        check_runs_budget("compare", 2, limits, state)
    assert ServerLimits().max_runs_per_session == 6  # a run, four learners and a GAN


def test_a_comparison_past_the_limit_is_refused_and_the_current_one_kept(runs_limit):
    runs_limit(3)
    at = AppTest.from_file(COMPARE_PAGE, default_timeout=120)
    at.session_state[train.KEY] = train.TrainSession(trainer=small_trainer())
    at.run()  # the first visit's two learners: three runs in all
    assert not at.exception and not at.error, [e.value for e in at.error]
    choose_learners(at, ["protonet", "maml"])
    before = at.session_state[compare_session.COMPARISON]
    at.button(key="compare_step").click().run()
    assert [t.iteration for t in before.trainers.values()] == [1, 1]

    at.multiselect(key=compare_session.KEY + "algos").set_value(["protonet", "maml", "reptile"])
    at.run()
    at.button(key="compare_new").click().run()  # the trained one is replaced only on request
    errors = " ".join(e.value for e in at.error)
    assert "max_runs_per_session" in errors and "Train 1" in errors, errors
    assert at.session_state[compare_session.COMPARISON] is before  # nothing lost
    assert at.session_state[train.KEY].trainer.iteration == 0
    assert not at.exception


def test_a_train_run_past_the_limit_is_refused_with_where_the_runs_are(runs_limit):
    runs_limit(1)
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60)
    at.session_state[LAB_KEY] = lab_with_a_gan()
    at.run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "GAN Lab 1" in errors and "at most 1" in errors, errors
    assert at.session_state[train.KEY].trainer is None
    assert at.session_state[LAB_KEY].model is not None  # the GAN is kept
    runs_limit(2)  # the teacher raises the limit: the next interaction builds the run
    at.run()
    assert not at.error and at.session_state[train.KEY].trainer is not None
