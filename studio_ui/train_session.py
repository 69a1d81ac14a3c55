"""The Train page's per-session state and the actions its buttons trigger.

Each browser session holds its own ``Trainer`` (model, optimiser, samplers) in
``st.session_state``; only read-only data sources are shared between sessions.
A new trainer is always built *before* the current one is replaced, so a setting
the data cannot satisfy shows an error and leaves the current run as it was.

Session keys (all prefixed ``train_``):
    train_trainer      the current Trainer, or None
    train_playing      whether the Play loop runs
    train_lock         a lock held while training or exporting (downloads run on another thread)
    train_message      (level, text) shown once at the top of the page
    train_failed       (settings key, message) of the last settings that failed to build
    train_confirm      None or ("reset", None) | ("upload", file name): an action awaiting a yes
    train_candidate    the Trainer an "upload" confirmation would adopt
    train_inspect_seed the inspector's episode seed
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from metalearn_core.engine import RunConfig, Trainer
from metalearn_core.engine.limits import check_run_config
from studio_ui.classroom import (
    check_upload_size,
    load_uploaded_run,
    served_folder,
    server_limits,
)
from studio_ui.data import cached_task_source

log = logging.getLogger("metalearn_studio.train")

TRAINER, PLAYING, LOCK, MESSAGE = "train_trainer", "train_playing", "train_lock", "train_message"
FAILED, CONFIRM, CANDIDATE, INSPECT_SEED = (
    "train_failed",
    "train_confirm",
    "train_candidate",
    "train_inspect_seed",
)
UPLOAD_KEY = "train_upload"
UPLOAD_NAMES = "train_upload_names"  # stored zip path -> the name it was uploaded under


@dataclass(frozen=True)
class Speed:
    """How the Play loop divides time between training and redrawing."""

    label: str
    tick_seconds: float | None  # training per tick; None: one meta-iteration per tick
    pause_seconds: float  # sleep after each redraw (slow motion)
    inspect_every: float  # seconds between inspector refreshes while playing


SPEEDS = {
    "Slow": Speed("Slow", None, 0.6, 0.0),
    "Normal": Speed("Normal", 0.12, 0.0, 3.0),
    "Fast": Speed("Fast", 0.5, 0.0, 6.0),
}
DEFAULT_SPEED = "Normal"


def init_state() -> None:
    defaults: dict[str, Any] = {
        TRAINER: None,
        PLAYING: False,
        LOCK: threading.Lock(),
        MESSAGE: None,
        FAILED: None,
        CONFIRM: None,
        CANDIDATE: None,
        INSPECT_SEED: 0,
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


def returned_from_another_page() -> bool:
    """True when another page ran since this page's last run (app.py counts runs)."""
    runs = st.session_state.get("app_runs")
    seen = st.session_state.get("train_seen_run")
    st.session_state["train_seen_run"] = runs
    return runs is not None and seen is not None and runs - seen > 1


def trainer() -> Trainer | None:
    return st.session_state.get(TRAINER)


def flash(level: str, text: str) -> None:
    """A message shown once, at the top of the next run of the page."""
    st.session_state[MESSAGE] = (level, text)


def describe_error(error: BaseException) -> str:
    """A user-facing message: the text of expected errors, the type of unexpected ones;
    an uploaded zip is named as the user knows it, not by its stored copy's path."""
    if isinstance(error, ValueError | FileNotFoundError | FileExistsError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    for stored, name in st.session_state.get(UPLOAD_NAMES, {}).items():
        text = text.replace(stored, f"the uploaded {name}")
    return text


def remember_upload_name(stored: Path, name: str) -> None:
    st.session_state.setdefault(UPLOAD_NAMES, {})[str(stored)] = name


# ----------------------------------------------------------------------------- building


def settings_key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=repr)


def sources_for(config: RunConfig) -> dict[str, Any]:
    """The run's train and val splits from the process-wide read-only cache; a data
    folder only from the folders this server serves (``DataFolderRefused`` otherwise)."""
    data_dir = served_folder(config.data_dir)
    return {
        split: cached_task_source(config.dataset, split, data_dir, config.data_seed)
        for split in ("train", "val")
    }


