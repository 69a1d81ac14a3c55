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


@st.cache_resource(
    show_spinner="Loading the data set…",
    max_entries=16,
    hash_funcs={DataSettings: dataclasses.astuple},
)
def cached_task_source(data: DataSettings, split: str) -> TaskSource:
    """``data.open(split)``, loaded once per server process.

    Keyed by every field that decides the data (``RunConfig.data_settings()``), so two
    runs share a source only when they would read the same images. Sources are never
    mutated (samplers keep their own generators), so every session may share them;
    models and optimisers are never cached.
    """
    return data.open(split)


def sources_for(
    config: RunConfig, splits: tuple[str, ...] = ("train", "val")
) -> dict[str, TaskSource]:
    """The run's splits from the process-wide read-only cache."""
    data = config.data_settings()
    return {split: cached_task_source(data, split) for split in splits}


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
