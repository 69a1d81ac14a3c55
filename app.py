"""MetaLearn Studio: the Streamlit entry point (``streamlit run app.py``).

Builds the navigation over the page scripts in ``pages/`` that exist, so a page
that has not landed yet never breaks the app.
"""

from __future__ import annotations

import pandas  # noqa: F401  (see below)
import streamlit as st

from studio_ui.catalog import available_pages
from studio_ui.i18n import _, language_switch
from studio_ui.runtime import configure_logging, configure_torch_threads
from studio_ui.sessions import register_session

# pandas is imported whole before any page runs: plotly looks it up in sys.modules without
# importing it, and a figure drawn while another session's thread was importing pandas
# found it half-initialised (AttributeError: ... 'pandas' has no attribute 'Series').

st.set_page_config(page_title="MetaLearn Studio", page_icon="🧠", layout="wide")
configure_logging()
configure_torch_threads()
register_session()  # a closed tab's state is freed within a minute (studio_ui.sessions)

# Before the navigation, so that its labels are already in the chosen language.
language_switch()
sections: dict[str, list] = {}
for entry in available_pages():
    sections.setdefault(_(entry.section), []).append(
        # the URL path stays the script's name whatever the language
        st.Page(entry.script, title=_(entry.title), icon=entry.icon, default=entry.default)
    )
current = st.navigation(sections)
# Counts this session's script runs: a page that sees the count jump by more than one
# since its own last run knows another page ran in between (the Train page pauses).
st.session_state["app_runs"] = st.session_state.get("app_runs", 0) + 1
current.run()
