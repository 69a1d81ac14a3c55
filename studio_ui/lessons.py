"""Guided lessons: a prepared setup on the Train, Compare or GAN Lab page, with a question,
what to look for, and an answer to reveal.

A lesson opens by one click on the Lessons page, or straight from a link a teacher hands
out: ``train?lesson=inner_lr`` (``&lang=zh_CN`` for Chinese). The target page calls
``show_lesson(page)`` before it draws its settings: the first time the lesson arrives, its
setup is written into the page's form (``apply_setup``), and the lesson card sits at the
top of the page for as long as the link names the lesson. A link naming a lesson that does
not exist opens the page with its usual settings and a note; it never raises.

The lessons themselves (texts, setups, hidden controls) are in ``studio_ui.lesson_texts``;
this module opens them: a lesson's setup is checked against the core's limits by
``check_setup`` (and by the tests), applied to its page's form, and its card drawn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from studio_ui.i18n import LANGUAGE_KEY, _, current_language
from studio_ui.lesson_texts import (
    LESSON_PARAM,
    LESSONS_BY_ID,
    PAGES,
    Lesson,
)

log = logging.getLogger("metalearn_studio.lessons")

LESSON_ID_PATTERN = re.compile(r"[a-z0-9_]{1,40}")
ARRIVAL_KEY = "lesson_arrival"  # (page, lesson id, app run) of the lesson shown last


# ----------------------------------------------------------------------------- setups


def train_config(setup: Mapping[str, Any]):
    """The ``RunConfig`` a Train lesson's setup describes: the page's quick demo of its data
    set and algorithm, with the setup's values over it; ``ValueError`` (``ConfigError``)
    naming the setting when a value is unknown or out of its limits."""
    from metalearn_core.algorithms import ALGORITHMS
    from metalearn_core.engine import RunConfig
    from metalearn_core.settings import settings_of
    from studio_ui.run_presets import DEFAULT_ALGO, DEFAULT_DATASET, QUICK_DEMO, preset_config
    from studio_ui.train_settings import PAGE_FIELDS

    dataset = setup.get("dataset", DEFAULT_DATASET)
    algo = setup.get("algo", DEFAULT_ALGO)
    if algo not in ALGORITHMS:
        raise ValueError(f"algo={algo!r} is unknown; choose one of {sorted(ALGORITHMS)}")
    base = preset_config(QUICK_DEMO, dataset, algo).to_dict()
    hparam_names = set(settings_of(ALGORITHMS[algo].hparams_class))
    for name, value in setup.items():
        if name in hparam_names:
            base["hparams"][name] = value
        elif name in PAGE_FIELDS and name != "hparams":
            base[name] = value
        else:
            raise ValueError(f"{name!r} is not a setting of the Train page for {algo}")
    return RunConfig.from_dict(base)


COMPARE_NAMES = (
    "dataset", "algos", "n_way", "k_shot", "q_query", "seed", "budget_kind", "episodes",
    "recipes", "test_episodes", "extra_episodes", "validate_every", "val_episodes",
)  # fmt: skip


def compare_values(setup: Mapping[str, Any]) -> dict[str, Any]:
    """The Compare form's values of a Compare lesson's setup (the form's own shape, as
    ``settings_widgets`` returns it); every name must be given."""
    missing = [name for name in COMPARE_NAMES if name not in setup]
    unknown = [name for name in setup if name not in COMPARE_NAMES]
    if missing or unknown:
        raise ValueError(
            f"a Compare setup names {COMPARE_NAMES}; missing {missing}, unknown {unknown}"
        )
    values = {name: setup[name] for name in COMPARE_NAMES if name != "episodes"}
    values |= {"data_dir": None, "algos": list(setup["algos"]), "budget": setup["episodes"]}
    return values


def gan_config(setup: Mapping[str, Any]):
    """The ``ToyGANConfig`` a GAN Lab lesson's setup describes (the page's settings: its
    structure and its live ones, all given)."""
    from metalearn_core.gan.toy_gan import ToyGANConfig
    from studio_ui.gan_session import LIVE, STRUCTURE

    names = (*STRUCTURE, *LIVE)
    if sorted(setup) != sorted(names):
        raise ValueError(f"a GAN Lab setup names exactly {names}, got {sorted(setup)}")
    return ToyGANConfig(**setup)


def check_setup(lesson: Lesson) -> None:
    """Raise ``ValueError`` when ``lesson``'s setup is not one its page can run, checked by
    the same rules (the core's limits) as the page's own form."""
    if lesson.page == "train":
        train_config(lesson.setup)
    elif lesson.page == "compare":
        from studio_ui.compare_session import MAX_PAGE_EPISODES, plan_from_values

        values = compare_values(lesson.setup)
        if not 1 <= values["budget"] <= MAX_PAGE_EPISODES:
            raise ValueError(f"episodes={values['budget']} is outside 1..{MAX_PAGE_EPISODES}")
        plan_from_values(values)
    elif lesson.page == "gan":
        gan_config(lesson.setup)
    else:
        raise ValueError(f"lesson {lesson.id!r}: unknown page {lesson.page!r}")


def apply_setup(page: str, setup: Mapping[str, Any]) -> None:
    """Write ``setup`` into ``page``'s form before its widgets are drawn, checked as a
    link's settings are (``studio_ui.links.apply_setup``); ``ValueError`` naming what it
    left out (a registry mistake: the tests check every lesson applies whole)."""
    import streamlit as st

    from studio_ui.links import apply_setup as apply_link_setup

    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}; lessons open on {sorted(PAGES)}")
    notes = apply_link_setup(page, setup)
    if notes:
        raise ValueError(f"a lesson's setup for {page} was not applied whole: {notes}")
    if page == "gan":
        from studio_ui.gan_session import LAB_KEY

        lab = st.session_state.get(LAB_KEY)
        if lab is not None and not lab.has_trained():
            lab.reset()  # an untrained GAN follows the lesson at once


# ----------------------------------------------------------------------------- the card


def lesson_from_query(value: object) -> Lesson | None:
    """The lesson a URL's ``lesson`` names, or None (anything else: None, never an error)."""
    if not isinstance(value, str) or not LESSON_ID_PATTERN.fullmatch(value.strip()):
        return None
    return LESSONS_BY_ID.get(value.strip())


def _fresh_arrival(page: str, lesson: Lesson) -> bool:
    """True on the first run of ``page`` with ``lesson`` since the student came to it:
    a new session, another lesson, or a visit to another page in between (app.py counts
    the session's runs). A rerun on the page (a press, the language switch) is not."""
    import streamlit as st

    runs = st.session_state.get("app_runs")
    previous = st.session_state.get(ARRIVAL_KEY)
    st.session_state[ARRIVAL_KEY] = (page, lesson.id, runs)
    if previous is None or previous[:2] != (page, lesson.id):
        return True
    return runs is not None and previous[2] is not None and runs - previous[2] > 1


def close_lesson() -> None:
    """The card's Close button: the page stays as it is, without the lesson (a teacher's
    ``hide`` stays: it is the teacher's choice, not the lesson's)."""
    import streamlit as st

    if LESSON_PARAM in st.query_params:
        del st.query_params[LESSON_PARAM]
    st.session_state.pop(ARRIVAL_KEY, None)


def lesson_card(lesson: Lesson) -> None:
    """The question, what to look for, and the answer behind an expander."""
    import streamlit as st

    with st.container(border=True, key="lesson_card"):
        title, close = st.columns([5, 1], vertical_alignment="center")
        title.subheader(_("Lesson: {title}").format(title=_(lesson.title)))
        close.button(_("Close the lesson"), on_click=close_lesson, key="lesson_close",
                     icon=":material/close:")  # fmt: skip
        question, look_for = _("Question"), _("What to look for")
        st.markdown(f"**{question}** · {_(lesson.question)}")
        st.markdown(f"**{look_for}** · {_(lesson.look_for)}")
        with st.expander(_("Reveal the answer"), icon=":material/visibility:"):
            st.markdown(_(lesson.answer))


def show_lesson(page: str) -> Lesson | None:
    """The lesson the URL names, on ``page`` (call before the page draws its settings).

    A lesson that arrives (a click on the Lessons page, a teacher's link) writes its setup
    into the form once; afterwards the student's own changes stand. Returns the lesson
    shown, or None (no lesson in the URL, an unknown one, or one of another page: a note).
    """
    import streamlit as st

    requested = st.query_params.get(LESSON_PARAM)
    if requested is None:
        st.session_state.pop(ARRIVAL_KEY, None)
        return None
    lesson = lesson_from_query(requested)
    if lesson is None:
        st.warning(
            _("This link names no lesson we have: the page opens with its usual settings."),
            icon=":material/help:",
        )
        st.page_link("pages/lessons.py", label=_("See the guided lessons"), icon=":material/list:")
        return None
    if lesson.page != page:
        st.info(
            _("The lesson “{title}” runs on another page.").format(title=_(lesson.title)),
            icon=":material/info:",
        )
        st.page_link(lesson.script, label=_("Open the lesson"), icon=":material/school:",
                     query_params=lesson_query(lesson))  # fmt: skip
        return None
    if _fresh_arrival(page, lesson):
        try:
            apply_setup(page, lesson.setup)
        except ValueError:  # a registry mistake: the page still opens, with its defaults
            log.exception("lesson %s: its setup cannot be applied", lesson.id)
            st.error(
                _(
                    "This lesson's setup could not be applied: the page opens with its usual settings."
                )
            )
            return None
    lesson_card(lesson)
    return lesson


def lesson_query(lesson: Lesson) -> dict[str, str | list[str]]:
    """The query parameters that open ``lesson`` in the session's language, with its setup
    (a student's link: nothing hidden)."""
    query: dict[str, str | list[str]] = {LESSON_PARAM: lesson.id}
    for name, text in setup_query(lesson.page, lesson.setup):
        previous = query.get(name)
        query[name] = text if previous is None else [*_as_list(previous), text]
    query[LANGUAGE_KEY] = current_language()
    return query


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def setup_query(page: str, setup: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``setup`` as ``page``'s link writes it: the settings that differ from their defaults,
    by their query names, as texts (``ValueError`` when a value is not the page's)."""
    from studio_ui.links import PageLink, page_params

    spec = page_params(page)
    values, _accepted, notes = spec.check_all(spec.resolve(setup), parse=False)
    if notes:
        raise ValueError(f"a lesson's setup for {page} is not the page's: {notes}")
    link = PageLink(spec, frozenset(), {})
    link.values = values
    return [(name, text) for name, value in link.setup().items()
            for text in spec.by_name[name].texts(value)]  # fmt: skip


def text_fields(lesson: Lesson) -> dict[str, str]:
    """The texts a student reads (each translated where shown)."""
    return {name: getattr(lesson, name) for name in ("title", "question", "look_for", "answer")}
