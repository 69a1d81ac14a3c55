"""End to end in headless Chromium: train ProtoNet on glyphs live, pause, leave and come back."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from metalearn_core.algorithms import ALGORITHMS, algorithm_names
from metalearn_core.docmath import update_rules
from tests.browser.conftest import (
    ARTIFACTS,
    clipped_chart_labels,
    overflowing_formulas,
    typesetting_errors,
)
from tests.browser.sidebar import choose, set_number

pytestmark = pytest.mark.browser

COUNTER = '.st-key-train_counter [data-testid="stMetricValue"]'
# The curves chart (studio_ui.live_chart) is a plotly div that carries its traces in the
# DOM (graphDiv.data) and counts its completed redraws (data-draws).
CURVES = """document.querySelector('[data-live-chart="train_curves"]')"""
ACCURACY_POINTS_JS = f"""() => {{
    const div = {CURVES};
    if (!div || !div.data) return [];
    const trace = div.data.find(t => t.name === 'train accuracy');
    return trace ? Array.from(trace.y) : [];
}}"""
# Marks the chart's div, to tell later whether the browser kept it or mounted a new one.
MARK_CHART_JS = f"() => {{ {CURVES}.dataset.marked = 'yes'; }}"
CHART_STATE_JS = f"""() => {{
    const div = {CURVES};
    return {{marked: div.dataset.marked === 'yes', draws: Number(div.dataset.draws || 0)}};
}}"""


def episodes(page) -> int:
    return int(page.locator(COUNTER).first.inner_text().replace(",", ""))


def test_protonet_learns_live_then_pauses_and_survives_a_page_change(streamlit_server, page):
    page.goto(streamlit_server.url)
    page.get_by_role("link", name="Train").first.click()
    page.get_by_role("heading", name="Train").wait_for()
    choose(page, "Data set", "Glyphs (drawn on the fly)")
    choose(page, "Algorithm", "Prototypical Networks")
    set_number(page, "N-way", 5)
    set_number(page, "K-shot", 1)
    page.get_by_text(re.compile(r"Prototypical Networks on glyphs, 5-way 1-shot")).wait_for()

    page.locator('[data-live-chart="train_curves"] .main-svg').first.wait_for()  # drawn
    page.evaluate(MARK_CHART_JS)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    chance = 100 / 5
    deadline = time.monotonic() + 90
    accuracy: list[float] = []
    while time.monotonic() < deadline:
        accuracy = page.evaluate(ACCURACY_POINTS_JS)
        if len(accuracy) >= 5 and accuracy[-1] > chance + 10:
            break
        page.wait_for_timeout(500)
    assert len(accuracy) >= 5, f"the chart shows {len(accuracy)} accuracy points"
    assert accuracy[-1] > chance + 10, f"accuracy {accuracy[-1]:.0f}% is not above chance"
    before = page.evaluate(CHART_STATE_JS)
    page.wait_for_timeout(3000)
    after = page.evaluate(CHART_STATE_JS)
    assert after["marked"], "the chart was mounted anew while playing (it would flicker)"
    assert after["draws"] - before["draws"] >= 2, f"redraws in 3 s of playing: {before} {after}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "train-playing.png"), full_page=True)

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    page.wait_for_timeout(500)  # the tick in flight when Pause was pressed
    paused_at = episodes(page)
    assert paused_at > 0
    page.wait_for_timeout(1500)
    assert episodes(page) == paused_at, "the counter kept moving after Pause"
    page.get_by_text("Validation episode #0 after").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "train-inspector.png"))
    assert clipped_chart_labels(page) == [], "axis labels cut off at a chart's edge"

    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    page.wait_for_timeout(1000)
    page.get_by_role("link", name="Home").first.click()
    page.get_by_role("heading", name="MetaLearn Studio").wait_for()
    page.get_by_role("link", name="Train").first.click()
    page.get_by_role("button", name="Play").wait_for()  # back: the run is kept, paused
    kept = episodes(page)
    assert kept > paused_at
    page.wait_for_timeout(1000)
    assert episodes(page) == kept
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "train-paused.png"), full_page=True)


def test_every_algorithms_update_rule_typesets_without_errors(streamlit_server, page):
    """The rules come from the docstrings' LaTeX: KaTeX must accept every one of them."""
    page.goto(streamlit_server.url)
    page.get_by_role("link", name="Train").first.click()
    page.get_by_role("heading", name="Train").wait_for()
    seen: set[str] = set()
    for dataset in ("Glyphs (drawn on the fly)", "Sinusoid regression"):
        choose(page, "Data set", dataset)
        kind = "regression" if dataset.startswith("Sinusoid") else "classification"
        for name in [n for n in algorithm_names(kind) if n not in seen]:
            seen.add(name)
            title = ALGORITHMS[name].title
            choose(page, "Algorithm", title)
            label = f"How {title} learns: the update rule"
            panel = page.locator('[data-testid="stExpander"]').filter(has_text=label)
            panel.get_by_text(label, exact=True).click()
            expect(panel.locator(".katex-display")).to_have_count(
                len(update_rules(ALGORITHMS[name]))
            )
            assert typesetting_errors(panel) == [], name
            assert overflowing_formulas(panel) == [], f"{name}: a formula is cut off"
            panel.get_by_text(label, exact=True).click()
