"""Home: what few-shot meta-learning is, one episode drawn, and a card per page."""

from __future__ import annotations

import logging

import streamlit as st

from metalearn_core.engine.config import DataSettings
from metalearn_core.figures.episodes import episode_picture
from studio_ui.catalog import available_pages
from studio_ui.data import cached_task_source
from studio_ui.live_chart import STATIC_CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint

log = logging.getLogger("metalearn_studio.home")

EPISODE_DATASET = "glyphs"
EPISODE_N_WAY, EPISODE_K_SHOT, EPISODE_Q_QUERY = 5, 1, 3

ensure_entrypoint()
st.title("MetaLearn Studio")
st.markdown(
    """
**Few-shot learning** asks a model to recognise a new class from a handful of examples —
one drawing of a letter it has never seen — as people do. **Meta-learning** trains for
exactly that: instead of one big classification problem, the learner practises on thousands
of small tasks called **episodes**. Each episode picks *N* classes and gives *K* labelled
examples of each (the **support set**); the learner adapts to them and is scored on further
examples of the same classes (the **query set**). What is learnt is not the classes, which
change every episode, but *how to learn from a few examples*: a good initialisation to
fine-tune from (MAML, Reptile), an embedding in which classes form tight clusters
(Prototypical and Matching Networks), or a network that reads the support set directly.
"""
)

st.subheader(f"One episode: {EPISODE_N_WAY}-way {EPISODE_K_SHOT}-shot")
try:
    from metalearn_core.data.episodes import EpisodeSampler

    source = cached_task_source(DataSettings(EPISODE_DATASET), "train")
    sampler = EpisodeSampler(source, EPISODE_N_WAY, EPISODE_K_SHOT, EPISODE_Q_QUERY, seed=0)
    episode = sampler.sample()
    st.plotly_chart(
        episode_picture(episode),
        config=STATIC_CHART_CONFIG,
        key="home_episode",
    )
    st.caption(
        f"Each row is one class of the {EPISODE_DATASET} data set, relabelled 0..{EPISODE_N_WAY - 1} "
        "for this episode. Left: the support set the learner adapts on. Right: query examples "
        "it must label. The next episode draws other classes."
    )
except Exception as error:  # the picture is a nicety: the page must render without it
    log.exception("could not draw the Home page episode")
    st.info(f"The episode picture is not available here ({type(error).__name__}: {error}).")

st.subheader("Pages")
entries = [entry for entry in available_pages() if not entry.default]
for column, entry in zip(st.columns(max(1, len(entries))), entries, strict=False):
    with column, st.container(border=True):
        st.markdown(f"#### {entry.title}")
        st.write(entry.summary)
        st.page_link(entry.script, label=f"Open {entry.title}", icon=entry.icon)
