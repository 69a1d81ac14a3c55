"""Few-shot GAN: a GAN meta-learned over many tasks, adapted to an unseen one from K examples,
next to the same GAN adapted from scratch.

The work is the core's (``metalearn_core.gan.fewshot_tasks.compare_on_task``); this page
chooses the task set, the seed and the learning rates, and draws what comes back. The
page's state is one ``FewShotSession`` (``studio_ui.gan_session``).
"""

from __future__ import annotations

import streamlit as st

from metalearn_core.docmath import update_rules
from metalearn_core.figures.gan import fewshot_points_figure, image_grid_figure
from metalearn_core.gan.fewshot import FewShotGAN, latent_walk
from metalearn_core.gan.fewshot_tasks import (
    DOMAIN_CONFIGS,
    META_LEARNED,
    ImageDomain,
    RingDomain,
    TaskComparison,
    load_image_classes,
)
from studio_ui.formulas import formulas_expander
from studio_ui.gan_session import (
    FEWSHOT_KEY,
    FewShotSession,
    fewshot_params,
    gan_labels,
    reported_errors,
)
from studio_ui.i18n import N_, _
from studio_ui.links import PageLink, open_page
from studio_ui.live_chart import CHART_CONFIG
from studio_ui.runtime import ensure_entrypoint
from studio_ui.settings_form import draw, share_box
from studio_ui.training_slots import TrainerTurns

CELL_PIXELS = 36
STRIP_ROWS, STRIP_COLUMNS = 5, 8  # adaptation steps shown per start, samples per step
WALK_STEPS = 10
# The task sets' names (DOMAIN_CONFIGS' keys), translated where shown
DOMAIN_TITLES = {"rings": N_("rings"), "digits": N_("digits"), "glyphs": N_("glyphs")}


@st.cache_resource(show_spinner=False)  # the caller's spinner speaks the page's language
def image_domain(name: str, k_shot: int) -> ImageDomain:
    # Shared read-only across sessions: the class images and the judging classifier.
    return ImageDomain(load_image_classes(name), k_shot)


def task_domain(name: str) -> RingDomain | ImageDomain:
    config = DOMAIN_CONFIGS[name]
    if name == "rings":
        return RingDomain(config.k_shot)
    with st.spinner(_("Loading images and training the judging classifier…")):
        return image_domain(name, config.k_shot)


def choices_ui(link: PageLink) -> tuple[str, int, int]:
    """The task set, meta-iterations per press and seed."""
    columns = st.columns([2, 1, 1])
    name = draw(link, "fewshot_gan_domain", target=columns[0], as_radio=True)
    iterations = draw(link, "fewshot_gan_iterations", target=columns[1])
    seed = draw(link, "fewshot_gan_seed", target=columns[2])
    return name, int(iterations), int(seed)


def training_ui(session: FewShotSession, fs: FewShotGAN, iterations: int) -> None:
    buttons = st.columns(3)
    buttons[0].button(_("Meta-train"), key="fewshot_gan_train", type="primary",
                      on_click=session.meta_train, args=(iterations,))  # fmt: skip
    buttons[1].button(_("New unseen task"), key="fewshot_gan_new_task", on_click=session.new_task)
    counter = buttons[2].empty()
    if session.pending is not None:
        progress = st.progress(0.0, text=_("meta-training…"))
        # one of the server's few trainers per iteration, as a Play loop (training_slots);
        # reading the session state while in line is where a press ends this run
        with TrainerTurns(st.empty(), lambda: FEWSHOT_KEY in st.session_state) as turns:
            session.run_pending(lambda done, total: progress.progress(
                done / total, text=_("iteration {n}").format(n=fs.iteration)), turns)  # fmt: skip
    counter.metric(_("Meta-iterations"), fs.iteration)
    if fs.divergence:
        st.warning(
            _("The GAN diverged: {detail}").format(detail=fs.divergence),
            icon=":material/warning:",
        )


def learning_rates_ui(link: PageLink) -> tuple[float, float]:
    columns = st.columns(2)
    meta_lr = draw(link, "fewshot_gan_meta_lr", target=columns[0], as_slider=True)
    scratch_lr = draw(link, "fewshot_gan_scratch_lr", target=columns[1], as_slider=True)
    return meta_lr, scratch_lr


