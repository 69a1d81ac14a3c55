"""The app's process-wide settings: torch threads from the environment, logging, and the
fix-up that keeps a page from running without ``app.py``."""

from __future__ import annotations

import logging
import sys

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from studio_ui.runtime import (
    THREADS_ENV,
    configure_logging,
    ensure_entrypoint,
    torch_threads_from_env,
)


def test_threads_default_to_one_per_session_and_read_the_environment():
    assert torch_threads_from_env({}) == 1
    assert torch_threads_from_env({THREADS_ENV: "2"}) == 2


@pytest.mark.parametrize(("raw", "message"), [("two", "whole number"), ("0", "at least 1")])
def test_bad_thread_counts_are_named_in_the_error(raw, message):
    with pytest.raises(ValueError, match=message):
        torch_threads_from_env({THREADS_ENV: raw})


def test_logging_is_configured_once_however_often_app_py_reruns():
    logger = logging.getLogger("metalearn_core")
    before = list(logger.handlers)
    try:
        configure_logging()
        configure_logging()
        ours = [h for h in logger.handlers if getattr(h, "metalearn_studio", False)]
        assert len(ours) == 1 and logger.propagate is False
    finally:
        logger.handlers[:] = before
        logger.propagate = True


def test_a_page_opened_first_drops_the_old_pages_layout_and_reruns(monkeypatch):
    reruns = []
    monkeypatch.setattr(PagesManager, "uses_pages_directory", True)
    monkeypatch.setattr(st, "rerun", lambda: reruns.append(True))
    ensure_entrypoint()
    assert PagesManager.uses_pages_directory is False and reruns == [True]
    ensure_entrypoint()  # the rerun, now under app.py's navigation
    assert reruns == [True]


def test_without_streamlits_private_pages_manager_the_page_runs_as_it_is(monkeypatch):
    monkeypatch.setitem(sys.modules, "streamlit.runtime.pages_manager", None)  # import fails
    monkeypatch.setattr(st, "rerun", lambda: pytest.fail("no rerun without the class"))
    ensure_entrypoint()
