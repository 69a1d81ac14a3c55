"""Sessions of a shared server: what happens when a tab closes or reloads.

What Streamlit 1.67 does by itself: when a tab's websocket closes, the session's running
script is asked to stop (the Train page's Play loop ends at its next redraw, after the
step in progress) and the session, with its whole ``st.session_state`` (a student's
model, optimiser and curves), is kept for ``server.disconnectedSessionTTL`` seconds in
case the same tab reconnects. A reload is a new session. The kept session is dropped
only when a later disconnect writes to that store, so the last students' runs could
stay in memory indefinitely.

What this module adds, for every session of the process:

- ``register_session()`` (each run of ``app.py``) records the session and, on the Train
  page, gives its run a token in the URL (``?run=...``);
- a reaper thread empties the state of a session whose websocket has been closed for
  30 s (``METALEARN_ORPHAN_SECONDS``), its widgets' callbacks, uploads and the process's
  per-session records included, so its memory comes back within a minute of the tab
  closing; every two seconds it also gives a closed tab's trainer to the next in line
  (``training_slots``);
- ``claim_run()``: a tab reloaded within that time finds its run again by the URL's
  token (a run is handed over only from a session that is no longer connected, so a
  copied URL never shares a live run).

Streamlit offers no public API for another session's state or for whether a session is
connected: this module uses ``streamlit.runtime.get_instance()`` (``is_active_session``,
``media_file_mgr``) and the script-run context's session state, guarded; without them (AppTest, another
Streamlit) it does nothing and Streamlit's own behaviour applies.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import re
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import streamlit as st

log = logging.getLogger("metalearn_studio.classroom")

ORPHAN_ENV = "METALEARN_ORPHAN_SECONDS"
DEFAULT_ORPHAN_SECONDS = 30.0  # a closed tab's state is emptied after this long
MAX_ORPHAN_SECONDS = 3600.0
SLOT_CHECK_SECONDS = 2.0  # how often the reaper looks for closed tabs holding a trainer
M_ARENA_MAX = -8  # glibc's mallopt parameter number
MALLOC_ARENAS = 2
RUN_PARAM = "run"  # the URL query parameter naming a session's run
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
T = TypeVar("T")


def orphan_seconds_from_env(environ: dict[str, str] | None = None) -> float:
    """Seconds a closed tab's state is kept (for a reload): ``METALEARN_ORPHAN_SECONDS``."""
    environ = os.environ if environ is None else environ
    raw = environ.get(ORPHAN_ENV, str(DEFAULT_ORPHAN_SECONDS))
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{ORPHAN_ENV} must be a number of seconds, got {raw!r}") from None
    if not 0 < seconds <= MAX_ORPHAN_SECONDS:
        raise ValueError(f"{ORPHAN_ENV} must be in (0, {MAX_ORPHAN_SECONDS:g}], got {raw!r}")
    return seconds


@dataclass
class TrackedSession:
    """A session the reaper watches: its state, and since when it is disconnected."""

    state: Any  # Streamlit's thread-safe session state of that session
    token: str | None = None
    disconnected_since: float | None = None


@dataclass
class SessionRegistry:
    """Process-wide: session id -> TrackedSession, run token -> session id."""

    sessions: dict[str, TrackedSession] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    orphan_seconds: float = DEFAULT_ORPHAN_SECONDS
    reaped: int = 0  # sessions emptied so far (for logs and tests)

    def reap(
        self,
        is_active: Callable[[str], bool],
        now: float | None = None,
        forget_files: Callable[[str], None] | None = None,
    ) -> list[str]:
        """Empty the state of sessions disconnected for ``orphan_seconds``; their ids.

        ``forget_files(session_id)`` drops what else the server keeps for a session: the
        Train page's deferred download holds the page script's globals, the run with them.
        """
        now = time.monotonic() if now is None else now
        emptied: list[tuple[str, TrackedSession]] = []
        with self.lock:
            for session_id, tracked in list(self.sessions.items()):
                if is_active(session_id):
                    tracked.disconnected_since = None
                elif tracked.disconnected_since is None:
                    tracked.disconnected_since = now
                elif now - tracked.disconnected_since >= self.orphan_seconds:
                    del self.sessions[session_id]
                    if tracked.token is not None:
                        self.tokens.pop(tracked.token, None)
                    emptied.append((session_id, tracked))
        for session_id, tracked in emptied:
            empty_state(tracked.state)
            forget_session(session_id)
            if forget_files is not None:
                forget_files(session_id)
        if emptied:
            self.reaped += len(emptied)
            release_memory()
            log.info(
                "emptied the state of %d closed session(s); %d run(s) still held in the process",
                len(emptied),
                len(LIVE_RUNS),
            )
        return [session_id for session_id, _ in emptied]


