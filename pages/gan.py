"""GAN Lab: watch a 2-D GAN learn, one update at a time or playing.

Live mechanism: while playing, the end of the script runs a bounded loop of short
training ticks (about 80 ms each) and redraws after each: the counters through an
``st.empty()`` placeholder, the charts in place through ``studio_ui.live_chart``.
Any button press reruns the script, which stops the loop; the buttons' callbacks change
the page's ``LabSession`` before the rerun starts, so Pause acts within one tick.
The few-shot GAN has its own page (``pages/fewshot_gan.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st
import torch

from metalearn_core.figures.gan import (
    coverage_figure,
    gan_lab_figure,
    loss_curves_figure,
    mode_counts_figure,
)
from metalearn_core.gan.losses import LOSS_TITLES, OBJECTIVES
from metalearn_core.gan.toy_gan import (
    PRESETS,
    ToyGAN,
    ToyGANConfig,
)
from studio_ui.formulas import formulas_expander
from studio_ui.gan_session import (
    LAB_KEY,
    LAB_PREFIX,
    LIVE,
    STRUCTURE,
    VIEW_OPTIONS,
    LabSession,
    gan_labels,
    lab_params,
    reported_errors,
)
from studio_ui.i18n import _, shown_as
from studio_ui.lessons import show_lesson
from studio_ui.links import PageLink, open_page
from studio_ui.live_chart import (
    CHART_CONFIG,
    STATIC_CHART_CONFIG,
    LiveChart,
    live_chart,
    show_figure,
)
from studio_ui.runtime import ensure_entrypoint
from studio_ui.settings_form import draw, share_box
from studio_ui.training_slots import TrainerTurns

TICK_SECONDS = 0.08  # training per redraw while playing
CURVES_EVERY = 5  # redraw the loss and coverage curves every this many ticks
VIEW_POINTS = 256
HEATMAP_RESOLUTION = 30
FIELD_HEIGHT, CURVE_HEIGHT = 520, 260


def settings_ui(session: LabSession, link: PageLink) -> dict:
    """Widgets for the GAN's settings; returns the chosen values by config field."""
    with st.expander(_("Settings"), expanded=True):
        if not link.is_hidden("preset"):
            top = st.columns([2, 1])
            top[0].selectbox(_("Lesson preset"), list(PRESETS), key="gan_preset",
                             format_func=shown_as({n: p[0] for n, p in PRESETS.items()}))  # fmt: skip
            top[1].button(_("Load preset"), key="gan_load_preset", on_click=lambda: session.load_preset(
                st.session_state["gan_preset"], st.session_state))  # fmt: skip
        data = st.columns(5)
        for column, name in zip(data, STRUCTURE, strict=True):
            draw(link, LAB_PREFIX + name, target=column)
        live = st.columns(4)
        for column, name in zip(live, LIVE, strict=True):
            lr = name.endswith("_lr")
            draw(link, LAB_PREFIX + name, target=column, **({"format": "%.5f"} if lr else {}))
        st.caption(_("Data, loss, pack, batch and seed make a new GAN (a trained one is kept "
                     "until you start the new one); learning rates and steps per side apply "
                     "at once, even while playing."))  # fmt: skip
    return {name: link.values[LAB_PREFIX + name] for name in (*STRUCTURE, *LIVE)}


def controls(session: LabSession, gan: ToyGAN) -> None:
    columns = st.columns(5)
    disabled = gan.divergence is not None
    columns[0].button(_("Step D"), on_click=session.step, args=("discriminator",),
                      key="gan_step_d", disabled=disabled,
                      help=_("discriminator updates only"))  # fmt: skip
    columns[1].button(_("Step G"), on_click=session.step, args=("generator",), key="gan_step_g",
                      disabled=disabled, help=_("generator updates only"))  # fmt: skip
    columns[2].button(_("Step both"), on_click=session.step, args=("both",),
                      key="gan_step_both", disabled=disabled)  # fmt: skip
    playing = session.playing
    # One button whose label toggles: its fixed key keeps it in place in the browser (two
    # buttons would leave the old one on screen, greyed, while the loop runs).
    columns[3].button(
        _("Pause") if playing else _("Play"),
        on_click=session.pause if playing else session.play,
        key="gan_play_pause",
        disabled=disabled and not playing,
        icon=":material/pause:" if playing else ":material/play_arrow:",
        type="secondary" if playing else "primary",
    )
    columns[4].button(_("Reset"), on_click=session.reset, key="gan_reset",
                      icon=":material/restart_alt:")  # fmt: skip


