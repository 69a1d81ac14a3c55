"""The Train page's per-session state and the actions its buttons trigger.

Each browser session holds one ``TrainSession`` under ``st.session_state["train_session"]``:
its own ``Trainer`` (model, optimiser, samplers) and what the page shows about it; only
read-only data sources are shared between sessions. A new trainer is always built
*before* the current one is replaced, so a setting the data cannot satisfy shows an
error and leaves the current run as it was.

Every setting travels as a ``RunConfig``: the settings form returns one
(``SettingsChoice``), a run is compared with it through ``page_config``, and Reset,
"Start a new run" and an upload build from it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import streamlit as st

from metalearn_core.engine import RunConfig, Trainer
from metalearn_core.engine.limits import check_run_config
from studio_ui.classroom import (
    RunsLimitExceeded,
    check_runs_budget,
    check_upload_size,
    load_uploaded_run,
    server_limits,
)
from studio_ui.data import sources_for
from studio_ui.errors import describe_error
from studio_ui.i18n import N_, _
from studio_ui.sessions import track_run

log = logging.getLogger("metalearn_studio.train")

KEY = "train_session"  # the one session-state key of the page's state
UPLOAD_KEY = "train_upload"  # the run-zip uploader widget
# errors whose text is written for users; anything else is a bug, logged with its trace
EXPECTED_ERRORS = (ValueError, FileNotFoundError, FileExistsError)
T = TypeVar("T")
RETRY_EACH_RUN = ""  # the fingerprint of a failure that no settings match: tried again


@dataclass(frozen=True)
class Speed:
    """How the Play loop divides time between training and redrawing."""

    label: str
    tick_seconds: float | None  # training per tick; None: one meta-iteration per tick
    pause_seconds: float  # sleep after each redraw (slow motion)
    inspect_every: float  # seconds between inspector refreshes while playing


# Normal: ticks of 0.07 s give about 12 redraws a second on the quick demo (a tick ends
# after the step in progress, ~10 ms later; a redraw costs the server ~3.5 ms of CPU), so
# the chart keeps above 10 redraws a second while training fills ~95% of the loop's time
# (BENCHMARKS.md, "Live training page"). Many students playing stretch it (sessions.py).
SPEEDS = {  # keyed by the English label, the widget's value in every language
    "Slow": Speed(N_("Slow"), None, 0.6, 0.0),
    "Normal": Speed(N_("Normal"), 0.07, 0.0, 3.0),
    "Fast": Speed(N_("Fast"), 0.5, 0.0, 6.0),
}
DEFAULT_SPEED = "Normal"


@dataclass(frozen=True)
class SettingsChoice:
    """What the settings form holds: a valid ``RunConfig``, or why there is none.

    ``fingerprint`` names the chosen values either way, so that settings which failed
    are not built again on every rerun.
    """

    config: RunConfig | None
    error: str | None
    fingerprint: str


@dataclass(frozen=True)
class ConfirmReset:
    """Reset asked about: the run has trained."""


@dataclass(frozen=True, eq=False)
class ConfirmUpload:
    """An uploaded run, opened and waiting for a yes before it replaces the current one."""

    file_name: str
    candidate: Trainer


PendingAction = ConfirmReset | ConfirmUpload


def page_config(run: Trainer) -> RunConfig:
    """A run's settings as the page holds them: every hyperparameter written out, on this
    server's CPU, with the server's own thread count (never a run's) and without the
    command line's training budget (the page trains until Pause), except where the
    learning-rate schedule anneals over that budget: Reset then trains as the run did
    (past the budget its learning rate stays at the schedule's end)."""
    config = run.full_config()
    budget = {} if config.lr_schedule != "constant" else {"episodes": None, "minutes": None}
    return config.replace(device="cpu", threads=None, **budget)


@dataclass(eq=False)
class TrainSession:
    """One browser session's Train page: the run, the Play state and what awaits an answer."""

    trainer: Trainer | None = None
    playing: bool = False
    # held while training or exporting (downloads run on another thread)
    lock: threading.Lock = field(default_factory=threading.Lock)
    message: tuple[str, str] | None = None  # (level, text) shown once at the top
    failed: tuple[str, str] | None = None  # (fingerprint, message) of settings that failed
    pending: PendingAction | None = None
    inspect_seed: int = 0
    # the settings the form does not show (image size, rotations, backbone...): an opened
    # run's, so that comparing, Reset and a new run keep them
    hidden_settings: RunConfig = field(default_factory=lambda: RunConfig(device="cpu"))
    upload_names: dict[str, str] = field(default_factory=dict)  # stored zip -> its name
    seen_run: int | None = None  # app.py's run counter at this page's last run

    # ----- messages -------------------------------------------------------------------
    def flash(self, level: str, text: str) -> None:
        """A message shown once, at the top of the next run of the page."""
        self.message = (level, text)

    def take_message(self) -> tuple[str, str] | None:
        message, self.message = self.message, None
        return message

    def describe_error(self, error: BaseException) -> str:
        """A user-facing message: the text of expected errors, the type of unexpected ones;
        an uploaded zip is named as the user knows it, not by its stored copy's path."""
        if isinstance(error, EXPECTED_ERRORS):
            text = describe_error(error)
        else:
            text = f"{type(error).__name__}: {error}"
        for stored, name in self.upload_names.items():
            text = text.replace(stored, _("the uploaded {name}").format(name=name))
        return text

    def attempt(self, what: str, action: Callable[[], T]) -> tuple[T | None, str | None]:
        """``(action(), None)``, or ``(None, message)`` if it raised: nothing raises to the
        user and the current run stays; unexpected errors are logged with their trace."""
        try:
            return action(), None
        except Exception as error:
            if not isinstance(error, EXPECTED_ERRORS):
                log.exception("%s failed", what)
            return None, self.describe_error(error)

    def remember_upload_name(self, stored: Path, name: str) -> None:
        self.upload_names[str(stored)] = name

    def returned_from_another_page(self) -> bool:
        """True when another page ran since this page's last run (app.py counts runs)."""
        runs = st.session_state.get("app_runs")
        seen, self.seen_run = self.seen_run, runs
        return runs is not None and seen is not None and runs - seen > 1

    # ----- settings -------------------------------------------------------------------
    def matches(self, choice: SettingsChoice) -> bool:
        return (
            self.trainer is not None
            and choice.config is not None
            and page_config(self.trainer) == choice.config
        )

    def _failed_before(self, choice: SettingsChoice) -> str | None:
        if self.failed is not None and self.failed[0] == choice.fingerprint:
            return self.failed[1]
        return None

    def try_build(self, choice: SettingsChoice) -> Trainer | None:
        """A fresh Trainer from the form; on bad settings remember the message, None."""
        if self._failed_before(choice) is not None:
            return None  # same bad settings as last time: keep the message, don't retry
        try:  # asked again on every run: runs freed on another page count at once
            check_runs_budget("train", 1)
        except RunsLimitExceeded as error:
            self.failed = (RETRY_EACH_RUN, str(error))
            return None
        config = choice.config
        if config is None:
            built, error = None, choice.error
        else:
            built, error = self.attempt(
                f"building {choice.fingerprint}",
                lambda: build_trainer(config),
            )
        self.failed = None if error is None else (choice.fingerprint, error)
        return built

    def check_settings(self, choice: SettingsChoice) -> str | None:
        """Check settings against the config rules and the data, without building a model."""
        if (known := self._failed_before(choice)) is not None:
            return known
        config = choice.config
        if config is None:
            error = choice.error
        else:

            def check() -> None:
                check_run_config(config, server_limits())
                splits = ("train", "val") if config.val_every else ("train",)
                for source in sources_for(config, splits).values():
                    source.check_episode_shape(config.n_way, config.k_shot, config.q_query)

            _, error = self.attempt(f"checking {choice.fingerprint}", check)
        self.failed = None if error is None else (choice.fingerprint, error)
        return error

    def sync_with_settings(self, choice: SettingsChoice) -> bool:
        """Follow the form while the run has not trained yet; True if settings differ after.

        An untrained (or absent) run is rebuilt as soon as a setting changes, so a class
        picks settings and presses Play. A trained run is never replaced silently: the
        page offers "Start a new run" instead.
        """
        if self.matches(choice):
            self.failed = None
            return False
        if self.trainer is None or self.trainer.iteration == 0:
            built = self.try_build(choice)
            if built is not None:
                self.adopt(built)
                return False
        else:
            self.check_settings(choice)  # say now, not after "Start a new run"
        return True

    def settings_error(self) -> str | None:
        return None if self.failed is None else self.failed[1]

    # ----- actions --------------------------------------------------------------------
    def adopt(self, new: Trainer) -> None:
        """Make ``new`` the session's run (paused, inspector on its first episode)."""
        self.trainer = new
        self.playing = False
        self.pending = None
        self.inspect_seed = 0

    def play(self) -> None:
        if self.trainer is not None and self.trainer.divergence is None:
            self.playing = True

    def pause(self) -> None:
        self.playing = False

    def step(self) -> None:
        """One meta-iteration (one meta-batch of episodes); pauses the Play loop."""
        self.playing = False
        current = self.trainer
        if current is None or current.divergence is not None:
            return

        def one_step() -> None:
            with self.lock:
                current.run_tick(max_iterations=1)

        _, error = self.attempt("step", one_step)
        if error is not None:
            self.flash("error", error)

    def request_reset(self) -> None:
        """Reset: immediate for an untrained run, otherwise ask first."""
        self.playing = False
        if self.trainer is None:
            return
        if self.trainer.iteration == 0:
            self.reset()
        else:
            self.pending = ConfirmReset()

    def reset(self) -> None:
        """Start the current run's settings again from fresh weights, on the same data."""
        if self.trainer is None:
            return
        config = page_config(self.trainer)
        fresh, error = self.attempt("reset", lambda: build_trainer(config))
        if fresh is None:
            self.flash("error", error or _("Reset failed."))
            return
        self.adopt(fresh)

    def start_new_run(self, choice: SettingsChoice) -> None:
        """Replace the current (trained) run with one built from the settings."""
        self.failed = None
        built = self.try_build(choice)
        if built is not None:
            self.adopt(built)
            self.flash("success", _("Started a new run with these settings."))

    def confirm_message(self) -> str | None:
        """The question for a pending Reset or upload, from the run as it is now (a Step
        taken while the question is open changes what would be lost)."""
        pending = self.pending
        if pending is None:
            return None
        episodes = 0 if self.trainer is None else self.trainer.episodes_seen
        iterations = 0 if self.trainer is None else self.trainer.iteration
        if isinstance(pending, ConfirmReset):
            return _(
                "Reset discards {episodes} episodes of training ({iterations} "
                "meta-iterations). Download the run first to keep it."
            ).format(episodes=episodes, iterations=iterations)
        return _(
            "Open {file}? It replaces the current run ({episodes} episodes of training). "
            "Download the current run first to keep it."
        ).format(file=pending.file_name, episodes=episodes)

    def confirm(self) -> None:
        """The user said yes to the pending action."""
        pending, self.pending = self.pending, None
        if isinstance(pending, ConfirmReset):
            self.reset()
        elif isinstance(pending, ConfirmUpload):
            self._adopt_uploaded(pending.candidate)

    def cancel(self) -> None:
        self.pending = None

    def next_inspector_episode(self) -> None:
        self.inspect_seed += 1

    # ----- runs as zips ---------------------------------------------------------------
    def upload_changed(self) -> None:
        """File-uploader callback: open the zip; adopt it, or ask first if the run has trained."""
        uploaded = st.session_state.get(UPLOAD_KEY)
        if uploaded is None:
            return
        self.playing = False

        def open_upload() -> Trainer:
            check_upload_size(uploaded.size, uploaded.name)
            return load_run_zip(uploaded.getvalue())

        loaded, error = self.attempt(f"upload {uploaded.name}", open_upload)
        if loaded is not None:
            from studio_ui.train_settings import unshowable_setting

            if (error := unshowable_setting(page_config(loaded))) is not None:
                loaded = None
        if loaded is None:
            self.flash(
                "error",
                _("{file} is not a run this app can open: {error}").format(
                    file=uploaded.name, error=describe_error(error)
                ),
            )
        elif self.trainer is None or self.trainer.iteration == 0:
            self._adopt_uploaded(loaded)
        else:
            self.pending = ConfirmUpload(uploaded.name, loaded)

    def _adopt_uploaded(self, loaded: Trainer) -> None:
        from studio_ui.train_settings import restore_settings

        self.adopt(loaded)
        self.hidden_settings = page_config(loaded)
        restore_settings(self.hidden_settings)
        self.failed = None
        self.flash(
            "success",
            _(
                "Loaded a {algorithm} run on {dataset} at {episodes} episodes "
                "({iterations} meta-iterations)."
            ).format(
                algorithm=loaded.config.algo,
                dataset=loaded.config.dataset,
                episodes=loaded.episodes_seen,
                iterations=loaded.iteration,
            ),
        )

    def export_bytes(self, run: Trainer) -> bytes:
        """``run`` as a zip, taken under the session's lock so no step runs while it is
        written (a download is prepared on another thread)."""
        from metalearn_core.engine import export_run_zip

        with self.lock:
            return export_run_zip(run)


# ----------------------------------------------------------------------------- access


def current() -> TrainSession:
    """This browser session's Train state, created on first use."""
    if KEY not in st.session_state:
        st.session_state[KEY] = TrainSession()
    return st.session_state[KEY]


def trainer() -> Trainer | None:
    """The session's current run, or None (other pages read the run through this)."""
    state = st.session_state.get(KEY)
    return None if state is None else state.trainer


def is_playing() -> bool:
    """Read through ``st.session_state`` on purpose: each read is a point where
    Streamlit can stop the run for a press (see ``slow_motion_pause``)."""
    return st.session_state[KEY].playing


def slow_motion_pause(seconds: float, slice_seconds: float = 0.05) -> None:
    """Sleep ``seconds`` between Slow ticks, reading the session state every slice.

    With fast reruns off, Streamlit stops a run for a press only at a yield point: an
    ``st`` call or a session-state access. One long sleep would hold a press back for
    the whole pause; reading the state every slice lets it act within a slice.
    """
    end = time.perf_counter() + seconds
    while is_playing() and (left := end - time.perf_counter()) > 0:
        time.sleep(min(slice_seconds, left))


def build_trainer(config: RunConfig) -> Trainer:
    """A fresh run of ``config`` on the shared data; ValueError on settings past the
    server's limits (checked before anything is built), a data folder it does not serve,
    or a session that holds as many runs as the server allows on other pages."""
    limits = server_limits()
    check_run_config(config, limits)
    check_runs_budget("train", 1, limits)
    return track_run(Trainer(config, sources=sources_for(config)))


def load_run_zip(data: bytes) -> Trainer:
    """A Trainer from a run zip (``export_run_zip``'s output), checked against the server's
    limits before it is built; ValueError if it is not one or does not fit."""
    check_runs_budget("train", 1)
    return track_run(load_uploaded_run(data, sources_for))
