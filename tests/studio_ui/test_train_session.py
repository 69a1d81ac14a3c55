"""Train page session helpers that need no running page."""

from __future__ import annotations

import threading
import time

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
