"""A teacher's Chinese link to a lesson, in headless Chromium: the lesson's Chinese title, its
setup applied, its answer behind an expander, and one click from the Lessons page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from metalearn_core.engine import RunConfig
from metalearn_core.settings import settings_of
from studio_ui.i18n import translations
from studio_ui.lessons import LESSONS_BY_ID
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

CARD = ".st-key-lesson_card"


def test_a_teachers_chinese_link_opens_the_lesson(streamlit_server, page):
    lesson = LESSONS_BY_ID["inner_lr"]
    chinese = translations("zh_CN")
    page.goto(f"{streamlit_server.url}/{lesson.link('zh_CN')}")
    card = page.locator(CARD)
    card.get_by_role("heading", name="课程:" + chinese.gettext(lesson.title)).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert chinese.gettext(lesson.question).split("**")[0] in card.inner_text()
    # the setup is applied: the run is MAML on the sinusoid with the lesson's inner rate
    main = page.locator('[data-testid="stMain"]')
    summary = main.locator('[data-testid="stCaptionContainer"]').filter(has_text="sinusoid")
    summary.first.wait_for()
    assert "MAML" in summary.first.inner_text()
    # (inside the collapsed Hyperparameters expander: its text, not what is drawn)
    assert "inner_lr = 1.0" in page.locator('[data-testid="stSidebar"]').text_content()
    # the teacher's hide list: the data set and algorithm controls are not drawn
    query = parse_qs(urlsplit(page.url).query)
    assert lesson.hide == ("dataset", "algo") and query["hide"] == ["dataset,algo"]
    labels = page.locator('[data-testid="stSidebar"] [data-testid="stWidgetLabel"]')
    shown = [text.strip() for text in labels.all_inner_texts()]
    settings = settings_of(RunConfig)
    label = lambda name: chinese.gettext(settings[name].label)  # noqa: E731
    assert label("k_shot") in shown, shown  # the rest of the form is there
    assert label("dataset") not in shown and label("algo") not in shown, shown
    # the answer shows only once revealed
    answer_start = chinese.gettext(lesson.answer)[:12]
    assert not card.get_by_text(answer_start).first.is_visible()
    card.get_by_text(chinese.gettext("Reveal the answer")).click()
    card.get_by_text(answer_start).first.wait_for()
    query = parse_qs(urlsplit(page.url).query)
    assert query["lesson"] == ["inner_lr"] and query["lang"] == ["zh_CN"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lesson-inner-lr-zh.png"), full_page=True)


def test_one_click_on_the_lessons_page_opens_a_lesson_on_its_page(streamlit_server, page):
    lesson = LESSONS_BY_ID["gan_collapse"]
    page.goto(f"{streamlit_server.url}/lessons")
    page.locator(f".st-key-lessons_{lesson.id}").get_by_text("Open the lesson").click()
    page.locator(CARD).get_by_role("heading", name=f"Lesson: {lesson.title}").wait_for()
    assert page.url.split("?")[0].endswith("/gan")
    assert "lesson=gan_collapse" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
