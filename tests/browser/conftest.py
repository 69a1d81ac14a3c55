"""Fixtures for end-to-end tests: a real ``streamlit run`` server and headless Chromium.

The tests skip, with the reason, when Chromium or Playwright is missing, except when
the environment variable ``CI`` is set: there a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio_ui.serving import CHROMIUM, CHROMIUM_FLAGS, REPO_ROOT, StreamlitServer

ARTIFACTS = REPO_ROOT / "test-artifacts"

# Tick labels and axis titles of every live chart (studio_ui.live_chart: a plotly div
# marked data-live-chart, which clips what overflows it) that fall outside it.
CLIPPED_LABELS_JS = """() => Array.from(document.querySelectorAll('[data-live-chart]')).flatMap(chart => {
    if (!chart.querySelector('.main-svg')) return [];
    const frame = chart.getBoundingClientRect();
    return Array.from(chart.querySelectorAll('g[class$="tick"] > text, text[class$="title"]'))
        .filter(label => label.textContent.trim() !== '')
        .filter(label => {
            const box = label.getBoundingClientRect();
            return box.left < frame.left - 1 || box.top < frame.top - 1
                || box.right > frame.right + 1 || box.bottom > frame.bottom + 1;
        })
        .map(label => label.textContent);
})"""


def clipped_chart_labels(page) -> list[str]:
    """Tick labels and axis titles of the page's live charts that their frame cuts off."""
    return page.evaluate(CLIPPED_LABELS_JS)


def typesetting_errors(region) -> list[str]:
    """What KaTeX could not read inside ``region``: a parse error, or an unknown command it
    prints in red in place of its output."""
    errors = region.locator('.katex-error, [mathcolor="#cc0000"]')
    return [errors.nth(i).inner_text() for i in range(errors.count())]


def overflowing_formulas(region) -> list[int]:
    """How many pixels each displayed formula in ``region`` is wider than its column (the
    excess is cut off); a pixel or two is KaTeX's italic correction."""
    widths = region.locator(".katex-display").evaluate_all(
        "displays => displays.map(d => d.scrollWidth - d.clientWidth)"
    )
    return [excess for excess in widths if excess > 3]


def _missing_browser_reason() -> str | None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-test.txt)"
    return None


def require_browser() -> None:
    """Skip (or, under CI, fail) when the browser stack is missing."""
    reason = _missing_browser_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def streamlit_server() -> Iterator[StreamlitServer]:
    """The app served on a free port; yields once GET /_stcore/health == "ok"."""
    require_browser()
    server = StreamlitServer(env={"METALEARN_TORCH_THREADS": "1"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """A headless Chromium (Debian's) driven by Playwright."""
    require_browser()
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, request) -> Iterator[object]:
    """A fresh browser page at 1280x900 (a projector's size); screenshot saved on failure."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    browser_page = context.new_page()
    browser_page.set_default_timeout(30_000)
    try:
        yield browser_page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            browser_page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"))
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
