"""The counters of a Play loop: a slot per metric, rewritten only when it changed and, for a
metric with a minimum interval, no more often than that."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _counters_over_time():
    import streamlit as st

    from studio_ui.live_metrics import MetricsRow

    row = MetricsRow.mount([0.0, 1.0])
    sent = []
    # (seconds, counter, rate label and value): what a Play loop would pass each redraw
    for now, count, rate in st.session_state["updates"]:
        before = list(row.shown)
        row.show([("Episodes", str(count)), rate], now=now)
        sent.append([after != old for after, old in zip(row.shown, before, strict=True)])
    st.session_state["sent"] = sent


def run_updates(updates) -> AppTest:
    at = AppTest.from_function(_counters_over_time)
    at.session_state["updates"] = updates
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_main_counter_follows_every_change_and_the_rate_waits_its_interval():
    at = run_updates(
        [
            (0.0, 1, ("Episodes / s", "5.0")),
            (0.1, 2, ("Episodes / s", "6.0")),  # rate: 0.1 s after the last one shown
            (0.2, 2, ("Episodes / s", "6.5")),  # counter unchanged: not sent
            (1.05, 3, ("Episodes / s", "7.0")),
        ]
    )
    assert at.session_state["sent"] == [[True, True], [True, False], [False, False], [True, True]]
    assert [(m.label, m.value) for m in at.metric] == [("Episodes", "3"), ("Episodes / s", "7.0")]


def test_a_new_label_shows_at_once():
    at = run_updates(
        [
            (0.0, 1, ("Validation", "–")),
            (0.1, 2, ("Validation (scoring 1/5)", "–")),
        ]
    )
    assert at.session_state["sent"] == [[True, True], [True, True]]
    assert at.metric[1].label == "Validation (scoring 1/5)"


def test_a_row_refuses_metrics_that_do_not_fit_it():
    from studio_ui.live_metrics import MetricsRow

    with pytest.raises(ValueError, match="2 metrics but 1 minimum intervals"):
        MetricsRow([None, None], (0.0,))
    row = MetricsRow([None], (0.0,))
    with pytest.raises(ValueError, match="2 metrics for a row of 1"):
        row.show([("a", "1"), ("b", "2")])
