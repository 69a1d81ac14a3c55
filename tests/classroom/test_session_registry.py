"""The session reaper: a closed tab's state is emptied after the grace time, never a live one's."""

from __future__ import annotations

import pytest

from studio_ui.sessions import (
    DEFAULT_ORPHAN_SECONDS,
    SessionRegistry,
    TrackedSession,
    orphan_seconds_from_env,
)


class FakeState(dict):
    """The slice of Streamlit's session state the reaper uses."""

    @property
    def filtered_state(self) -> dict:
        return dict(self)


def _registry(**sessions: FakeState) -> SessionRegistry:
    registry = SessionRegistry(orphan_seconds=30.0)
    for session_id, state in sessions.items():
        registry.sessions[session_id] = TrackedSession(state, token=f"token-{session_id}")
        registry.tokens[f"token-{session_id}"] = session_id
    return registry


def test_a_closed_session_is_emptied_only_after_the_grace_time():
    closed, open_ = FakeState(train_trainer=object()), FakeState(train_trainer=object())
    registry = _registry(closed=closed, open=open_)
    active = {"open"}.__contains__
    assert registry.reap(active, now=100.0) == []  # first seen disconnected
    assert registry.reap(active, now=129.0) == [] and "train_trainer" in closed
    forgotten: list[str] = []
    assert registry.reap(active, now=130.0, forget_files=forgotten.append) == ["closed"]
    assert forgotten == ["closed"]  # its deferred download (holding the run) dropped too
    assert closed == {} and "train_trainer" in open_
    assert "closed" not in registry.sessions and "token-closed" not in registry.tokens
    assert registry.reap(active, now=1000.0) == [] and "train_trainer" in open_


def test_a_session_that_reconnects_in_time_keeps_its_state():
    state = FakeState(train_trainer=object())
    registry = _registry(blip=state)
    registry.reap(lambda _: False, now=0.0)
    registry.reap(lambda _: True, now=20.0)  # the websocket came back
    assert registry.reap(lambda _: False, now=40.0) == []  # disconnected anew at 40 s
    assert registry.reap(lambda _: False, now=69.0) == [] and state
    assert registry.reap(lambda _: False, now=70.0) == ["blip"] and not state


def test_the_grace_time_comes_from_the_environment_and_is_checked():
    assert orphan_seconds_from_env({}) == DEFAULT_ORPHAN_SECONDS
    assert orphan_seconds_from_env({"METALEARN_ORPHAN_SECONDS": "5"}) == 5.0
    for bad in ("soon", "0", "-3", "1e9"):
        with pytest.raises(ValueError, match="METALEARN_ORPHAN_SECONDS"):
            orphan_seconds_from_env({"METALEARN_ORPHAN_SECONDS": bad})


def test_playing_sessions_share_a_redraw_budget():
    from studio_ui import sessions as classroom

    classroom._last_ticks.clear()
    assert classroom.shared_tick_seconds(0.12, "alone") == 0.12
    budget = classroom.REDRAWS_PER_SECOND
    for index in range(int(2 * budget)):
        seconds = classroom.shared_tick_seconds(0.12, f"student-{index}")
    assert seconds == pytest.approx((2 * budget + 1) / budget)  # about 2 s between redraws
    classroom._last_ticks.update(dict.fromkeys(classroom._last_ticks, 0.0))  # all stale
    assert classroom.shared_tick_seconds(0.12, "alone") == 0.12
    classroom._last_ticks.clear()


def test_playing_loops_give_way_to_another_sessions_page_run_for_a_bounded_time():
    import time

    from studio_ui import sessions as classroom

    classroom._interactive.clear()
    classroom._interactive["pressing"] = time.monotonic()
    assert classroom.others_interactive("playing") and not classroom.others_interactive("pressing")
    start = time.monotonic()
    classroom.give_way("playing", max_seconds=0.2)
    assert 0.15 <= time.monotonic() - start < 1.0  # waited, but not forever
    classroom._interactive["pressing"] = time.monotonic() - classroom.INTERACTIVE_FRESH
    assert not classroom.others_interactive("playing")  # a run that never said it ended
    classroom._interactive.clear()


def test_a_reaped_sessions_runs_are_released_callbacks_and_slots_included():
    """With Streamlit's own session state: a button's callback (a bound method of the
    page's state) must not keep the run alive, nor may the trainer line or the redraw
    budget keep the session."""
    import gc
    import weakref

    from streamlit.runtime.state import SafeSessionState, SessionState
    from streamlit.runtime.state.common import WidgetMetadata

    from metalearn_core.engine import RunConfig, Trainer
    from studio_ui import sessions as classroom
    from studio_ui import train_session
    from studio_ui.training_slots import training_slots

    trainer = Trainer(RunConfig(dataset="blobs", algo="protonet", n_way=2, k_shot=1, q_query=1))
    trainer.run_tick(max_iterations=1)
    page = train_session.TrainSession(trainer=trainer)
    state = SafeSessionState(SessionState(), lambda: None)
    state[train_session.KEY] = page
    button = WidgetMetadata(
        id="$$ID-0-train_play_pause", deserializer=lambda v: v, serializer=lambda v: v,
        value_type="trigger_value", callback=page.pause,
    )  # fmt: skip
    state.register_widget(button, "train_play_pause")
    registry = SessionRegistry(orphan_seconds=30.0)
    registry.sessions["closed"] = TrackedSession(state, token="t")
    training_slots().try_acquire("closed")
    classroom.shared_tick_seconds(0.12, "closed")
    runs = [weakref.ref(trainer), weakref.ref(trainer.learner), weakref.ref(page)]
    del trainer, page, button

    registry.reap(lambda _: False, now=0.0)
    registry.reap(lambda _: False, now=30.0)
    gc.collect()
    assert [ref() is None for ref in runs] == [True, True, True]
    assert not training_slots().known("closed") and "closed" not in classroom._last_ticks
