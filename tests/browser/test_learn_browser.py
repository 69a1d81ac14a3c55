"""A Learn page in Chinese in Chromium: the text, a plotly figure and a KaTeX formula show
Chinese characters drawn with a real font (not the boxes of a missing one)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, typesetting_errors

pytestmark = pytest.mark.browser

# Two different characters drawn alike means both fell back to the missing-glyph box.
CJK_FONT_JS = """() => {
    const draw = (text) => {
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 48;
        const context = canvas.getContext('2d');
        context.font = '36px sans-serif';
        context.fillText(text, 4, 40);
        return canvas.toDataURL();
    };
    return draw('原') !== draw('型');
}"""


def test_a_chinese_link_opens_the_learn_page_in_chinese(streamlit_server, page):
    page.goto(f"{streamlit_server.url}/learn_prototypes?lang=zh_CN")
    page.get_by_role("heading", name="原型网络").wait_for()
    page.locator(".js-plotly-plot .legend").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.evaluate(CJK_FONT_JS), "Chromium has no CJK font (Debian: fonts-noto-cjk)"
    legend = page.locator(".js-plotly-plot .legend").first.text_content()
    assert "原型" in legend and "支持" in legend
    formulas = page.locator(".katex")
    assert any("真实类别" in formulas.nth(i).inner_text() for i in range(formulas.count()))
    assert not typesetting_errors(page.locator("body"))
    assert "lang=zh_CN" in page.url
    # the sidebar's switch goes back to English on the same page
    page.get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Prototypical Networks").wait_for()
    assert "lang=en" in page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "learn-prototypes-en.png"), full_page=True)


def test_a_click_on_the_prototypes_plane_places_a_support_point(streamlit_server, page):
    page.goto(f"{streamlit_server.url}/learn_prototypes")
    page.get_by_role("heading", name="Place the support points yourself").wait_for()
    counter = page.get_by_text("0 of 20 points placed.")
    counter.wait_for()
    chart = page.locator('[class*="st-key-learn_prototypes_points_chart_0"] .js-plotly-plot')
    chart.scroll_into_view_if_needed()
    box = page.locator(
        '[class*="st-key-learn_prototypes_points_chart_0"] .js-plotly-plot .nsewdrag'
    ).first.bounding_box()
    # a click on empty space (no point of the figure's own there): the grid catches it
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.get_by_text("1 of 20 points placed.").wait_for(timeout=30_000)
    page.locator('[class*="st-key-learn_prototypes_points_chart_1"]').wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "learn-prototypes-clicked.png"), full_page=True)
