"""A real server with one trainer: the second student waits in a visible line, the turns
rotate so both advance, and presses (Pause, Step) act at once while waiting."""

from __future__ import annotations

import time

import pytest

from studio_ui.serving import StreamlitServer

from .conftest import PLAY, PRESS_SECONDS, open_train_page, step

pytestmark = pytest.mark.server
IN_LINE = "number 1 in line"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = tmp_path_factory.mktemp("classroom") / "classroom.toml"
    config.write_text("[classroom]\nmax_training_sessions = 1\ntraining_slice_seconds = 0.5\n")
    env = {"METALEARN_CLASSROOM_CONFIG": str(config), "METALEARN_ORPHAN_SECONDS": "3"}
    with StreamlitServer(env=env) as running:
        yield running


def test_one_trainer_two_students_the_second_waits_in_line_and_both_advance(server):
    address = f"127.0.0.1:{server.port}"
    first, second = open_train_page(address), open_train_page(address)
    try:
        first.press(PLAY)
        assert first.wait_for(lambda s: (s.count("Episodes") or 0) > 0, PRESS_SECONDS)
        second.press(PLAY)
        assert second.wait_for(lambda s: s.label(PLAY) == "Pause", PRESS_SECONDS)
        # the first holds the trainer for its turn: the second sees its place in line...
        assert second.wait_for(lambda s: any(IN_LINE in n for n in s.notices), PRESS_SECONDS)
        # ...and the turns rotate (half a second each): both advance
        counts = (first.count("Episodes"), second.count("Episodes") or 0)
        assert first.wait_for(lambda s: s.count("Episodes") > counts[0], PRESS_SECONDS)
        assert second.wait_for(lambda s: (s.count("Episodes") or 0) > counts[1], PRESS_SECONDS)
        assert first.errors == [] and second.errors == []
    finally:
        first.close()
        second.close()


def test_while_waiting_pause_and_step_act_at_once(server):
    address = f"127.0.0.1:{server.port}"
    holder, waiter = open_train_page(address), open_train_page(address)
    try:
        holder.press(PLAY)
        assert holder.wait_for(lambda s: (s.count("Episodes") or 0) > 0, PRESS_SECONDS)
        waiter.notices.clear()
        waiter.press(PLAY)
        assert waiter.wait_for(lambda s: any(IN_LINE in n for n in s.notices), PRESS_SECONDS)
        start = time.monotonic()
        waiter.press(PLAY)  # Pause, while in line
        assert waiter.wait_for(lambda s: s.label(PLAY) == "Play", PRESS_SECONDS)
        paused_after = time.monotonic() - start
        # Step does not wait for a trainer: one iteration in the press's own run
        before = waiter.count("Episodes")
        start = time.monotonic()
        assert step(waiter) > before
        stepped_after = time.monotonic() - start
        # bounded by one turn at most, not by the holder's whole Play (it never pauses)
        assert paused_after < 10.0 and stepped_after < 10.0, (paused_after, stepped_after)
    finally:
        holder.close()
        waiter.close()


def test_a_closed_holders_trainer_goes_to_the_next_in_line(server):
    address = f"127.0.0.1:{server.port}"
    holder, waiter = open_train_page(address), open_train_page(address)
    try:
        holder.press(PLAY)
        assert holder.wait_for(lambda s: (s.count("Episodes") or 0) > 0, PRESS_SECONDS)
        waiter.press(PLAY)
        holder.close()  # its slot is given up by the reaper within seconds
        before = waiter.count("Episodes") or 0
        assert waiter.wait_for(lambda s: (s.count("Episodes") or 0) > before, PRESS_SECONDS)
    finally:
        waiter.close()


def test_a_comparison_playing_holds_one_trainer_as_one_session(server):
    """The Compare page's loop takes the one trainer: a Train page's Play waits in line."""
    from studio_ui.student_client import StudentClient

    from .conftest import LOAD_SECONDS

    address = f"127.0.0.1:{server.port}"
    comparing = StudentClient(address, page="compare")
    student = open_train_page(address)
    try:
        assert comparing.wait_for(lambda s: "compare_play_pause" in s.buttons, LOAD_SECONDS)
        comparing.press("compare_play_pause")
        assert comparing.wait_for(lambda s: s.label("compare_play_pause") == "Pause", PRESS_SECONDS)
        time.sleep(1.0)  # its loop has the trainer
        student.press(PLAY)
        assert student.wait_for(lambda s: any(IN_LINE in n for n in s.notices), PRESS_SECONDS)
        assert comparing.errors == [] and student.errors == []
    finally:
        comparing.close()
        student.close()