def view_options(link: PageLink) -> dict[str, bool]:
    columns = st.columns(3)
    shown = {name: draw(link, LAB_PREFIX + name, target=column)
             for column, name in zip(columns, VIEW_OPTIONS, strict=True)}  # fmt: skip
    return {"heatmap": shown["show_heat"], "grid": shown["show_grid"],
            "arrows": shown["show_arrows"]}  # fmt: skip


def draw_metrics(gan: ToyGAN) -> None:
    columns = st.columns(6)
    columns[0].metric(_("Steps"), f"{gan.steps:,}")
    columns[1].metric(_("D loss"), _fmt(gan.last_d_loss))
    columns[2].metric(_("G loss"), _fmt(gan.last_g_loss))
    if gan.coverage_history:
        latest = gan.coverage_history[-1]
        columns[3].metric(_("Modes"), f"{latest['modes']}/{len(gan.dataset.modes)}")
        columns[4].metric(_("High quality"), f"{latest['high_quality']:.0%}")
        columns[5].metric(_("Reverse KL"), f"{latest['reverse_kl']:.3f}")


def _fmt(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.3f}"


@dataclass(frozen=True)
class LabCharts:
    """The lab's charts, mounted once per script run and redrawn in place while playing."""

    field: LiveChart
    losses: LiveChart
    coverage: LiveChart | None


def mount_charts(gan: ToyGAN) -> LabCharts:
    field = live_chart("gan_field", height=FIELD_HEIGHT)
    left, right = st.columns(2)
    with left:
        losses = live_chart("gan_losses", height=CURVE_HEIGHT)
    coverage = None
    if gan.dataset.modes is not None:
        with right:
            coverage = live_chart("gan_coverage", height=CURVE_HEIGHT)
    return LabCharts(field, losses, coverage)


def draw_field(gan: ToyGAN, options: dict[str, bool], chart: LiveChart, config: dict) -> None:
    real = gan.dataset.sample(VIEW_POINTS, torch.Generator().manual_seed(gan.config.seed + 5))
    heat_label = _("P(real)") if gan.config.loss == "nonsaturating" else _("score")
    figure = gan_lab_figure(
        real,
        gan.sample(VIEW_POINTS),
        extent=gan.dataset.extent,
        heatmap=gan.discriminator_map(HEATMAP_RESOLUTION) if options["heatmap"] else None,
        heatmap_label=heat_label,
        grid_lines=gan.warped_noise_grid()
        if options["grid"] and gan.config.noise_dim >= 2
        else None,
        arrows=_arrows(gan) if options["arrows"] else None,
        modes=gan.dataset.modes,
        height=FIELD_HEIGHT,
        words=gan_labels(),
    )
    show_figure(chart, figure, config=config)


def _arrows(gan: ToyGAN):
    field = gan.generator_gradients(64)
    return field.points, field.directions


def draw_curves(gan: ToyGAN, charts: LabCharts, config: dict) -> None:
    words = gan_labels()
    losses = loss_curves_figure(list(gan.history), height=CURVE_HEIGHT, words=words)
    show_figure(charts.losses, losses, config=config)
    if charts.coverage is not None:
        coverage = coverage_figure(
            list(gan.coverage_history), len(gan.dataset.modes), height=CURVE_HEIGHT, words=words
        )
        show_figure(charts.coverage, coverage, config=config)


