"""Data sources shared by every session: read-only, so caching them is safe."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path

import streamlit as st

from metalearn_core.data.episodes import TaskSource
from metalearn_core.engine.config import DataSettings, RunConfig
from studio_ui.i18n import _


def cached_task_source(data: DataSettings, split: str) -> TaskSource:
    """``data.open(split)``, loaded once per server process (``_loaded_task_source``),
    with a spinner in the session's language while it loads."""
    with st.spinner(_("Loading the data set…")):
        return _loaded_task_source(data, split)


@st.cache_resource(
    show_spinner=False,  # the caller's spinner speaks the session's language
    max_entries=16,
    hash_funcs={DataSettings: dataclasses.astuple},
)
def _loaded_task_source(data: DataSettings, split: str) -> TaskSource:
    """``data.open(split)``, loaded once per server process.

    Keyed by every field that decides the data (``RunConfig.data_settings()``), so two
    runs share a source only when they would read the same images. Sources are never
    mutated (samplers keep their own generators), so every session may share them;
    models and optimisers are never cached.
    """
    from studio_ui.classroom import server_limits

    # zips and images within the classroom limits
    return data.open(split, caps=server_limits().input_caps())


def sources_for(
    config: RunConfig, splits: tuple[str, ...] = ("train", "val")
) -> dict[str, TaskSource]:
    """The run's splits from the process-wide read-only cache; a data folder only from the
    folders this server serves (``DataFolderRefused``, naming no path, otherwise)."""
    from studio_ui.classroom import served_folder

    data = dataclasses.replace(config.data_settings(), data_dir=served_folder(config.data_dir))
    return {split: cached_task_source(data, split) for split in splits}


def stored_upload(data: bytes, directory: str | Path | None = None) -> Path:
    """Keep an uploaded zip on disk and return its path, usable as a run's ``data_dir``.

    The file goes to this browser session's own folder (``classroom.session_folder``,
    removed when the session ends) unless ``directory`` is given, and is named by its
    SHA-256, so the same upload is stored once and a run's config (a path, not bytes)
    can be saved, resumed and reloaded from the cache. The bytes go to a partial file of
    a unique name first: two sessions or threads never write the same partial file.
    """
    from studio_ui.classroom import session_folder

    folder = Path(directory) if directory is not None else session_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.zip"
    if not path.exists():
        descriptor, partial = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            os.replace(partial, path)  # never a half-written zip under the final name
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    return path
