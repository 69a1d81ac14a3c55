"""Data sources shared by every session: read-only, so caching them is safe."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import streamlit as st

from metalearn_core.data.episodes import TaskSource


@st.cache_resource(show_spinner="Loading the data set…", max_entries=16)
def cached_task_source(
    name: str, split: str, data_dir: str | None = None, seed: int = 0
) -> TaskSource:
    """``load_task_source(name, split, ...)``, loaded once per server process.

    Sources are never mutated (samplers keep their own generators), so every
    session may share them; models and optimisers are never cached.
    """
    from metalearn_core.data import load_task_source

    return load_task_source(name, split, data_dir=data_dir, seed=seed)


def stored_upload(data: bytes, directory: str | Path | None = None) -> Path:
    """Keep an uploaded zip on disk and return its path, usable as a run's ``data_dir``.

    The file is named by its SHA-256, so the same upload is stored once and a run's
    config (a path, not bytes) can be saved, resumed and reloaded from the cache.
    """
    folder = Path(directory or Path(tempfile.gettempdir()) / "metalearn_uploads")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.zip"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(path)  # never a half-written zip under the final name
    return path
