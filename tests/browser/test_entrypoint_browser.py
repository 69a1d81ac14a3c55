"""A first request straight to a page, on a server just started, still runs ``app.py``.

Streamlit 1.67 offers no public way to serve it so: its old ``pages/`` layout stays on
until some session calls ``st.navigation``, and ``studio_ui.runtime.ensure_entrypoint``
turns it off through the private ``PagesManager.uses_pages_directory``. This test fails
when that attribute disappears or stops having effect (the page would then run alone, in
a sidebar listing every script of ``pages/``).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from studio_ui.catalog import available_pages
from studio_ui.serving import StreamlitServer
from tests.browser.conftest import require_browser

pytestmark = pytest.mark.browser


def test_a_first_request_to_train_runs_through_app_py(chromium):
    require_browser()
    with StreamlitServer(env={"METALEARN_TORCH_THREADS": "1"}) as server:  # a fresh process
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{server.url}/train")
            page.get_by_role("heading", name="Train").wait_for()
            # app.py's navigation: the catalogue's titles (after each icon's name), not
            # one link per script
            links = page.locator('[data-testid="stSidebarNav"] a')
            titles = [re.compile(re.escape(entry.title) + "$") for entry in available_pages()]
            expect(links).to_have_text(titles)
            # app.py's page config ran: the browser tab carries the app's name
            expect(page).to_have_title("MetaLearn Studio")
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            context.close()
