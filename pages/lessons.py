"""Guided lessons: each opens its page (Train, Compare, GAN Lab) with a prepared setup and a
card holding a question, what to look for, and the answer to reveal (studio_ui.lessons)."""

from __future__ import annotations

import streamlit as st

from studio_ui.i18n import _, current_language
from studio_ui.lesson_texts import LESSONS, PAGES
from studio_ui.lessons import lesson_query
from studio_ui.runtime import ensure_entrypoint

ensure_entrypoint()
st.title(_("Guided lessons"))
st.markdown(
    _(
        "Each lesson opens a page with its settings already chosen and a card at the top: "
        "a question to think about before you press anything, what to look for while it "
        "runs, and the answer, hidden until you reveal it. Every setup runs within a "
        "minute on a laptop's CPU."
    )
)
language = current_language()
for lesson in LESSONS:
    with st.container(border=True, key=f"lessons_{lesson.id}"):
        st.markdown(f"#### {_(lesson.title)}")
        st.caption(_("On the {page} page").format(page=_(PAGES[lesson.page][1])))
        st.markdown(_(lesson.question))
        st.page_link(
            lesson.script,
            label=_("Open the lesson"),
            icon=":material/school:",
            query_params=lesson_query(lesson),
        )
        st.caption(
            _("A teacher's link (it hides {controls}):").format(controls=", ".join(lesson.hide))
        )
        st.code(lesson.link(language), language=None)