def build_trainer(values: dict[str, Any]) -> Trainer:
    """A fresh Trainer from the settings widgets' values (raises ValueError on bad input
    or on settings past the server's limits)."""
    config = RunConfig(device="cpu", **values)
    check_run_config(config, server_limits())
    return Trainer(config, sources=sources_for(config))


def run_settings(current: Trainer) -> dict[str, Any]:
    """The settings of a running trainer, comparable with ``settings_widgets()``'s values."""
    config = current.config
    return {
        "dataset": config.dataset,
        "algo": config.algo,
        "n_way": config.n_way,
        "k_shot": config.k_shot,
        "q_query": config.q_query,
        "width": config.width,
        "embedding_2d": config.embedding_2d,
        "seed": config.seed,
        "val_every": config.val_every,
        "val_episodes": config.val_episodes,
        "data_dir": config.data_dir,
        "hparams": asdict(current.learner.hparams),
    }


def adopt(new: Trainer) -> None:
    """Make ``new`` the session's run (paused, inspector on its first episode)."""
    st.session_state[TRAINER] = new
    st.session_state[PLAYING] = False
    st.session_state[CONFIRM] = None
    st.session_state[CANDIDATE] = None
    st.session_state[INSPECT_SEED] = 0


def try_build(values: dict[str, Any]) -> Trainer | None:
    """Build a trainer; on bad input remember the message and return None."""
    key = settings_key(values)
    failed = st.session_state.get(FAILED)
    if failed is not None and failed[0] == key:
        return None  # same bad settings as last time: keep the message, don't retry
    try:
        built = build_trainer(values)
    except Exception as error:  # nothing raises to the user; the current run stays
        if not isinstance(error, ValueError | FileNotFoundError):
            log.exception("could not build a trainer for %s", key)
        st.session_state[FAILED] = (key, describe_error(error))
        return None
    st.session_state[FAILED] = None
    return built


def sync_with_settings(values: dict[str, Any]) -> bool:
    """Follow the widgets while the run has not trained yet; True if settings differ after.

    An untrained (or absent) run is rebuilt as soon as a setting changes, so a class
    picks settings and presses Play. A trained run is never replaced silently: the
    page offers "Start a new run" instead.
    """
    current = trainer()
    if current is not None and settings_key(run_settings(current)) == settings_key(values):
        st.session_state[FAILED] = None
        return False
    if current is None or current.iteration == 0:
        built = try_build(values)
        if built is not None:
            adopt(built)
            return False
    else:
        check_settings(values)  # say now, not after "Start a new run", if they cannot run
    return True


def check_settings(values: dict[str, Any]) -> str | None:
    """Validate settings against the config rules and the data, without building a model."""
    key = settings_key(values)
    failed = st.session_state.get(FAILED)
    if failed is not None and failed[0] == key:
        return failed[1]
    try:
        config = RunConfig(device="cpu", **values)
        check_run_config(config, server_limits())
        for split, source in sources_for(config).items():
            if split == "val" and not config.val_every:
                continue
            source.check_episode_shape(config.n_way, config.k_shot, config.q_query)
    except Exception as error:
        if not isinstance(error, ValueError | FileNotFoundError):
            log.exception("could not check settings %s", key)
        st.session_state[FAILED] = (key, describe_error(error))
        return st.session_state[FAILED][1]
    st.session_state[FAILED] = None
    return None


def settings_error() -> str | None:
    failed = st.session_state.get(FAILED)
    return None if failed is None else failed[1]


# ----------------------------------------------------------------------------- actions


def play() -> None:
    current = trainer()
    if current is not None and current.divergence is None:
        st.session_state[PLAYING] = True


def pause() -> None:
    st.session_state[PLAYING] = False


def slow_motion_pause(seconds: float, slice_seconds: float = 0.05) -> None:
    """Sleep ``seconds`` between Slow ticks, reading the session state every slice.

    With fast reruns off, Streamlit stops a run for a press only at a yield point: an
    ``st`` call or a session-state access. One long sleep would hold a press back for
    the whole pause; reading ``PLAYING`` every slice lets it act within a slice.
    """
    end = time.perf_counter() + seconds
    while st.session_state[PLAYING] and (left := end - time.perf_counter()) > 0:
        time.sleep(min(slice_seconds, left))


