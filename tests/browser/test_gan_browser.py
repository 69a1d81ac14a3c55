"""End to end in headless Chromium: the GAN Lab steps, plays and pauses, its charts legible;
the few-shot GAN page opens on its own URL."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from metalearn_core.gan.losses import LOSS_TITLES, LOSSES
from tests.browser.conftest import (
    ARTIFACTS,
    clipped_chart_labels,
    overflowing_formulas,
    typesetting_errors,
)

pytestmark = pytest.mark.browser

# Points of a named trace in one of the lab's live charts (a plotly div marked with the
# chart's key), read from the figure's public data: a numpy array arrives base64-encoded
# ({dtype, bdata}).
TRACE_POINTS_JS = """([chart, name]) => {
    const div = document.querySelector('[data-live-chart="' + chart + '"]');
    const trace = div && div.data && div.data.find(t => t.name === name);
    if (!trace || !trace.y) return 0;
    if (trace.y.bdata === undefined) return Array.from(trace.y).length;
    const bytes = {f8: 8, f4: 4, i4: 4, u4: 4, i2: 2, u2: 2, i1: 1, u1: 1}[trace.y.dtype];
    return atob(trace.y.bdata).length / bytes;
}"""

# Whether a live chart's legend box and its x-axis title overlap (null: either missing).
LEGEND_OVER_TITLE_JS = """(chart) => {
    const div = document.querySelector('[data-live-chart="' + chart + '"]');
    const legend = div && div.querySelector('.legend .bg');
    const title = div && div.querySelector('.g-xtitle text');
    if (!legend || !title) return null;
    const a = legend.getBoundingClientRect(), b = title.getBoundingClientRect();
    return !(a.bottom <= b.top || b.bottom <= a.top || a.right <= b.left || b.right <= a.left);
}"""


def steps(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Steps")
    return int(metric.locator('[data-testid="stMetricValue"]').first.inner_text().replace(",", ""))


def eventually(condition, page, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not seen within {seconds} s: {what}"
        page.wait_for_timeout(200)


def loss_points(page) -> int:
    return page.evaluate(TRACE_POINTS_JS, ["gan_losses", "discriminator"])


def test_gan_lab_steps_plays_and_pauses_with_legible_charts(streamlit_server, page):
    page.goto(streamlit_server.url + "/gan")
    page.get_by_role("heading", name="GAN Lab").wait_for()
    page.locator('[data-live-chart="gan_field"]').wait_for()
    for pressed in range(1, 4):
        page.get_by_role("button", name="Step both").click()
        eventually(lambda pressed=pressed: steps(page) == pressed, page, f"{pressed} steps")

    # A press while playing reruns the page while a training tick may be running (with
    # Streamlit's fast reruns the new run drew the model while the old one still trained
    # it, and the page failed); Step pauses, then takes its one step.
    for _ in range(3):
        page.get_by_role("button", name="Play").click()
        page.get_by_role("button", name="Pause").wait_for()
        page.wait_for_timeout(600)
        page.get_by_role("button", name="Step both").click(timeout=5000)
        page.get_by_role("button", name="Play").wait_for()
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    page.wait_for_timeout(2000)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    page.wait_for_timeout(800)  # the tick in flight when Pause was pressed
    played = steps(page)
    assert played > 10, f"{played} steps after about 4 s of playing and 3 presses"
    assert loss_points(page) >= 3, "the losses chart shows no curve"
    page.wait_for_timeout(1000)
    assert steps(page) == played, "the step counter kept moving after Pause"
    assert clipped_chart_labels(page) == [], "axis labels cut off at a chart's edge"
    for chart in ("gan_losses", "gan_coverage"):
        assert page.evaluate(LEGEND_OVER_TITLE_JS, chart) is False, f"{chart}: legend on title"
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gan-lab.png"), full_page=True)


def test_each_objective_typesets_without_errors(streamlit_server, page):
    page.goto(streamlit_server.url + "/gan")
    page.get_by_role("heading", name="GAN Lab").wait_for()
    for loss in LOSSES:
        title = LOSS_TITLES[loss]
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Loss").click()
        page.get_by_role("option", name=title, exact=True).click()
        label = f"What the two networks minimise: {title}"
        panel = page.locator('[data-testid="stExpander"]').filter(has_text=label)
        panel.get_by_text(label, exact=True).click()
        expect(panel.locator(".katex-display")).to_have_count(1)
        assert typesetting_errors(panel) == [], loss
        assert overflowing_formulas(panel) == [], f"{loss}: a formula is cut off"
        panel.get_by_text(label, exact=True).click()


def test_the_few_shot_page_opens_on_its_url_and_typesets_its_rule(streamlit_server, page):
    page.goto(streamlit_server.url + "/fewshot_gan")
    page.get_by_role("heading", name="Few-shot GAN").wait_for()
    label = "How the few-shot GAN meta-learns: the update rule"
    panel = page.locator('[data-testid="stExpander"]').filter(has_text=label)
    panel.get_by_text(label, exact=True).click()
    expect(panel.locator(".katex-display")).to_have_count(1)
    assert typesetting_errors(panel) == []
    assert overflowing_formulas(panel) == []
    page.locator('[data-testid="stDataFrame"]').wait_for()  # both starts adapted and scored
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.first.inner_text()
