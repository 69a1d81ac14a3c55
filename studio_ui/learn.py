"""What the Learn pages share: a formula with its caption, notation tables, the "added" mark,
and the small meta-trained sinusoid networks (trained once per server, never mutated)."""

from __future__ import annotations

import streamlit as st

from metalearn_core.lessons import sinusoid_maml
from metalearn_core.lessons.fewshot_gan import LESSON_META_ITERATIONS
from studio_ui.i18n import _

# Meta-training budget of the sinusoid lessons: enough for MAML's initialisation to adapt
# visibly better than a random one, small enough for a first visit on a shared CPU.
LESSON_META_STEPS = 150
LESSON_SEED = 0
# Training steps the GAN of Learn page 1 opens with (the slider starts here).
GAN_DEFAULT_STEPS = 100
# Reptile iterations of Learn page 2's few-shot GAN (read when called: a test shortens it).
GAN_META_ITERATIONS = LESSON_META_ITERATIONS
# Each method with the inner settings it is trained with (Reptile takes several SGD steps
# on the task, as in its paper; MAML and first-order MAML one step, as in the article).
METHOD_SETTINGS = {
    "maml": {"inner_lr": 0.01, "inner_steps": 1},
    "fomaml": {"inner_lr": 0.01, "inner_steps": 1},
    "reptile": {"inner_lr": 0.02, "inner_steps": 5},
}


def formula(latex: str, caption: str | None = None) -> None:
    """A typeset formula under the sentence that introduces it."""
    if caption:
        st.markdown(caption)
    st.latex(latex)


def notation_table(rows: list[tuple[str, str, str]]) -> None:
    """The article's symbol, the app's name for it, and what it means."""
    article, app, meaning = _("article"), _("this app"), _("meaning")
    header = f"| {article} | {app} | {meaning} |\n|---|---|---|\n"
    st.markdown(header + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows))


def added_note(text: str) -> None:
    """Marks a part that the article does not have (finished from the paper)."""
    st.info(text, icon=":material/add_circle:")


def meta_trained(method: str, seed: int = LESSON_SEED):
    """θ of ``method`` after ``LESSON_META_STEPS`` meta-updates from the shared
    initialisation, with its loss curve (read when called, so that a test may shorten it)."""
    return _meta_trained(method, LESSON_META_STEPS, seed)


@st.cache_resource(show_spinner=False, max_entries=8)
def _meta_trained(method: str, steps: int, seed: int):
    # Cached for every session: the tensors are only ever read.
    settings = METHOD_SETTINGS[method]
    return sinusoid_maml.meta_train(
        method,
        steps,
        seed,
        inner_lr=settings["inner_lr"],
        inner_steps=settings["inner_steps"],
        init=sinusoid_maml.init_parameters(seed),
    )