def draw_points(comparison: TaskComparison, shown: int) -> None:
    task = comparison.task
    panels = {_(title): points for title, points in comparison.snapshots_after(shown).items()}
    figure = fewshot_points_figure(task.examples, panels, modes=task.ring.modes,
                                   words=gan_labels())  # fmt: skip
    st.plotly_chart(figure, key="fewshot_gan_points", config=CHART_CONFIG)


def draw_images(comparison: TaskComparison, fs: FewShotGAN, side: int, walk_seed: int) -> None:
    for title in comparison.traces:
        strip = comparison.strip(title, STRIP_ROWS, STRIP_COLUMNS)  # (rows, 8, side²)
        st.plotly_chart(
            image_grid_figure(strip.reshape(-1, side, side), STRIP_COLUMNS,
                              title=_("{start}: rows = steps").format(start=_(title)),
                              cell_pixels=CELL_PIXELS),
            key=f"fewshot_gan_grid_{title}", config=CHART_CONFIG,
        )  # fmt: skip
    examples = comparison.task.examples
    st.plotly_chart(image_grid_figure(examples.reshape(-1, side, side), 10,
                                      title=_("The K examples"), cell_pixels=CELL_PIXELS),
                    key="fewshot_gan_examples", config=CHART_CONFIG)  # fmt: skip
    ends = fs.view_noise(2, seed=walk_seed)
    walk = latent_walk(comparison.traces[META_LEARNED].pair.generator, ends[0], ends[1],
                       steps=WALK_STEPS)  # fmt: skip
    st.plotly_chart(image_grid_figure(walk.reshape(-1, side, side), WALK_STEPS,
                                      title=_("Latent walk (meta-learned, adapted)"),
                                      cell_pixels=CELL_PIXELS),
                    key="fewshot_gan_walk", config=CHART_CONFIG)  # fmt: skip


def draw_scores(comparison: TaskComparison) -> None:
    """The scores table, its column names and words in the session's language."""
    number = st.column_config.NumberColumn(format="%.3f")
    # the core's rows: "score" and "better" hold words, the other columns numbers
    heading = {"score": _("score"), "real images": _("real images"), "better": _("better")}
    heading |= {title: _(title) for title in comparison.scores}
    rows = [
        {heading[column]: _(value) if column in ("score", "better") else value
         for column, value in row.items()}
        for row in comparison.table()
    ]  # fmt: skip
    numbers = [*comparison.scores, "real images"]
    st.dataframe(rows, key="fewshot_gan_scores", hide_index=True,
                 column_config={heading[title]: number for title in numbers})  # fmt: skip


def fewshot(session: FewShotSession, link: PageLink) -> None:
    name, iterations, seed = choices_ui(link)
    with reported_errors(_("The {tasks} tasks").format(tasks=_(DOMAIN_TITLES.get(name, name)))):
        domain = task_domain(name)
        fs = session.select(name, seed, domain)
        training_ui(session, fs, iterations)
        if session.notice:
            st.info(session.notice, icon=":material/info:")
            session.notice = None
        meta_lr, scratch_lr = learning_rates_ui(link)
        comparison = session.comparison(domain, meta_lr, scratch_lr)
        steps = fs.config.adapt_steps
        shown = min(draw(link, "fewshot_gan_step", as_slider=True), steps)
        st.caption(_("Unseen task: {task}, K = {k} examples, {steps} GAN steps.").format(
            task=comparison.task.name, k=fs.config.k_shot, steps=steps))  # fmt: skip
        if isinstance(domain, RingDomain):
            draw_points(comparison, shown)
        else:
            draw_images(comparison, fs, domain.classes.side, walk_seed=session.task_number + 3)
        draw_scores(comparison)
    share_box(link)


ensure_entrypoint()  # a first visit straight to /fewshot_gan still goes through app.py
link = open_page(fewshot_params())  # a link's settings, checked before any widget reads them
st.title(_("Few-shot GAN"))
st.markdown(
    _(
        "Reptile over GAN tasks (FIGR): meta-train a generator and discriminator on many "
        "tasks, then adapt both on **K examples** of an unseen task. Left: the meta-learned "
        "start; right: the same GAN from scratch, after the same number of steps."
    )
)
formulas_expander(_("How the few-shot GAN meta-learns: the update rule"), update_rules(FewShotGAN))
fewshot(FewShotSession.of(st.session_state), link)