def empty_state(state: Any) -> None:
    """Delete every key of a (disconnected) session's state: its runs become garbage.

    Deleting the keys leaves Streamlit's records of the session's widgets, and a
    button's callback is a bound method of the page's state (``TrainSession.play``):
    it would keep the run alive until Streamlit drops the session itself, minutes later
    or never. Those records are cleared too (``SessionState.clear``, what
    ``st.session_state.clear()`` does in the session's own script run, and the widgets'
    metadata, which that leaves; private to Streamlit 1.67, hence looked up with care).
    """
    for key in list(state.filtered_state):
        try:
            del state[key]
        except (KeyError, AttributeError):  # a widget's value: dropped with the session
            pass
    inner, lock = getattr(state, "_state", None), getattr(state, "_lock", None)
    if inner is None or lock is None or not hasattr(inner, "clear"):
        return  # not Streamlit's session state (tests): its keys were all there was
    with lock:
        inner.clear()
        # SessionState.clear keeps the widgets' metadata, whose callbacks hold the runs
        metadata = getattr(getattr(inner, "_new_widget_state", None), "widget_metadata", None)
        if isinstance(metadata, dict):
            metadata.clear()


def forget_session(session_id: str) -> None:
    """What the process keeps per session outside its state: its training slot or place
    in line, its entries in the redraw budget and in the page runs answering presses."""
    from studio_ui.training_slots import forget_session as leave_line

    leave_line(session_id)
    with _ticks_lock:
        _last_ticks.pop(session_id, None)
        _interactive.pop(session_id, None)


# Every model a page builds (a run, a comparison, a GAN), weakly: the reaper's log says
# how many are still alive after closed sessions are emptied (none once every tab closed).
LIVE_RUNS: weakref.WeakSet = weakref.WeakSet()


def track_run(run: T) -> T:
    """Count ``run`` among the process's live runs (until it is garbage); returns it."""
    LIVE_RUNS.add(run)
    return run


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Cap glibc's malloc arenas for the threads created from now on.

    glibc gives threads arenas of their own, up to eight per core; every Play loop runs
    in a script thread of its own, and each arena keeps freed pages it can rarely hand
    back (measured: a class of 30 left the server ~200 MB above its baseline). The start
    scripts set ``MALLOC_ARENA_MAX`` as well, which also covers the threads that start
    before the app's first run.
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):  # not glibc
        pass


def release_memory() -> None:
    """Collect the freed runs now and give freed heap pages back to the system (glibc)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the allocator keeps its pages
        pass


def _runtime_and_context():
    """Streamlit's runtime and this script run's context, or (None, None) outside a server."""
    try:
        from streamlit import runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return None, None
    if not runtime.exists():
        return None, None
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not hasattr(runtime.get_instance(), "is_active_session"):
        return None, None
    return runtime.get_instance(), ctx


def _reap_forever(registry: SessionRegistry, runtime) -> None:
    files = getattr(runtime, "media_file_mgr", None)

    uploads = getattr(runtime, "uploaded_file_mgr", None)
    tables = getattr(runtime, "dataframe_source_mgr", None)

    def forget_files(session_id: str) -> None:
        # Streamlit does this when a session shuts down, which a closed tab's never does
        if files is not None:
            files.clear_session_refs(session_id)
            files.remove_orphaned_files()
        if uploads is not None and hasattr(uploads, "remove_session_files"):
            uploads.remove_session_files(session_id)  # uploaded zips, held in memory
        if tables is not None and hasattr(tables, "clear_all_for_session"):
            tables.clear_all_for_session(session_id)

    from studio_ui.training_slots import training_slots

    while True:  # a daemon thread: it ends with the process
        time.sleep(min(SLOT_CHECK_SECONDS, registry.orphan_seconds / 4))
        try:
            # a closed tab's Play loop has stopped: its trainer goes to the next in line now
            training_slots().drop(lambda session_id: not runtime.is_active_session(session_id))
            registry.reap(runtime.is_active_session, forget_files=forget_files)
        except Exception:  # never let the reaper die silently
            log.exception("session reaper failed")


@st.cache_resource(show_spinner=False)
def session_registry() -> SessionRegistry:
    """The process's registry, with its reaper thread started (once)."""
    registry = SessionRegistry(orphan_seconds=orphan_seconds_from_env())
    limit_malloc_arenas()  # before the script threads of the class start
    runtime, _ = _runtime_and_context()
    if runtime is not None:
        threading.Thread(
            target=_reap_forever, args=(registry, runtime), name="session-reaper", daemon=True
        ).start()
    return registry


def register_session() -> SessionRegistry | None:
    """Record this session for the reaper (call on every run of ``app.py``)."""
    runtime, ctx = _runtime_and_context()
    if runtime is None:
        return None
    registry = session_registry()
    with registry.lock:
        tracked = registry.sessions.get(ctx.session_id)
        if tracked is None:
            registry.sessions[ctx.session_id] = TrackedSession(ctx.session_state)
        else:
            tracked.disconnected_since = None
    # A session runs one script at a time: a new run means its previous run's Play loop
    # has ended, however it ended (a press, st.rerun, an error), so its trainer is free.
    from studio_ui.training_slots import training_slots

    training_slots().leave(ctx.session_id)
    return registry


