"""The GAN pages' session objects, without a page: what each action does to the state."""

from __future__ import annotations

import pytest

from metalearn_core.gan.fewshot_tasks import DOMAIN_CONFIGS, RingDomain
from metalearn_core.gan.toy_gan import ToyGANConfig
from studio_ui.gan_session import (
    LAB_KEY,
    FewShotSession,
    LabSession,
    MetaTrainAction,
    StepAction,
)

SMALL = ToyGANConfig(batch_size=32, g_hidden=16, d_hidden=16)


def test_a_step_pauses_play_and_is_taken_once_when_the_page_runs():
    session = LabSession()
    session.sync(SMALL)
    session.play()
    session.step("generator")
    assert session.playing is False and session.pending == StepAction("generator")
    session.run_pending()
    session.run_pending()  # nothing left to do
    assert (session.model.d_updates, session.model.g_updates) == (0, 1)
    assert session.pending is None


def test_sync_keeps_a_trained_gan_and_names_what_it_keeps():
    session = LabSession()
    session.sync(SMALL)
    untrained = session.model
    assert session.sync(SMALL.replace(seed=3)) == [] and session.model is not untrained
    session.step("both")
    session.run_pending()
    trained = session.model
    kept = session.sync(SMALL.replace(seed=4, pack=1, g_lr=5e-4))
    assert kept == ["pack 2", "seed 3"] and session.model is trained
    assert trained.g_optimizer.param_groups[0]["lr"] == pytest.approx(5e-4)  # live at once
    session.reset()
    assert session.model is None and session.sync(SMALL.replace(seed=4, pack=1)) == []


def test_a_preset_fills_the_widgets_and_replaces_only_an_untrained_gan():
    state: dict = {}
    session = LabSession.of(state)
    assert state[LAB_KEY] is session and LabSession.of(state) is session
    session.sync(SMALL)
    session.load_preset("mode_collapse", state)
    assert (state["gan_pack"], state["gan_g_steps"]) == (1, 5) and "gan_seed" not in state
    assert session.model is None  # untrained: rebuilt from the new settings
    session.sync(SMALL)
    session.step("both")
    session.run_pending()
    trained = session.model
    session.load_preset("wgan_gp", state)
    assert session.model is trained and state["gan_loss"] == "wgan_gp"


def test_few_shot_meta_training_runs_as_asked_and_refuses_past_the_limit():
    session = FewShotSession()
    domain = RingDomain(DOMAIN_CONFIGS["rings"].k_shot)
    fs = session.select("rings", 0, domain)
    session.meta_train(2)
    assert session.pending == MetaTrainAction(2)
    seen = []
    session.run_pending(lambda done, total: seen.append((done, total)))
    assert fs.iteration == 2 and seen == [(1, 2), (2, 2)]
    session.meta_train(5000)
    with pytest.raises(ValueError, match="between 1 and 2000, got 5000"):
        session.run_pending(lambda done, total: None)
    assert fs.iteration == 2 and session.pending is None


def test_few_shot_meta_training_takes_turns_on_the_servers_trainers():
    """Each iteration waits for a trainer and hands it on after; a press that leaves the
    line (the run ended while waiting) stops the meta-training there."""

    class Turns:
        def __init__(self, granted: int) -> None:
            self.granted, self.calls = granted, []

        def wait(self) -> bool:
            self.calls.append("wait")
            return self.calls.count("wait") <= self.granted

        def done(self) -> None:
            self.calls.append("done")

    session = FewShotSession()
    fs = session.select("rings", 0, RingDomain(DOMAIN_CONFIGS["rings"].k_shot))
    session.meta_train(4)
    turns = Turns(granted=2)
    session.run_pending(lambda done, total: None, turns)
    assert fs.iteration == 2 and turns.calls == ["wait", "done", "wait", "done", "wait"]