def step() -> None:
    """One meta-iteration (one meta-batch of episodes); pauses the Play loop."""
    st.session_state[PLAYING] = False
    current = trainer()
    if current is None or current.divergence is not None:
        return
    try:
        with st.session_state[LOCK]:
            current.run_tick(max_iterations=1)
    except Exception as error:
        log.exception("step failed")
        flash("error", describe_error(error))


def request_reset() -> None:
    """Reset: immediate for an untrained run, otherwise ask first."""
    st.session_state[PLAYING] = False
    current = trainer()
    if current is None:
        return
    if current.iteration == 0:
        reset()
        return
    st.session_state[CONFIRM] = ("reset", None)


def confirm_message(pending: tuple[str, str | None], current: Trainer | None) -> str:
    """The question for a pending Reset or upload, from the run as it is now (a Step
    taken while the question is open changes what would be lost)."""
    kind, file_name = pending
    episodes = 0 if current is None else current.episodes_seen
    iterations = 0 if current is None else current.iteration
    if kind == "reset":
        return (
            f"Reset discards {episodes} episodes of training ({iterations} "
            "meta-iterations). Download the run first to keep it."
        )
    return (
        f"Open {file_name}? It replaces the current run ({episodes} episodes of training). "
        "Download the current run first to keep it."
    )


def reset() -> None:
    """Start the current run's configuration again from fresh weights."""
    current = trainer()
    if current is None:
        return
    try:
        fresh = Trainer(current.config, sources=sources_for(current.config))
    except Exception as error:
        log.exception("reset failed")
        flash("error", describe_error(error))
        return
    adopt(fresh)


def start_new_run(values: dict[str, Any]) -> None:
    """Replace the current (trained) run with one built from the settings."""
    st.session_state[FAILED] = None
    built = try_build(values)
    if built is not None:
        adopt(built)
        flash("success", "Started a new run with these settings.")


def confirm() -> None:
    """The user said yes to the pending action."""
    pending = st.session_state.get(CONFIRM)
    if pending is None:
        return
    if pending[0] == "reset":
        reset()
    elif pending[0] == "upload" and st.session_state.get(CANDIDATE) is not None:
        _adopt_uploaded(st.session_state[CANDIDATE])
    st.session_state[CONFIRM] = None
    st.session_state[CANDIDATE] = None


def cancel() -> None:
    st.session_state[CONFIRM] = None
    st.session_state[CANDIDATE] = None


def next_inspector_episode() -> None:
    st.session_state[INSPECT_SEED] = st.session_state.get(INSPECT_SEED, 0) + 1


# ----------------------------------------------------------------------------- runs as zips


def load_run_zip(data: bytes) -> Trainer:
    """A Trainer from a run zip (``export_run_zip``'s output), checked against the server's
    limits before it is built; ValueError if it is not one or does not fit."""
    return load_uploaded_run(data, sources_for)


def _adopt_uploaded(loaded: Trainer) -> None:
    from studio_ui.train_settings import apply_config

    adopt(loaded)
    apply_config(loaded.config, asdict(loaded.learner.hparams))
    st.session_state[FAILED] = None
    flash(
        "success",
        f"Loaded a {loaded.config.algo} run on {loaded.config.dataset} at "
        f"{loaded.episodes_seen} episodes ({loaded.iteration} meta-iterations).",
    )


def upload_changed() -> None:
    """File-uploader callback: load the zip; adopt it, or ask first if the run has trained."""
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    st.session_state[PLAYING] = False
    try:
        check_upload_size(uploaded.size, uploaded.name)
        loaded = load_run_zip(uploaded.getvalue())
    except Exception as error:
        if not isinstance(error, ValueError | FileNotFoundError):
            log.exception("upload %s failed", uploaded.name)
        flash("error", f"{uploaded.name} is not a run this app can open: {describe_error(error)}")
        return
    current = trainer()
    if current is None or current.iteration == 0:
        _adopt_uploaded(loaded)
        return
    st.session_state[CANDIDATE] = loaded
    st.session_state[CONFIRM] = ("upload", uploaded.name)


def export_bytes(current: Trainer, lock: threading.Lock) -> bytes:
    """The run zip, taken under the session's lock so no step runs while it is written."""
    from metalearn_core.engine import export_run_zip

    with lock:
        return export_run_zip(current)
