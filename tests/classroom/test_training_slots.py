"""Trainers for a class: a bounded number train at once, the rest wait in a fair line."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from metalearn_core.engine.limits import ServerLimits
from studio_ui.serving import REPO_ROOT
from studio_ui.training_slots import STALE_SECONDS, TrainerTurns, TrainingSlots


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _slots(capacity: int = 2, slice_seconds: float = 1.5) -> tuple[TrainingSlots, FakeClock]:
    clock = FakeClock()
    return TrainingSlots(capacity=capacity, slice_seconds=slice_seconds, clock=clock), clock


def test_at_most_capacity_train_and_the_rest_wait_first_come_first_served():
    slots, _ = _slots(capacity=2)
    assert slots.try_acquire("a") and slots.try_acquire("b")
    assert not slots.try_acquire("c") and not slots.try_acquire("d")
    assert not slots.try_acquire("c")  # asking again keeps its place, not a second one
    assert (slots.training(), slots.waiting()) == (2, 2)
    assert [slots.position(s) for s in "abcd"] == [None, None, 1, 2]
    slots.leave("a")  # Pause: the longest waiter trains next, whoever asks first
    assert not slots.try_acquire("d") and slots.try_acquire("c")
    assert slots.position("d") == 1
    slots.leave("d")  # Pause while waiting: leaves the line
    assert slots.waiting() == 0 and not slots.known("d")


def test_a_spent_turn_goes_to_the_back_of_the_line_only_when_others_wait():
    slots, clock = _slots(capacity=1, slice_seconds=1.5)
    assert slots.try_acquire("a")
    clock.now = 10.0
    assert not slots.turn_over("a")  # nobody waits: it keeps training
    assert not slots.try_acquire("b")
    assert slots.turn_over("a") and slots.try_acquire("b")  # a's turn is long spent

    slots, clock = _slots(capacity=1, slice_seconds=1.5)
    slots.try_acquire("a")
    slots.try_acquire("b")
    clock.now = 1.0
    assert not slots.turn_over("a")  # its turn is not spent yet
    clock.now = 1.5
    assert slots.turn_over("a")  # spent: b trains, a is next in line
    assert slots.try_acquire("b") and slots.position("a") == 1
    clock.now = 3.0
    assert slots.turn_over("b") and slots.try_acquire("a")


def test_thirty_sessions_on_two_trainers_all_advance_at_about_the_same_rate():
    """Ticks of 0.15 s, a turn of 1.5 s, a minute: every session trains, and the slowest
    gets at least half the median's training time (the classroom target)."""
    slots, clock = _slots(capacity=2, slice_seconds=1.5)
    sessions = [f"s{i}" for i in range(30)]
    trained = dict.fromkeys(sessions, 0.0)
    tick = 0.15
    for index, session in enumerate(sessions):  # they arrive over three seconds
        clock.now = index * 0.1
        slots.try_acquire(session)
    arrived = clock.now
    while clock.now < 60.0:
        holders = [s for s in sessions if slots.try_acquire(s)]
        assert len(holders) <= 2
        clock.now += tick
        for session in holders:
            trained[session] += tick
            slots.turn_over(session)
    times = list(trained.values())
    median = statistics.median(times)
    assert min(times) > 0 and min(times) >= 0.5 * median, sorted(times)
    assert sum(times) == pytest.approx(2 * (60.0 - arrived), rel=0.01)  # both trainers always busy


def test_sessions_that_stopped_looking_lose_their_slot_and_place():
    slots, clock = _slots(capacity=1)
    slots.try_acquire("crashed")
    slots.try_acquire("waiting")
    clock.now = STALE_SECONDS + 1
    assert slots.try_acquire("waiting")  # the silent holder was given up
    assert not slots.known("crashed")
    slots.try_acquire("closed-tab")
    assert slots.drop(lambda session: session in {"waiting", "closed-tab"}) is not None
    assert slots.training() == 0 and slots.waiting() == 0


class FakeNotice:
    def __init__(self) -> None:
        self.shown: list[str] = []
        self.cleared = 0

    def info(self, text: str, icon: str | None = None) -> None:
        self.shown.append(text)

    def empty(self) -> None:
        self.cleared += 1


def test_a_waiting_loop_shows_its_place_once_and_trains_when_a_trainer_is_free(monkeypatch):
    monkeypatch.setattr(
        "studio_ui.classroom.server_limits",
        lambda: ServerLimits(max_training_sessions=1, training_slice_seconds=0.2),
    )
    slots = TrainingSlots()
    notice = FakeNotice()
    holder = TrainerTurns(FakeNotice(), lambda: True, session_id="holder", slots=slots)
    assert slots.capacity == 1 and slots.slice_seconds == 0.2  # the teacher's limits
    assert holder.wait()
    waiter = TrainerTurns(notice, lambda: True, session_id="waiter", slots=slots)
    threading.Timer(0.5, lambda: slots.leave("holder")).start()
    start = time.monotonic()
    assert waiter.wait()
    assert 0.4 <= time.monotonic() - start < 5.0
    assert len(notice.shown) == 1 and "number 1 in line" in notice.shown[0]
    assert notice.cleared == 1 and slots.position("waiter") is None


def test_pause_while_waiting_leaves_the_line_at_once(monkeypatch):
    monkeypatch.setattr(
        "studio_ui.classroom.server_limits", lambda: ServerLimits(max_training_sessions=1)
    )
    slots = TrainingSlots(capacity=1)
    slots.try_acquire("holder")
    playing = {"on": True}
    waiter = TrainerTurns(FakeNotice(), lambda: playing["on"], session_id="w", slots=slots)
    threading.Timer(0.3, lambda: playing.update(on=False)).start()
    start = time.monotonic()
    assert not waiter.wait()
    assert time.monotonic() - start < 2.0 and not slots.known("w")
    with TrainerTurns(FakeNotice(), lambda: True, session_id="holder", slots=slots) as turns:
        assert turns.wait()
    assert not slots.known("holder")  # the with block gives the slot back


def test_the_limits_hold_the_trainers_and_the_turn():
    limits = ServerLimits.from_toml(
        "[classroom]\nmax_training_sessions = 4\ntraining_slice_seconds = 0.5\n"
    )
    assert (limits.max_training_sessions, limits.training_slice_seconds) == (4, 0.5)
    assert ServerLimits().max_training_sessions == 2  # one per core of a 2-core server
    # the commented copy in deploy/ states the defaults
    assert ServerLimits.from_toml((REPO_ROOT / "deploy" / "classroom.toml").read_text()) == (
        ServerLimits()
    )
    for bad in ("0", "-1", "100", '"soon"', "true"):
        with pytest.raises(ValueError, match="training_slice_seconds"):
            ServerLimits.from_toml(f"[classroom]\ntraining_slice_seconds = {bad}\n")


def test_a_new_page_run_frees_what_the_sessions_earlier_run_held(monkeypatch):
    """A run that ended by an exception (st.rerun, a press) never reached its release."""
    monkeypatch.setattr(
        "studio_ui.classroom.server_limits", lambda: ServerLimits(max_training_sessions=1)
    )
    slots = TrainingSlots(capacity=1)
    assert slots.try_acquire("student")  # the earlier run's loop, ended without release
    assert not slots.try_acquire("other")
    TrainerTurns(FakeNotice(), lambda: True, session_id="student", slots=slots)
    assert not slots.known("student") and slots.try_acquire("other")
