"""Guided lessons through Streamlit's AppTest, run via app.py's navigation as a link opens
them (``train?lesson=inner_lr``): the card, the setup applied, a Step that works, unknown and
hostile lesson ids, and the registry in both languages."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import PYTHON_FORMAT
from streamlit.testing.v1 import AppTest

from studio_ui import compare_session, i18n, lesson_texts, lessons
from studio_ui import train_session as train_state
from studio_ui.gan_session import LAB_KEY
from studio_ui.serving import REPO_ROOT
from studio_ui.train_settings import KEY as TRAIN_KEY

APP = str(REPO_ROOT / "app.py")
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def open_page(script: str, lesson: object = None, language: str | None = None) -> AppTest:
    """A new session that opens ``script`` from a link carrying ``lesson`` (and ``lang``)."""
    at = AppTest.from_file(APP, default_timeout=180)
    if lesson is not None:
        at.query_params[lessons.LESSON_PARAM] = lesson
    if language is not None:
        at.query_params[i18n.LANGUAGE_KEY] = language
    at.switch_page(script).run()
    assert not at.exception, at.exception
    return at


def card_title(at: AppTest) -> str | None:
    titles = [s.value for s in at.subheader if s.value.startswith(("Lesson:", "课程:"))]
    return titles[0] if titles else None


# ----------------------------------------------------------------------------- registry


def test_the_registry_has_six_lessons_with_unique_ids_on_known_pages():
    assert len(lesson_texts.LESSONS) >= 6
    ids = [lesson.id for lesson in lesson_texts.LESSONS]
    assert len(set(ids)) == len(ids)
    assert all(lessons.LESSON_ID_PATTERN.fullmatch(i) for i in ids)
    assert {lesson.page for lesson in lesson_texts.LESSONS} == {"train", "compare", "gan"}


@pytest.mark.parametrize("lesson", lesson_texts.LESSONS, ids=lambda lesson: lesson.id)
def test_every_setup_is_one_its_page_can_run(lesson):
    lessons.check_setup(lesson)  # the core's own checks: raises on a value out of its limits


@pytest.mark.parametrize("lesson", lesson_texts.LESSONS, ids=lambda lesson: lesson.id)
def test_every_text_of_a_lesson_is_in_english_and_chinese(lesson):
    chinese = i18n.translations("zh_CN")
    for name, text in lessons.text_fields(lesson).items():
        assert text.strip(), f"{lesson.id}.{name} is empty"
        assert not PLACEHOLDER.search(text), f"{lesson.id}.{name} has a placeholder left"
        # "90% on" reads as a %-format to Babel, which then refuses the translation
        assert not PYTHON_FORMAT.search(text), f"{lesson.id}.{name}: {PYTHON_FORMAT.search(text)}"
        translated = chinese.gettext(text)
        assert translated != text and CJK.search(translated), f"{lesson.id}.{name} untranslated"


def test_a_setup_out_of_the_cores_limits_is_refused():
    with pytest.raises(ValueError, match="k_shot"):
        lessons.train_config({"dataset": "glyphs", "algo": "protonet", "k_shot": 100000})
    with pytest.raises(ValueError, match="not a setting"):
        lessons.train_config({"dataset": "glyphs", "algo": "protonet", "shots": 5})
    bad_gan = dict(lessons.LESSONS_BY_ID["gan_collapse"].setup, pack=9)
    with pytest.raises(ValueError, match="pack"):
        lessons.gan_config(bad_gan)


def test_a_teachers_link_names_the_page_lesson_language_and_hidden_controls():
    lesson = lessons.LESSONS_BY_ID["inner_lr"]
    # the setup rides along (what differs from the defaults): a hidden control reads the URL
    assert lesson.link("zh_CN") == (
        "train?lesson=inner_lr&dataset=sinusoid&maml.inner_lr=1.0&lang=zh_CN&hide=dataset,algo"
    )
    assert lesson.link(hide=False) == "train?lesson=inner_lr&dataset=sinusoid&maml.inner_lr=1.0"


@pytest.mark.parametrize(
    "value", [None, "", "nope", "INNER_LR", "inner_lr; drop", "<script>", "x" * 5000, 42]
)
def test_only_a_registered_id_names_a_lesson(value):
    assert lessons.lesson_from_query(value) is None


# ----------------------------------------------------------------------------- on the pages


def applied_setup(at: AppTest, lesson: lessons.Lesson) -> None:
    """The page's run (or comparison, or GAN) is the one the lesson's setup describes."""
    state = at.session_state
    if lesson.page == "train":
        config = state[train_state.KEY].trainer.config
        assert config == lessons.train_config(lesson.setup).replace(**_hidden(config))
    elif lesson.page == "compare":
        plan = state[compare_session.COMPARISON].plan
        expected = compare_session.plan_from_values(lessons.compare_values(lesson.setup))
        assert plan == expected
    else:
        assert state[LAB_KEY].model.config == lessons.gan_config(lesson.setup)


def _hidden(config) -> dict:
    # fields the Train form does not show come from the session (device, data folder...)
    return {name: getattr(config, name) for name in ("device",)}


def step(at: AppTest, lesson: lessons.Lesson) -> None:
    """One Step on the page; it trains without an exception."""
    if lesson.page == "train":
        at.button(key="train_step").click().run()
        assert at.session_state[train_state.KEY].trainer.iteration == 1
    elif lesson.page == "compare":
        at.button(key="compare_step").click().run()
        trainers = at.session_state[compare_session.COMPARISON].trainers.values()
        assert [t.iteration for t in trainers] == [1] * len(lesson.setup["algos"])
    else:
        at.button(key="gan_step_both").click().run()
        assert at.session_state[LAB_KEY].model.steps == 1
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("lesson", lesson_texts.LESSONS, ids=lambda lesson: lesson.id)
def test_a_lesson_link_opens_its_page_with_the_card_and_the_setup(lesson):
    at = open_page(lesson.script, lesson.id)
    assert card_title(at) == f"Lesson: {lesson.title}"
    card_text = " ".join(m.value for m in at.markdown)
    assert lesson.question in card_text and lesson.look_for in card_text
    expander = [e for e in at.expander if e.label == "Reveal the answer"]
    assert len(expander) == 1 and expander[0].markdown[0].value == lesson.answer
    applied_setup(at, lesson)
    step(at, lesson)
    assert card_title(at) is not None, "the card stays while the lesson runs"


def test_a_chinese_link_shows_the_lesson_in_chinese():
    lesson = lessons.LESSONS_BY_ID["gan_collapse"]
    at = open_page(lesson.script, lesson.id, language="zh_CN")
    chinese = i18n.translations("zh_CN")
    assert card_title(at) == "课程:" + chinese.gettext(lesson.title)
    assert [e.label for e in at.expander if CJK.search(e.label)]
    applied_setup(at, lesson)


def test_the_setup_is_applied_once_and_the_students_changes_stand():
    at = open_page("pages/train.py", "shots")
    at.number_input(key=TRAIN_KEY + "k_shot").set_value(5).run()
    at.run()  # a rerun on the page (a press, the language switch) keeps the change
    assert at.session_state[train_state.KEY].trainer.config.k_shot == 5
    assert card_title(at) is not None


def test_coming_back_to_the_lesson_from_another_page_applies_it_again():
    at = open_page("pages/train.py", "shots")
    at.number_input(key=TRAIN_KEY + "k_shot").set_value(5).run()
    at.switch_page("pages/lessons.py").run()
    at.query_params[lessons.LESSON_PARAM] = "shots"
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert at.session_state[train_state.KEY].trainer.config.k_shot == 1


def test_closing_the_lesson_keeps_the_page_without_its_card():
    at = open_page("pages/train.py", "inner_lr")
    at.button(key="lesson_close").click().run()
    assert card_title(at) is None
    assert lessons.LESSON_PARAM not in at.query_params
    assert at.session_state[train_state.KEY].trainer.config.algo == "maml"  # setup kept


@pytest.mark.parametrize(
    "value", ["nope", "<script>alert(1)</script>", "x" * 5000, "../../etc/passwd", "shots,inner_lr"]
)
def test_an_unknown_or_hostile_lesson_opens_the_page_with_its_defaults(value):
    at = open_page("pages/train.py", value)
    assert card_title(at) is None
    assert any("names no lesson" in w.value for w in at.warning)
    config = at.session_state[train_state.KEY].trainer.config
    assert (config.dataset, config.algo) == ("glyphs", "protonet")  # the page's first visit
    assert value not in " ".join(w.value for w in at.warning)  # never echoed back


def test_a_lesson_of_another_page_points_there_and_changes_nothing():
    at = open_page("pages/compare.py", "inner_lr")
    assert card_title(at) is None
    assert any("another page" in i.value for i in at.info)
    links = [link.proto for link in at.get("page_link")]
    assert any(link.page.endswith("train") and "lesson=inner_lr" in link.query_string
               for link in links)  # fmt: skip
    plan = at.session_state[compare_session.COMPARISON].plan
    assert plan.algos == ("protonet", "maml")  # Compare's defaults


def test_the_lessons_page_links_each_lesson_to_its_page():
    at = open_page("pages/lessons.py")
    links = [link.proto for link in at.get("page_link") if "lesson=" in link.proto.query_string]
    assert len(links) == len(lesson_texts.LESSONS)
    for link, lesson in zip(links, lesson_texts.LESSONS, strict=True):
        assert link.page.endswith(lesson.url_path)
        assert f"lesson={lesson.id}" in link.query_string
    codes = [c.value for c in at.code]
    assert [lesson.link("en") for lesson in lesson_texts.LESSONS] == codes


def test_the_lessons_page_in_chinese_hands_out_chinese_links():
    at = open_page("pages/lessons.py", language="zh_CN")
    assert at.title[0].value == "引导课程"
    assert [c.value for c in at.code] == [lesson.link("zh_CN") for lesson in lesson_texts.LESSONS]
    links = [link.proto for link in at.get("page_link") if "lesson=" in link.proto.query_string]
    assert all("lang=zh_CN" in link.query_string for link in links)


@pytest.mark.parametrize("lesson", lesson_texts.LESSONS, ids=lambda lesson: lesson.id)
def test_every_hidden_control_is_a_control_of_the_lessons_page(lesson):
    from studio_ui.links import page_params

    spec = page_params(lesson.page)
    assert lesson.hide and all(spec.hide_name(name) is not None for name in lesson.hide)
