"""Learn 2: meta-learning against transfer and few-shot learning, the three families side by
side, and how GANs and meta-learning help each other (article 2.1-2.3)."""

from __future__ import annotations

import streamlit as st

from metalearn_core.data.episodes import EpisodeSampler
from metalearn_core.engine.config import DataSettings
from metalearn_core.figures.episodes import episode_picture
from metalearn_core.figures.lessons import gan_points_figure
from metalearn_core.figures.words import EpisodeWords
from metalearn_core.gan.fewshot_tasks import FROM_SCRATCH, META_LEARNED, TaskComparison
from metalearn_core.lessons.fewshot_gan import (
    LESSON_GAN_CONFIG,
    MAX_UNSEEN_RING,
    adapt_to_unseen_ring,
    meta_trained_gan,
)
from studio_ui import learn
from studio_ui.data import cached_task_source
from studio_ui.i18n import _, translated_words
from studio_ui.learn import formula
from studio_ui.live_chart import STATIC_CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint

EPISODE_DATASET = "glyphs"
MAX_LESSON_WAY, MAX_LESSON_SHOT = 8, 5  # a picture that still reads on a projector
GAN_EXTENT = 2.2  # rings: centre within ±0.5, radius up to 1.2, plus the Gaussians' spread


@st.cache_resource(show_spinner=False, max_entries=2)
def cached_fewshot_gan(iterations: int):
    # One meta-trained GAN for every session: adapting clones it, nothing mutates it.
    return meta_trained_gan(iterations, seed=learn.LESSON_SEED)


@st.cache_resource(show_spinner=False, max_entries=32)
def cached_gan_comparison(ring: int, iterations: int) -> TaskComparison:
    return adapt_to_unseen_ring(cached_fewshot_gan(iterations), ring)


ensure_entrypoint()
st.title(_("Families and neighbours"))

st.header(_("2.1 Meta-learning and transfer learning"))
st.markdown(
    _(
        "Both reuse what was learnt before to learn something new faster. They differ in:\n\n"
        "| | transfer learning | meta-learning |\n|---|---|---|\n"
        "| goal | carry knowledge from a source task to a target task | learn a way of "
        "adapting that works for any task of a family |\n"
        "| data | needs a source domain close to the target | trains on many tasks, which "
        "may differ from one another |\n"
        "| methods | feature reuse, fine-tuning | learned initialisations, learned metrics, "
        "networks that read a task |\n\n"
        "Meta-learning can be seen as a generalisation of transfer learning: instead of one "
        "transfer, it practises transferring. The Train page sets both side by side: the "
        "*transfer* learner pretrains one classifier and fine-tunes it on each episode."
    )
)

st.header(_("2.2 Meta-learning and few-shot learning"))
st.markdown(
    _(
        "Few-shot learning is the problem, meta-learning one way to solve it. An **N-way "
        "K-shot** task gives K labelled examples of each of N classes (the support set); "
        "the learner must label further examples (the query set). Move the sliders: each "
        "row is a class, the left columns its support examples."
    )
)
left, right = st.columns([1, 3])
with left:
    n_way = st.slider(_("N (classes)"), 2, MAX_LESSON_WAY, 5, key="learn_families_n_way")
    k_shot = st.slider(
        _("K (examples per class)"), 1, MAX_LESSON_SHOT, 1, key="learn_families_k_shot"
    )
    episode_seed = st.number_input(
        _("Seed"), min_value=0, max_value=9999, value=0, step=1, key="learn_families_seed"
    )
source = cached_task_source(DataSettings(EPISODE_DATASET), "train")
episode = EpisodeSampler(source, int(n_way), int(k_shot), 2, seed=int(episode_seed)).sample()
with right:
    st.plotly_chart(
        episode_picture(
            episode,
            title=_("{n_way}-way {k_shot}-shot: {count} support examples").format(
                n_way=n_way, k_shot=k_shot, count=n_way * k_shot
            ),
            words=translated_words(EpisodeWords()),
        ),
        config=STATIC_CHART_CONFIG,
        key="learn_families_episode",
    )

st.subheader(_("The three families side by side"))
families = st.columns(3)
with families[0], st.container(border=True):
    st.markdown(_("**Optimisation-based**: a starting point that adapts in a few steps."))
    formula(r"\theta'_i = \theta - \alpha \nabla_\theta \mathcal{L}_{\mathcal{T}_i}(f_\theta)")
    st.markdown(_("Article: MAML. This app: MAML, first-order MAML, Reptile."))
