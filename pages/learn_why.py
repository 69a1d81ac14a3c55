"""Learn 1: why meta-learning (article 1.1-1.3), with a GAN reaching or missing its equilibrium."""

from __future__ import annotations

import streamlit as st

from metalearn_core.figures.lessons import gan_points_figure, loss_lines_figure
from metalearn_core.lessons.gan_equilibrium import (
    EQUILIBRIUM_D,
    equilibrium_trace,
    lesson_config,
)
from studio_ui import learn
from studio_ui.i18n import _
from studio_ui.learn import formula
from studio_ui.live_chart import STATIC_CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint

GAN_MAX_STEPS = 400  # a shared CPU draws this in seconds, once per setting (cached)
GAN_STEP_STRIDE = 50


@st.cache_data(show_spinner=False, max_entries=16)
def cached_trace(balanced: bool, steps: int, seed: int):
    return equilibrium_trace(lesson_config(balanced, seed), steps, record_every=GAN_STEP_STRIDE)


ensure_entrypoint()
st.title(_("Why meta-learning"))

st.header(_("1.1 Three problems of machine learning"))
st.markdown(
    _(
        "The usual recipe, one large labelled data set and a model trained from scratch for "
        "each new task, runs into three problems:\n\n"
        "1. **Hunger for data.** Labels are expensive and slow to collect, and in many fields "
        "(rare diseases, a new alphabet, a new robot) there are only a handful.\n"
        "2. **Weak generalisation.** A model does well on the distribution it was trained on "
        "and often badly as soon as the distribution moves.\n"
        "3. **Wasted computation.** Training every new task from nothing repeats work that "
        "earlier tasks already did.\n\n"
        "Meta-learning answers all three with one idea: learn, over many tasks, something that "
        "makes the next task cheap, so that a few examples and a few steps are enough."
    )
)

st.header(_("1.2 What meta-learning is"))
st.markdown(
    _(
        "Meta-learning is *learning to learn*: during meta-training the learner practises on "
        "many small tasks and keeps what transfers between them; a new task then needs only a "
        "little data. The article sorts the methods into three families:\n\n"
        "- **optimisation-based**: learn how to optimise, so that a new task converges in a "
        "few steps;\n"
        "- **metric-based**: learn a similarity, so that new examples are compared with the "
        "few labelled ones;\n"
        "- **model-based**: learn a model that turns a task's data into a predictor directly."
    )
)
st.warning(
    _(
        "**The article and this app differ here.** The article calls optimisation-based "
        "methods *learning an optimiser*. The optimisation-based learners of this app (MAML, "
        "first-order MAML, Reptile) keep plain gradient descent as the optimiser and learn "
        "the **initialisation** θ it starts from. The article also files *learning an "
        "initialisation* under model-based methods; in this app model-based means a network "
        "that reads the support set and predicts (a neural process, an attentive sequence "
        "learner)."
    ),
    icon=":material/compare_arrows:",
)

st.header(_("1.3 GANs and the Nash equilibrium"))
st.markdown(
    _(
        "A generative adversarial network is two networks in a game. The generator G turns "
        "random noise z into samples; the discriminator D tells real samples from generated "
        "ones. D is trained to be right, G to fool D:"
    )
)
formula(
    r"\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_{\text{data}}}[\log D(x)]"
    r" + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]"
)
st.markdown(
    _(
        "The game has a **Nash equilibrium**: neither player can do better by changing alone. "
        "There the generator's samples follow the data's distribution, and the best "
        "discriminator can only guess:"
    )
)
formula(r"p_g = p_{\text{data}} \quad\Rightarrow\quad D^*(x) = \frac{1}{2}")
st.markdown(
    _(
        "Train a small GAN on a ring of eight Gaussians and watch D's mean verdict on real "
        "and on generated points. In practice GANs are unstable: with the generator taking "
        "five steps per discriminator step it tends to collapse onto a few modes. D can still "
        "hover near ½ on the points it sees, so D ≈ ½ alone does not prove the equilibrium: "
        "count the modes the generator covers."
    )
)
left, right = st.columns([1, 2])
with left:
    setting = st.radio(
        _("Training schedule"),
        ["balanced", "generator_led"],
        format_func=lambda name: {
            "balanced": _("balanced: one D step per G step"),
            "generator_led": _("generator-led: five G steps per D step"),
        }[name],
        key="learn_why_gan_setting",
    )
    steps = st.slider(
        _("Training steps"),
        0,
        GAN_MAX_STEPS,
        learn.GAN_DEFAULT_STEPS,
        GAN_STEP_STRIDE,
        key="learn_why_gan_steps",
    )
    gan_seed = st.number_input(
        _("Seed"), min_value=0, max_value=999, value=0, step=1, key="learn_why_gan_seed"
    )
with st.spinner(_("Training the GAN…")):
    trace = cached_trace(setting == "balanced", int(steps), int(gan_seed))
with left:
    st.metric(_("mean D(x) on real points"), f"{trace.d_real[-1]:.2f}")
    st.metric(_("mean D(G(z)) on generated points"), f"{trace.d_fake[-1]:.2f}")
    if trace.modes_total is not None:
        st.metric(_("modes covered"), f"{trace.modes_covered} / {trace.modes_total}")
with right:
    st.plotly_chart(
        loss_lines_figure(
            [(_("D on real"), trace.d_real), (_("D on generated"), trace.d_fake)],
            x_values=trace.steps,
            reference=(_("equilibrium: ½"), EQUILIBRIUM_D),
            title=_("The discriminator's verdict"),
            x_label=_("training step"),
            y_label="D",
        ),
        config=STATIC_CHART_CONFIG,
        key="learn_why_gan_verdict",
    )
    st.plotly_chart(
        gan_points_figure(
            trace.real,
            trace.fake,
            extent=trace.extent,
            real_name=_("real"),
            fake_name=_("generated"),
            title=_("Real and generated points"),
        ),
        config=STATIC_CHART_CONFIG,
        key="learn_why_gan_points",
    )
