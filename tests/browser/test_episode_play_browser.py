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


def test_a_click_on_a_sinusoid_places_a_support_point_the_learner_adapts_to(streamlit_server, page):
    from tests.browser.sidebar import choose

    page.goto(f"{streamlit_server.url}/train")
    page.get_by_role("heading", name="Episode inspector").wait_for(timeout=90_000)
    choose(page, "Data set", "Sinusoid regression")
    page.get_by_text("0 of 20 points placed.").wait_for(timeout=90_000)
    area = page.locator('[class*="st-key-train_inspect_placed_chart_0"] .nsewdrag').first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.get_by_text("1 of 20 points placed.").wait_for(timeout=60_000)
    chart = page.locator('[class*="st-key-train_inspect_placed_chart_1"] .js-plotly-plot')
    chart.wait_for()
    names = chart.evaluate("div => div.data.map(trace => trace.name)")
    assert "support" in names and any(str(n).startswith("step") for n in names), names
    assert page.locator('[data-testid="stException"]').count() == 0