with families[1], st.container(border=True):
    st.markdown(_("**Metric-based**: an embedding in which a distance decides."))
    formula(r"p(y = k \mid x) \propto \exp\big(-d(f_\phi(x), c_k)\big)")
    st.markdown(_("Article: Matching Networks, Prototypical Networks. This app: the same two."))
with families[2], st.container(border=True):
    st.markdown(_("**Model-based**: a network that reads the support set and predicts."))
    formula(r"\hat{y} = f_\theta(x, S)")
    st.markdown(
        _(
            "Article: Neural Turing Machines, neural context learners. This app: a "
            "Conditional Neural Process and an attentive sequence learner (SNAIL-like)."
        )
    )

st.header(_("2.3 GANs and meta-learning help each other"))
meta_for_gan, gan_for_meta = st.columns(2)
with meta_for_gan:
    st.markdown(
        _(
            "**Meta-learning for GANs**\n\n"
            "1. *Steadier training*: a learned optimisation strategy can ease mode collapse "
            "and vanishing gradients.\n"
            "2. *More diverse samples*: learning from few or no examples of a new "
            "distribution widens what the generator covers.\n"
            "3. *Faster adaptation*: a meta-learned initialisation of G and D adapts to a "
            "new domain in a few steps. The Few-shot GAN page does exactly this on rings "
            "of points, digits and glyphs."
        )
    )
with gan_for_meta:
    st.markdown(
        _(
            "**GANs for meta-learning**\n\n"
            "1. *Robustness*: adversarial training makes meta-learned models sturdier and "
            "better at generalising.\n"
            "2. *Unlabelled data*: generative modelling lets meta-learning use data without "
            "labels, for example by generating extra support examples.\n"
            "3. *New fields*: GANs' success with images and speech opens those fields to "
            "meta-learning."
        )
    )

st.subheader(_("A few-shot GAN adapting"))
st.markdown(
    _(
        "Meta-learning for GANs, at work: every task is a ring of eight Gaussians with its "
        "own centre, radius and rotation. Reptile has meta-learned a start for the generator "
        "and the discriminator over many rings; on a ring it never saw, that start and "
        "freshly drawn networks learn from the same {k_shot} examples with the same steps. "
        "Move the step slider and watch both generators adapt."
    ).format(k_shot=LESSON_GAN_CONFIG.k_shot)
)
gan_controls, gan_pictures = st.columns([1, 3])
with gan_controls:
    ring = st.number_input(
        _("unseen ring"), min_value=0, max_value=MAX_UNSEEN_RING, value=0, step=1,
        key="learn_families_gan_ring",
    )  # fmt: skip
    gan_step = st.slider(
        _("adaptation step"), 0, LESSON_GAN_CONFIG.adapt_steps, LESSON_GAN_CONFIG.adapt_steps,
        key="learn_families_gan_step",
    )  # fmt: skip
with st.spinner(_("Meta-training the few-shot GAN…")):
    comparison = cached_gan_comparison(int(ring), learn.GAN_META_ITERATIONS)
start_names = {META_LEARNED: _("meta-learned start"), FROM_SCRATCH: _("from scratch")}
with gan_controls:
    for title, name in start_names.items():
        st.metric(
            _("modes covered ({start})").format(start=name),
            f"{comparison.scores[title]['modes']:.0f} / 8",
        )
    st.caption(_("Modes covered after the last step (of 8; higher is better)."))
snapshots = comparison.snapshots_after(int(gan_step))
for column, (title, name) in zip(gan_pictures.columns(2), start_names.items(), strict=True):
    with column:
        st.plotly_chart(
            gan_points_figure(
                comparison.task.examples, snapshots[title], extent=GAN_EXTENT,
                real_name=_("the {k_shot} examples").format(k_shot=LESSON_GAN_CONFIG.k_shot),
                fake_name=_("generated"),
                title=_("{start}, step {step}").format(start=name, step=int(gan_step)),
            ),
            config=STATIC_CHART_CONFIG,
            key=f"learn_families_gan_{'meta' if title == META_LEARNED else 'scratch'}",
        )  # fmt: skip
