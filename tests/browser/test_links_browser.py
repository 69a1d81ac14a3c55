"""End to end in headless Chromium: a teacher's link opens its setup (in Chinese, with
controls hidden), a changed setting reaches the browser's address bar, and the link box
shows a link that opens the very same setup."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from studio_ui.i18n import translations
from tests.browser.sidebar import set_number

pytestmark = pytest.mark.browser

# The page is in Chinese: its labels are read from the catalog, as the page translates them
zh = translations("zh_CN").gettext
# The run line above the charts: "**MAML**,数据集 **glyphs**,...,元批次 4,种子 0"; its word
# for the meta-batch is on no other line of the page
RUN_LINE = zh("**{algorithm}** on **{dataset}**, {shape}, meta-batch {meta_batch}, seed {seed}")
RUN_LINE_WORD = RUN_LINE.split("{shape}")[1].split("{meta_batch}")[0].strip(" ,\uff0c")

SIDEBAR = '[data-testid="stSidebar"]'
MAIN = '[data-testid="stMain"]'  # the run line is here; the sidebar's labels use its words too


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def shown_link(page, containing: str = "lang=") -> str:
    """The link box's text, once the page's run has drawn ``containing`` into it."""
    box = page.locator(SIDEBAR).locator('[data-testid="stExpander"]')
    box = box.filter(has_text="指向此设置的链接")
    if not box.locator("code").is_visible():
        box.locator("summary").click()
    expect(box.locator("code")).to_contain_text(containing, timeout=60_000)
    return box.locator("code").inner_text().strip()


def test_a_teachers_link_opens_its_setup_and_the_page_links_to_what_it_shows(
    streamlit_server, page
):
    page.goto(f"{streamlit_server.url}/train?algo=maml&k_shot=3&lang=zh_CN&hide=seed,presets")
    page.locator(MAIN).get_by_text(RUN_LINE_WORD, exact=False).first.wait_for()
    expect(page.locator("strong", has_text="MAML").first).to_be_visible()
    sidebar = page.locator(SIDEBAR)
    expect(sidebar.get_by_label(zh("K-shot"), exact=True)).to_have_value("3", timeout=60_000)
    assert sidebar.get_by_label(zh("Seed"), exact=True).count() == 0  # hidden by the link
    assert sidebar.get_by_role("button", name=zh("Quick demo")).count() == 0
    assert page.get_by_role("radio", name="简体中文").is_checked()

    set_number(page, zh("Q-query"), 4)  # the address bar follows the widget
    page.wait_for_function("() => window.location.search.includes('q_query=4')")
    link = shown_link(page, containing="q_query=4")
    assert query(link) == {"algo": "maml", "k_shot": "3", "q_query": "4", "lang": "zh_CN",
                           "hide": "seed,presets"}  # fmt: skip
    assert urlsplit(link).path.endswith("/train")
    assert "run" not in query(link)  # this student's run token stays out of a shared link

    other = page.context.new_page()  # a student opens the link
    other.goto(link)
    other.locator(MAIN).get_by_text(RUN_LINE_WORD, exact=False).first.wait_for()
    expect(other.locator("strong", has_text="MAML").first).to_be_visible()
    # the page reruns once to read the link's choices as its widgets do (by title)
    expect(other.locator(SIDEBAR).get_by_label(zh("K-shot"), exact=True)).to_have_value(
        "3", timeout=60_000
    )
    expect(other.locator(SIDEBAR).get_by_label(zh("Q-query"), exact=True)).to_have_value(
        "4", timeout=60_000
    )
    assert shown_link(other) == link