def redraw_all(gan, options, metrics_slot, charts: LabCharts, redraw: int) -> None:
    """Redraw after tick ``redraw`` (0: not playing; interactive charts then)."""
    config = STATIC_CHART_CONFIG if redraw else CHART_CONFIG
    with metrics_slot.container():
        draw_metrics(gan)
    draw_field(gan, options, charts.field, config)
    if redraw % CURVES_EVERY == 0:
        draw_curves(gan, charts, config)


def play_loop(
    session: LabSession, gan, options, metrics_slot, charts: LabCharts, queue_notice
) -> None:
    """Train in short ticks while playing; a rerun (any press) ends this loop early."""
    if not session.playing:
        return
    # trains only while it holds one of the server's few trainers (studio_ui.training_slots)
    with TrainerTurns(queue_notice, lambda: st.session_state[LAB_KEY].playing) as turns:
        for tick in range(1, int(session.play_ticks) + 1):
            if not turns.wait():
                return  # paused while waiting in line
            gan.train(10**9, max_seconds=TICK_SECONDS)
            redraw_all(gan, options, metrics_slot, charts, tick)
            turns.done()
            if gan.divergence is not None:
                break
    session.pause()
    st.rerun()


def lab(session: LabSession, link: PageLink) -> None:
    values = settings_ui(session, link)
    gan = None
    with reported_errors(_("The GAN's settings"), on_error=session.pause):
        kept = session.sync(ToyGANConfig(**values))
        gan = session.model
        if kept:  # never drop a trained GAN silently
            st.warning(
                _(
                    "The GAN below keeps its {steps} steps and its own {settings}: the new "
                    "settings make a new GAN."
                ).format(steps=f"{gan.steps:,}", settings=", ".join(kept)),
                icon=":material/info:",
            )
            st.button(_("Start a new GAN with these settings"), on_click=session.reset,
                      key="gan_new_run")  # fmt: skip
    if gan is None:
        return
    with reported_errors(_("The step"), on_error=session.pause):
        session.run_pending()
    if gan.divergence:
        st.warning(
            _("The GAN diverged: {detail}").format(detail=gan.divergence),
            icon=":material/warning:",
        )
    loss = gan.config.loss  # its two objectives, from the core's docstring
    formulas_expander(
        _("What the two networks minimise: {loss}").format(loss=_(LOSS_TITLES[loss])),
        [OBJECTIVES[loss]],
    )
    controls(session, gan)
    queue_notice = st.empty()  # a place in line for a trainer, while waiting
    options = view_options(link)
    share_box(link)
    metrics_slot = st.empty()
    charts = mount_charts(gan)
    redraw_all(gan, options, metrics_slot, charts, 0)
    if gan.dataset.modes is not None and gan.steps > 0:
        with st.expander(_("Samples per mode (the reverse-KL picture)")):
            coverage = gan.evaluate()
            figure = mode_counts_figure(
                coverage.counts, coverage.high_quality_counts, words=gan_labels()
            )
            st.plotly_chart(figure, key="gan_mode_counts", config=CHART_CONFIG)
    with reported_errors(_("Playing"), on_error=session.pause):
        play_loop(session, gan, options, metrics_slot, charts, queue_notice)


ensure_entrypoint()  # a first visit straight to /gan still goes through app.py
link = open_page(lab_params())  # a link's settings, checked before any widget reads them
st.title(_("GAN Lab"))
show_lesson("gan")  # a lesson's setup goes into the form before it is drawn
st.markdown(
    _(
        "A 2-D GAN, one update at a time. Real points (green) and generated points (purple) "
        "over the discriminator's verdict. Lines: the generator's image of a square grid of "
        "noise. Orange arrows: where the generator's next update pushes each generated "
        "point. A GAN that learns a new distribution from a few examples is on the "
        "**Few-shot GAN** page."
    )
)
lab(LabSession.of(st.session_state), link)