def claim_run() -> None:
    """On the Train page: give this session's run a URL token, or take back the run of a
    closed session whose URL this tab was reloaded with. Call before the page reads its
    state."""
    runtime, ctx = _runtime_and_context()
    if runtime is None:
        return
    registry = register_session()
    session_id = ctx.session_id
    asked = st.query_params.get(RUN_PARAM)
    with registry.lock:
        mine = registry.sessions[session_id]
        if mine.token is None and asked is not None and TOKEN_PATTERN.fullmatch(asked):
            owner = registry.tokens.get(asked)
            previous = registry.sessions.get(owner) if owner is not None else None
            if (
                previous is not None
                and owner != session_id
                and not runtime.is_active_session(owner)
            ):
                _hand_over(previous.state, st.session_state)
                registry.tokens[asked] = session_id
                mine.token, previous.token = asked, None
                log.info("a reloaded tab took back its run")
        if mine.token is None:
            mine.token = secrets.token_urlsafe(16)
            registry.tokens[mine.token] = session_id
        token = mine.token
    if st.query_params.get(RUN_PARAM) != token:
        st.query_params[RUN_PARAM] = token


def _hand_over(previous: Any, current: Any) -> None:
    """Move a closed session's Train page state into this one, paused, with the settings
    form showing its run."""
    from studio_ui import train_session as session
    from studio_ui.train_settings import restore_settings

    try:
        state = previous[session.KEY]
        del previous[session.KEY]
    except KeyError:
        return
    state.playing = False
    current[session.KEY] = state
    if state.trainer is not None:
        state.hidden_settings = session.page_config(state.trainer)
        restore_settings(state.hidden_settings)


# ----------------------------------------------------------------------------- live redraws
# Measured (BENCHMARKS.md, "A class on one server"): with many students playing, the
# server's time goes to redrawing their pages (figures to JSON, messages), not to
# training, and a press waits behind every other session's redraws. The Play loops
# therefore share a redraw budget: with more students playing, each loop trains longer
# between redraws, and a press still acts after the step in progress (``yield_to_presses``).
REDRAWS_PER_SECOND = 16.0  # live redraws per second the whole server affords (2 cores)
PLAYING_WINDOW = 3.0  # seconds since its last tick for a session to count as playing

_last_ticks: dict[str, float] = {}
_ticks_lock = threading.Lock()


def shared_tick_seconds(tick_seconds: float, session_id: str | None = None) -> float:
    """Training time before this session's next redraw: ``tick_seconds``, stretched so
    that all playing sessions together redraw about ``REDRAWS_PER_SECOND`` times a second."""
    session_id = _session_id() if session_id is None else session_id
    now = time.monotonic()
    with _ticks_lock:
        _last_ticks[session_id] = now
        for other, seen in list(_last_ticks.items()):
            if now - seen > PLAYING_WINDOW:
                del _last_ticks[other]
        playing = len(_last_ticks)
    return max(tick_seconds, playing / REDRAWS_PER_SECOND)


# A press reruns its page in a script thread that shares the interpreter lock with every
# playing session's loop; with 30 loops it got a thirtieth of the time (a Step took 20 s
# to show). Page runs that answer a press therefore go first: playing loops pause between
# steps while another session's page run is under way (at most GIVE_WAY_SECONDS at a time,
# and a run older than INTERACTIVE_FRESH no longer counts, should it never say it ended).
INTERACTIVE_FRESH = 5.0
GIVE_WAY_SECONDS = 2.0
_interactive: dict[str, float] = {}


def current_session_id() -> str:
    """This script run's session id ("" outside a server: AppTest, plain tests)."""
    _, ctx = _runtime_and_context()
    if ctx is not None:
        return ctx.session_id
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return ""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else ""


_session_id = current_session_id


def interactive_run_started() -> None:
    """A page run that answers a press begins (call at the top of the page)."""
    with _ticks_lock:
        _interactive[_session_id()] = time.monotonic()


def interactive_run_done() -> None:
    """The page has been drawn (call before its Play loop)."""
    with _ticks_lock:
        _interactive.pop(_session_id(), None)


def others_interactive(session_id: str, now: float | None = None) -> bool:
    now = time.monotonic() if now is None else now
    with _ticks_lock:
        return any(
            other != session_id and now - started < INTERACTIVE_FRESH
            for other, started in _interactive.items()
        )


def give_way(session_id: str, max_seconds: float = GIVE_WAY_SECONDS) -> None:
    """Sleep (the interpreter lock free) while another session's page run is under way."""
    deadline = time.monotonic() + max_seconds
    while others_interactive(session_id) and time.monotonic() < deadline:
        time.sleep(0.02)


def yield_to_presses() -> bool:
    """Between training steps: give way to other sessions' presses, then read the session
    state, where Streamlit stops a script run for this session's own press (a rerun
    request), so a long tick never holds a press back more than a step. False while
    nothing was pressed."""
    from studio_ui import train_session as session

    give_way(_session_id())
    return not session.is_playing()
