"""Trainers for a class: at most ``max_training_sessions`` sessions train at once, the
others wait in line, and the turns rotate fairly.

Measured (BENCHMARKS.md, "A class on one server"): with thirty Play loops training at
once on two cores, each got a thirtieth of the CPU in tiny slices, their redraws took
the rest, and a press waited seconds behind them. So a Play loop (the Train page's, the
Compare page's, the GAN Lab's; the few-shot GAN page's Meta-train press too) first
takes one of a few *slots*, one per core by
default, and gives it back when it stops. Sessions without a slot wait in one line,
first come first served (not a race on a lock: the longest waiter is next), sleeping
between looks at their place, without redrawing anything but their place in line.
A session that has trained for ``training_slice_seconds`` while others wait goes to
the back of the line, so that every session advances and all advance at about the
same rate.

A press never waits in line: Pause and Reset stop the waiting loop at its next look
(the script run ends, and with it the session's place: every new script run of a
session gives up what its previous run held, ``sessions.register_session``; a closed
tab's is given up by the session reaper within seconds), and Step trains one
meta-iteration at once, outside the line, in the press's own script run (one
meta-iteration is short, its size bounded by the classroom limits).

``TrainingSlots`` is the bookkeeping alone (no Streamlit, a clock that tests replace);
``TrainerTurns`` is what a page's Play loop uses.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from studio_ui.i18n import _

WAIT_POLL_SECONDS = 0.1  # a waiting loop looks at its place (and at presses) this often
# A slot or place whose session has not looked for this long is given up: its script
# run ended without saying so (the process's other threads never lose a slot to it).
STALE_SECONDS = 30.0


@dataclass
class TrainingSlots:
    """Process-wide: which sessions hold a training slot, and the line of those waiting."""

    capacity: int = 2
    slice_seconds: float = 1.5
    clock: Callable[[], float] = time.monotonic
    holders: dict[str, float] = field(default_factory=dict)  # session -> its turn began
    line: deque[str] = field(default_factory=deque)  # waiting sessions, first in front
    last_seen: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, capacity: int, slice_seconds: float) -> None:
        """The teacher's current limits (read again on every Play)."""
        with self.lock:
            self.capacity, self.slice_seconds = capacity, slice_seconds
            self._grant(self.clock())

    def try_acquire(self, session_id: str) -> bool:
        """True when ``session_id`` holds a slot (taking a free one if it is next in line);
        otherwise it stands in line (once) and False."""
        with self.lock:
            now = self.clock()
            self.last_seen[session_id] = now
            self._drop_stale(now)
            if session_id in self.holders:
                return True
            if session_id not in self.line:
                self.line.append(session_id)
            self._grant(now)
            return session_id in self.holders

    def turn_over(self, session_id: str) -> bool:
        """After a tick: if this session's turn is spent and others wait, it goes to the
        back of the line and the next one trains. True when it gave its slot away."""
        with self.lock:
            now = self.clock()
            self.last_seen[session_id] = now
            began = self.holders.get(session_id)
            if began is None or not self.line or now - began < self.slice_seconds:
                return False
            del self.holders[session_id]
            self.line.append(session_id)
            self._grant(now)
            return session_id not in self.holders

    def leave(self, session_id: str) -> None:
        """The session stops training or waiting (Pause, a press, a closed tab)."""
        with self.lock:
            self._forget(session_id)
            self._grant(self.clock())

    def position(self, session_id: str) -> int | None:
        """1 for the next in line; None for a session that trains or does not wait."""
        with self.lock:
            try:
                return self.line.index(session_id) + 1
            except ValueError:
                return None

    def training(self) -> int:
        with self.lock:
            return len(self.holders)

    def waiting(self) -> int:
        with self.lock:
            return len(self.line)

    def drop(self, gone: Callable[[str], bool]) -> list[str]:
        """Give up the slots and places of sessions for which ``gone(id)`` holds (closed
        tabs: their Play loops have stopped); their ids."""
        with self.lock:
            dropped = [s for s in {*self.holders, *self.line} if gone(s)]
            for session_id in dropped:
                self._forget(session_id)
            self._grant(self.clock())
        return dropped

    def known(self, session_id: str) -> bool:
        """Whether the session holds a slot or a place (tests: a closed tab's is gone)."""
        with self.lock:
            return session_id in self.holders or session_id in self.line

    def _grant(self, now: float) -> None:
        while self.line and len(self.holders) < self.capacity:
            self.holders[self.line.popleft()] = now

    def _forget(self, session_id: str) -> None:
        self.holders.pop(session_id, None)
        self.last_seen.pop(session_id, None)
        try:
            self.line.remove(session_id)
        except ValueError:
            pass

    def _drop_stale(self, now: float) -> None:
        for session_id, seen in list(self.last_seen.items()):
            if now - seen > STALE_SECONDS:
                self._forget(session_id)


