"""Data sources shared by every session: read-only, so caching them is safe."""

from __future__ import annotations

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
