"""Train page session helpers that need no running page."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from studio_ui import train_session as session


class CountingState(dict):
    """A stand-in for ``st.session_state`` that counts reads (Streamlit's yield points)."""

    reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return super().__getitem__(key)


def test_slow_motion_pause_yields_every_slice_and_ends_on_pause(monkeypatch):
    train = session.TrainSession(playing=True)
    state = CountingState({session.KEY: train})
    monkeypatch.setattr(session.st, "session_state", state)
    start = time.perf_counter()
    session.slow_motion_pause(0.3, slice_seconds=0.05)
    assert 0.3 <= time.perf_counter() - start < 0.45
    assert state.reads >= 6  # a point every slice where a press can stop the run

    threading.Timer(0.1, train.pause).start()
    start = time.perf_counter()
    session.slow_motion_pause(2.0, slice_seconds=0.05)
    assert time.perf_counter() - start < 0.3  # paused: no need to sleep out the rest


def test_trainer_is_none_before_the_page_ran_and_the_run_after(monkeypatch):
    monkeypatch.setattr(session.st, "session_state", {})
    assert session.trainer() is None
    state = session.current()
    assert session.current() is state and session.trainer() is None
    state.trainer = "the run"  # any object: other pages only pass it on
    assert session.trainer() == "the run"


def test_attempt_returns_the_message_of_any_error_and_logs_unexpected_ones(monkeypatch):
    logged = []  # the app's logging setup may stop propagation: record the call itself
    monkeypatch.setattr(session.log, "exception", lambda *args: logged.append(args[0] % args[1:]))
    state = session.TrainSession()
    assert state.attempt("adding", lambda: 1 + 1) == (2, None)
    assert state.attempt("checking", lambda: int("x"))[1].startswith("invalid literal")
    state.remember_upload_name(Path("/tmp/uploads/abc.zip"), "mine.zip")

    def broken() -> None:
        raise RuntimeError("/tmp/uploads/abc.zip is odd")

    assert logged == []  # the expected ValueError above was not logged as a bug
    result, message = state.attempt("opening", broken)
    assert result is None and message == "RuntimeError: the uploaded mine.zip is odd"
    assert logged == ["opening failed"]  # a bug: logged with its trace


class FakeRun:
    iteration, episodes_seen, divergence = 3, 6, None


def test_the_pending_action_is_typed_and_its_question_counts_the_run_as_it_is_now():
    state = session.TrainSession(trainer=FakeRun())
    state.request_reset()
    assert isinstance(state.pending, session.ConfirmReset)
    assert "discards 6 episodes of training (3 meta-iterations)" in state.confirm_message()
    state.trainer.episodes_seen = 8
    assert "discards 8 episodes" in state.confirm_message()
    state.cancel()
    assert state.pending is None and state.confirm_message() is None
    state.pending = session.ConfirmUpload("run.zip", candidate=FakeRun())
    assert state.confirm_message().startswith("Open run.zip? It replaces the current run")