_slots = TrainingSlots()


def training_slots() -> TrainingSlots:
    """The process's slots (one line for every page and session)."""
    return _slots


def ordinal_notice(position: int) -> str:
    """What a waiting student reads, translated."""
    return _(
        "Waiting for a free trainer: number {position} in line. Training starts by itself "
        "when a trainer is free; Pause leaves the line, Step trains one iteration at once."
    ).format(position=position)


class TrainerTurns:
    """A page's Play loop, in turns: ``wait()`` before each tick's training, ``done()``
    after it, and the slot is given back when the ``with`` block ends (however it ends:
    Pause, a press's rerun, a closed tab)::

        with TrainerTurns(notice_slot, session.is_playing) as turns:
            while session.is_playing():
                if not turns.wait():
                    break
                trainer.run_tick(...)
                draw(...)
                turns.done()

    Args:
        notice_slot: an ``st.empty()`` where the place in line shows while waiting.
        still_playing: reads the session's Play state *through* ``st.session_state``:
            each read is a point where Streamlit ends the run for a press.
        session_id: this browser session (the script run's, by default).
    """

    def __init__(
        self,
        notice_slot,
        still_playing: Callable[[], bool],
        session_id: str | None = None,
        slots: TrainingSlots | None = None,
    ):
        from studio_ui.classroom import server_limits
        from studio_ui.sessions import current_session_id

        self.notice_slot = notice_slot
        self.still_playing = still_playing
        self.session_id = current_session_id() if session_id is None else session_id
        self.slots = training_slots() if slots is None else slots
        # a session runs one script at a time: this run's loop is the only one it has, and
        # whatever an earlier run held (however it ended) is free again
        self.slots.leave(self.session_id)
        limits = server_limits()
        self.slots.configure(limits.max_training_sessions, limits.training_slice_seconds)
        self.waited_seconds = 0.0

    def wait(self) -> bool:
        """Hold a slot before training: True at once when the session holds one, else after
        waiting in line (its place shown); False if Play stopped while waiting."""
        shown: int | None = None
        started = time.monotonic()
        while not self.slots.try_acquire(self.session_id):
            if not self.still_playing():
                self.slots.leave(self.session_id)
                return False
            position = self.slots.position(self.session_id)
            if position is not None and position != shown:
                self.notice_slot.info(ordinal_notice(position), icon=":material/hourglass:")
                shown = position
            time.sleep(WAIT_POLL_SECONDS)
        if shown is not None:
            self.notice_slot.empty()
            self.waited_seconds += time.monotonic() - started
        return True

    def done(self) -> None:
        """After a tick: give the slot to the next in line if this turn is spent."""
        self.slots.turn_over(self.session_id)

    def __enter__(self) -> TrainerTurns:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.slots.leave(self.session_id)


def forget_session(session_id: str) -> None:
    """A closed tab's session gives up its slot and place (the reaper calls this)."""
    _slots.leave(session_id)
