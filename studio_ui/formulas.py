"""Formulas on a page: the core's docstring formulas (``metalearn_core.docmath``), typeset."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from metalearn_core.docmath import MathBlock
from studio_ui.i18n import _


def formulas_expander(label: str, blocks: Iterable[MathBlock]) -> None:
    """A collapsed expander: each formula typeset under the sentence that introduces it
    (in the session's language: Babel extracts the docstrings' sentences)."""
    with st.expander(label):
        for block in blocks:
            st.markdown(_(block.introduction))
            st.latex(block.latex)
