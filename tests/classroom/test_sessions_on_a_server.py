"""A real server: a closed tab stops training and frees its state; a reload keeps the run."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import pytest

from studio_ui.serving import StreamlitServer
from studio_ui.student_client import wait_until

from .conftest import PLAY, PRESS_SECONDS, open_train_page, step

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server():
    with StreamlitServer(env={"METALEARN_ORPHAN_SECONDS": "3"}) as running:
        yield running


def test_a_closed_tab_stops_training_and_its_state_is_emptied(server):
    address = f"127.0.0.1:{server.port}"
    student = open_train_page(address)
    student.press(PLAY)
    assert student.wait_for(lambda s: (s.count("Episodes") or 0) >= 3, PRESS_SECONDS)
    emptied_before = server.log_text().count("emptied the state")
    student.close()
    time.sleep(2.0)  # the step in progress ends; the loop stops at its next redraw
    cpu = server.cpu_seconds()
    time.sleep(3.0)
    idle = server.cpu_seconds() - cpu
    assert idle < 0.3, f"the server used {idle:.2f} s of CPU in 3 s after the tab closed"
    assert wait_until(
        lambda: server.log_text().count("emptied the state") > emptied_before, 20.0, 0.5
    ), server.log_text()[-3000:]
    # the only open session's run is garbage: nothing else (widget callbacks, the trainer
    # line, Streamlit's per-session records) kept it
    assert "0 run(s) still held" in server.log_text().split("emptied the state")[-1]


def test_a_reloaded_tab_gets_its_run_back_and_a_copied_url_does_not_share_it(server):
    address = f"127.0.0.1:{server.port}"
    student = open_train_page(address)
    first = step(student)
    episodes = step(student)
    assert episodes > first > 0
    query = student.query_string
    tokens = parse_qs(query)["run"]  # beside other parameters (the language)
    assert len(tokens) == 1 and len(tokens[0]) == 22
    student.close()

    reloaded = open_train_page(address, query_string=query)
    try:
        assert reloaded.wait_for(lambda s: s.count("Episodes") == episodes, PRESS_SECONDS)
        assert reloaded.label(PLAY) == "Play" and reloaded.query_string == query
        copied = open_train_page(address, query_string=query)  # while the first is open
        try:
            assert copied.count("Episodes") == 0 and copied.query_string != query
        finally:
            copied.close()
    finally:
        reloaded.close()


def test_a_made_up_run_token_is_ignored(server):
    address = f"127.0.0.1:{server.port}"
    for query in ("run=../../etc/passwd", "run=" + "A" * 22, "run=x&run=y"):
        student = open_train_page(address, query_string=query)
        try:
            assert student.count("Episodes") == 0 and student.errors == []
            assert student.query_string != query
        finally:
            student.close()
