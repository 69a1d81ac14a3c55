"""The real server: health check, and the Home page renders in Chromium without an exception."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_health_and_home_page_render(streamlit_server, page):
    assert streamlit_server.health() == "ok"
    page.goto(streamlit_server.url)
    page.get_by_role("heading", name="MetaLearn Studio").wait_for()
    page.get_by_text("Open Train").wait_for()
    page.wait_for_timeout(500)  # let the episode picture arrive
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
