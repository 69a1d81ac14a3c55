"""End to end in headless Chromium: draw a character under the Train page's inspector and
see the learner classify it; swap a support example."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_a_drawn_character_is_classified_and_a_swap_redraws_the_episode(streamlit_server, page):
    page.goto(f"{streamlit_server.url}/train")
    page.get_by_role("heading", name="Episode inspector").wait_for(timeout=90_000)
    canvas = page.locator(".ml-draw-canvas")
    canvas.scroll_into_view_if_needed()
    page.get_by_text("Draw with the mouse or a finger").wait_for()
    box = canvas.bounding_box()
    # a cross: two strokes
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.85, steps=12)
    page.mouse.up()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5, steps=12)
    page.mouse.up()
    page.get_by_text("The learner says:").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0

    page.get_by_role("button", name="Swap in another").click()
    page.get_by_text("Swaps made: 1.").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "train-episode-play.png"), full_page=True)
