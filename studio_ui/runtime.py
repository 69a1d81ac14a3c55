"""Process-wide settings of the app: logging and torch's thread count."""

from __future__ import annotations

import logging
import os
import sys

import torch

THREADS_ENV = "METALEARN_TORCH_THREADS"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    """Send ``metalearn_core`` and app logs to stderr (the server log), once per process.

    Streamlit reruns ``app.py`` on every interaction, so the handler is added only
    when it is not there yet.
    """
    for name in ("metalearn_core", "metalearn_studio"):
        logger = logging.getLogger(name)
        if any(getattr(h, "metalearn_studio", False) for h in logger.handlers):
            continue
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        handler.metalearn_studio = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def torch_threads_from_env(environ: dict[str, str] | None = None) -> int:
    """Threads each training run may use: ``METALEARN_TORCH_THREADS``, default 1.

    One thread per session: in a classroom every student's run is its own Python
    thread of the one server process, so the sessions themselves fill the cores.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(THREADS_ENV, "1")
    try:
        threads = int(raw)
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a whole number of threads, got {raw!r}") from None
    if threads < 1:
        raise ValueError(f"{THREADS_ENV} must be at least 1, got {threads}")
    return threads


def configure_torch_threads() -> int:
    """Apply ``torch_threads_from_env()`` (only when it differs: setting it is not free)."""
    threads = torch_threads_from_env()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def ensure_entrypoint() -> None:
    """Make sure this page runs under ``app.py``'s navigation; call it first in a page.

    Streamlit still honours the old multipage layout (every script in ``pages/`` a
    page of its own) until some session of the server process has called
    ``st.navigation``. A browser that opens ``/train`` first after the server starts
    would therefore run ``pages/train.py`` alone: no ``app.py`` (no thread setting, no
    logging) and a sidebar listing every script. Here the page drops that layout,
    exactly as ``st.navigation`` does, and reruns: the rerun goes through ``app.py``,
    which opens the same page by its URL.

    The flag is private, and stays because Streamlit 1.67 has no public way to do this
    with a ``pages/`` folder: its documented switch is that the folder is ignored "as soon
    as any session of your app executes st.navigation", and nothing public runs
    ``st.navigation`` before the first session's first run (``st.App``'s lifespan hook
    would, at the cost of another way to start the app). A real server test
    (``tests/browser/test_entrypoint_browser.py``) fails if the flag goes or stops
    having effect.
    """
    import streamlit as st

    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a private class: a Streamlit without it gets the page as it is
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
