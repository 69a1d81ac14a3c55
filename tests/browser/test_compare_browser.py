"""End to end in headless Chromium: two learners play side by side, then are scored."""

from __future__ import annotations

import time

import pytest

from tests.browser.sidebar import choose, set_number

pytestmark = pytest.mark.browser

# The loss chart (studio_ui.live_chart) is a plotly div that holds its traces in the DOM.
LOSS_CHART = '[data-live-chart="compare_loss"]'
LINE_LENGTHS_JS = """() => {
    const div = document.querySelector('[data-live-chart="compare_loss"]');
    if (!div || !div.data) return {};
    return Object.fromEntries(div.data.map(t => [t.name, Array.from(t.x).length]));
}"""


def test_two_learners_play_and_their_lines_grow_then_score(streamlit_server, page):
    page.set_default_timeout(240_000)  # a first run builds two learners: slow on a busy CPU
    page.goto(streamlit_server.url)
    page.get_by_role("heading", name="MetaLearn Studio").wait_for(timeout=240_000)
    page.get_by_role("link", name="Compare", exact=True).first.click()
    page.get_by_role("heading", name="Compare").wait_for(timeout=240_000)
    sidebar = page.locator('[data-testid="stSidebar"]')
    choose(page, "Data set", "2-D blobs")  # small and quick to score on a busy CPU
    page.get_by_text("MAML", exact=True).wait_for()
    # a budget that lasts beyond the few samples below on a quick machine (Score stops it)
    set_number(page, "Training episodes per learner", 5000)
    sidebar.get_by_text("Scoring").click()
    set_number(page, "Test episodes", 20)
    set_number(page, "Episodes per extra point", 5)
    page.locator(LOSS_CHART).wait_for(timeout=240_000)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=240_000)

    seen: list[dict] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        lengths = page.evaluate(LINE_LENGTHS_JS)
        if len(lengths) == 2 and (not seen or lengths != seen[-1]):
            seen.append(lengths)
        if len(seen) >= 3 and min(seen[-1].values()) >= 3:
            break
        page.wait_for_timeout(300)
    assert len(seen) >= 3, seen
    assert set(seen[-1]) == {"Prototypical Networks", "MAML"}
    for name in seen[-1]:  # both lines grew while playing
        assert seen[-1][name] > seen[0][name], (name, seen)

    page.get_by_role("button", name="Score").click()
    page.get_by_text("leads on test accuracy").wait_for(timeout=300_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()  # the results table
    assert page.get_by_role("button", name="Play").count() == 1  # scoring paused the play
