"""Real servers on loopback, and students speaking Streamlit's protocol to them."""

from __future__ import annotations

import pytest

from studio_ui.student_client import StudentClient

PLAY, STEP = "train_play_pause", "train_step"
LOAD_SECONDS = 120.0  # a first page run on a busy 2-core machine imports torch and plotly
PRESS_SECONDS = 30.0


def open_train_page(address: str, **client_options) -> StudentClient:
    """A student whose Train page has been drawn (a run ready, paused)."""
    student = StudentClient(address, page="train", **client_options)
    drawn = student.wait_for(
        lambda s: STEP in s.buttons and s.count("Episodes") is not None, LOAD_SECONDS
    )
    if not drawn:
        student.close()
        pytest.fail(f"the Train page was not drawn within {LOAD_SECONDS} s: {student.errors}")
    return student


def step(student: StudentClient) -> int:
    """Press Step; the episode count it shows afterwards."""
    before = student.count("Episodes")
    student.press(STEP)
    assert student.wait_for(lambda s: s.count("Episodes") != before, PRESS_SECONDS)
    return student.count("Episodes")
