"""Home: what few-shot meta-learning is, one episode drawn, and a card per page."""

from __future__ import annotations

import logging

import streamlit as st

from metalearn_core.engine.config import DataSettings
from metalearn_core.figures.episodes import episode_picture
from metalearn_core.figures.words import EpisodeWords
from studio_ui.catalog import available_pages
from studio_ui.data import cached_task_source
from studio_ui.i18n import _, translated_words
from studio_ui.live_chart import STATIC_CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint

log = logging.getLogger("metalearn_studio.home")

EPISODE_DATASET = "glyphs"
EPISODE_N_WAY, EPISODE_K_SHOT, EPISODE_Q_QUERY = 5, 1, 3

ensure_entrypoint()
st.title("MetaLearn Studio")
st.markdown(
    _(
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
)

st.subheader(
    _("One episode: {n_way}-way {k_shot}-shot").format(n_way=EPISODE_N_WAY, k_shot=EPISODE_K_SHOT)
)
try:
    from metalearn_core.data.episodes import EpisodeSampler

    source = cached_task_source(DataSettings(EPISODE_DATASET), "train")
    sampler = EpisodeSampler(source, EPISODE_N_WAY, EPISODE_K_SHOT, EPISODE_Q_QUERY, seed=0)
    episode = sampler.sample()
    st.plotly_chart(
        episode_picture(episode, words=translated_words(EpisodeWords())),
        config=STATIC_CHART_CONFIG,
        key="home_episode",
    )
    st.caption(
        _(
            "Each row is one class of the {dataset} data set, relabelled 0..{last} for this "
            "episode. Left: the support set the learner adapts on. Right: query examples it "
            "must label. The next episode draws other classes."
        ).format(dataset=EPISODE_DATASET, last=EPISODE_N_WAY - 1)
    )
except Exception as error:  # the picture is a nicety: the page must render without it
    log.exception("could not draw the Home page episode")
    st.info(
        _("The episode picture is not available here ({kind}: {error}).").format(
            kind=type(error).__name__, error=error
        )
    )

CARDS_PER_ROW = 3
entries = [entry for entry in available_pages() if not entry.default]
sections = list(dict.fromkeys(entry.section for entry in entries))
for section in sections:
    st.subheader(_(section))
    in_section = [entry for entry in entries if entry.section == section]
    for start in range(0, len(in_section), CARDS_PER_ROW):
        row = in_section[start : start + CARDS_PER_ROW]
        for column, entry in zip(st.columns(CARDS_PER_ROW), row, strict=False):
            with column, st.container(border=True):
                st.markdown(f"#### {_(entry.title)}")
                st.write(_(entry.summary))
                st.page_link(
                    entry.script,
                    label=_("Open {title}").format(title=_(entry.title)),
                    icon=entry.icon,
                )
