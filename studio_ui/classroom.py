"""The app's side of the server limits: per-session upload storage, served data folders,
uploaded runs checked before anything is built.

Every browser session stores its uploads in a folder of its own
(``metalearn-session-*`` in the system's temporary folder), removed when the session
ends: Streamlit 1.67 has no public session-end hook, so the folder belongs to an object
kept in ``st.session_state`` whose ``weakref.finalize`` removes it once the session's
state is dropped (and at the latest when the server exits).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import streamlit as st

from metalearn_core.data.omniglot import default_data_dir
from metalearn_core.engine import Trainer, import_run_zip
from metalearn_core.engine.checkpoint import (
    checkpoint_path,
    read_checkpoint,
    saved_run_from_payload,
)
from metalearn_core.engine.limits import (
    ServerLimits,
    load_server_limits,
    served_data_dir,
    untrusted_run_config,
)
from studio_ui.i18n import N_, _

SESSION_FOLDER_KEY = "classroom_session_folder"


class SessionFolder:
    """A private temporary folder that lives as long as this object (one session)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="metalearn-session-")).resolve()
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.path), ignore_errors=True)

    def remove(self) -> None:
        self._remove()


def session_folder() -> Path:
    """This browser session's own folder for uploads (created on first use)."""
    folder = st.session_state.get(SESSION_FOLDER_KEY)
    if folder is None or not folder.path.is_dir():
        folder = SessionFolder()
        st.session_state[SESSION_FOLDER_KEY] = folder
    return folder.path


def server_limits() -> ServerLimits:
    """The classroom limits (``engine.limits``), read from the config file each time so a
    teacher's edit applies to the next interaction."""
    return load_server_limits()


def check_upload_size(size: int, name: str, limits: ServerLimits | None = None) -> None:
    """Refuse an upload larger than the server allows (ValueError naming both sizes)."""
    limits = limits or server_limits()
    if size > limits.max_upload_bytes:
        raise ValueError(
            _("{file} is {size} bytes; this server takes uploads of at most {most} bytes").format(
                file=name, size=f"{size:,}", most=f"{limits.max_upload_bytes:,}"
            )
        )


def served_folder(path: str | None) -> str | None:
    """``path`` resolved inside a folder this server serves: the teacher's roots, the
    machine's Omniglot folder (``$METALEARN_OMNIGLOT_DIR``, set by the teacher) and this
    session's own uploads; ``DataFolderRefused`` (a ValueError whose message names no
    path) otherwise."""
    also = [str(session_folder())]
    if omniglot := default_data_dir():
        also.append(omniglot)
    return served_data_dir(path, server_limits().data_roots, also)


def served_or_typed(path: str | None) -> str | None:
    """The widget's value: the served folder's full path, or what was typed when it is
    refused (``served_folder`` refuses it again, with the message, when a run is built)."""
    try:
        return served_folder(path)
    except ValueError:
        return path


def load_uploaded_run(data: bytes, sources_for: Any) -> Trainer:
    """A Trainer from someone's run zip, checked against the server's limits first.

    The zip is unpacked (within the zip caps) into this session's folder and removed
    again; ``threads`` and a data folder that is not served never apply; the config and
    the saved weights must fit the limits before the model is built.
    ``sources_for(config)`` gives the run's data splits (the page's cache).
    """
    limits = server_limits()
    with tempfile.TemporaryDirectory(prefix="run-", dir=session_folder()) as folder:
        run_dir = import_run_zip(data, Path(folder) / "run", max_bytes=limits.max_run_bytes())
        payload: dict[str, Any] = read_checkpoint(checkpoint_path(run_dir))
    config = untrusted_run_config(payload, limits, served_folder)  # before anything is built
    saved = dataclasses.replace(saved_run_from_payload(payload), config=config)
    return Trainer.resume(saved, sources=sources_for(config))


# ----- runs a session holds -------------------------------------------------------------
class RunsLimitExceeded(ValueError):
    """A new run would take a session past ``max_runs_per_session`` (nothing is replaced)."""


def runs_held(state: Any = None) -> dict[str, int]:
    """The models this browser session holds, per page (``ServerLimits`` explains what
    counts: the Train run, each Compare learner, the GAN Lab's GAN, the few-shot GAN
    page's current GAN)."""
    from studio_ui.compare_session import COMPARISON
    from studio_ui.gan_session import FEWSHOT_KEY, LAB_KEY
    from studio_ui.train_session import KEY as TRAIN_KEY

    if state is None:
        try:
            state = st.session_state
            state.get(TRAIN_KEY)  # outside a script run (plain tests, the CLI) this fails
        except Exception:
            return {}
    held: dict[str, int] = {}
    train = state.get(TRAIN_KEY)
    if train is not None and train.trainer is not None:
        held["train"] = 1
    comparison = state.get(COMPARISON)
    if comparison is not None:
        held["compare"] = len(comparison.trainers)
    lab = state.get(LAB_KEY)
    if lab is not None and lab.model is not None:
        held["gan"] = 1
    fewshot = state.get(FEWSHOT_KEY)
    if fewshot is not None and fewshot.model is not None:
        held["fewshot_gan"] = 1
    return held


PAGE_NAMES = {
    "train": N_("Train"),
    "compare": N_("Compare"),
    "gan": N_("GAN Lab"),
    "fewshot_gan": N_("Few-shot GAN"),
}


def check_runs_budget(
    page: str, adding: int, limits: ServerLimits | None = None, state: Any = None
) -> None:
    """Refuse ``adding`` runs on ``page`` (which replace that page's own) when the
    session would then hold more than the server allows; the message says where the
    session's other runs are and that nothing was replaced.

    Raises:
        RunsLimitExceeded: a ValueError, shown on the page like bad settings.
    """
    limits = limits or server_limits()
    others = {name: count for name, count in runs_held(state).items() if name != page}
    total = sum(others.values()) + adding
    if total <= limits.max_runs_per_session:
        return
    listing = ", ".join(f"{_(PAGE_NAMES[name])} {count}" for name, count in others.items())
    raise RunsLimitExceeded(
        _(
            "this would make {total} runs in this browser session ({adding} here; {listing}), "
            "and this server allows at most {limit} per session (classroom limit "
            "max_runs_per_session). Nothing was replaced: choose fewer learners, or start "
            "the new run where one is already held"
        ).format(total=total, adding=adding, listing=listing, limit=limits.max_runs_per_session)
    )
