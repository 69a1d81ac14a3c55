"""Train: pick a data set and an algorithm, press Play, watch episodes train.

Live mechanism (chosen by measurement, see BENCHMARKS.md "Live training page"): while
playing, the end of this script loops over short training ticks and redraws after each:
the counters through ``studio_ui.live_metrics`` (each in its own slot, sent only when it
changed), the curves through ``studio_ui.live_chart`` (redrawn in place, never remounted,
sent as plotly's plain JSON). Any button press or page change reruns the script, which
stops the loop at its next redraw, so Pause, Reset and leaving the page act within one
tick.
"""

from __future__ import annotations

import functools
import logging
import time

import streamlit as st

from metalearn_core.docmath import update_rules
from metalearn_core.engine import Trainer
from metalearn_core.figures.training import learning_curves_spec
from metalearn_core.figures.words import CurveWords
from studio_ui import train_session as session
from studio_ui.formulas import formulas_expander
from studio_ui.i18n import _, ngettext, shown_as, translated_words
from studio_ui.inspector import render_inspector
from studio_ui.lessons import show_lesson
from studio_ui.live_chart import (
    CHART_CONFIG,
    STATIC_CHART_CONFIG,
    LiveChart,
    live_chart,
    show_figure,
)
from studio_ui.live_metrics import MetricsRow
from studio_ui.run_presets import run_summary
from studio_ui.runtime import ensure_entrypoint
from studio_ui.sessions import (
    claim_run,
    interactive_run_done,
    interactive_run_started,
    shared_tick_seconds,
    yield_to_presses,
)
from studio_ui.train_session import SettingsChoice, TrainSession
from studio_ui.train_settings import open_settings, settings_form
from studio_ui.training_slots import TrainerTurns

log = logging.getLogger("metalearn_studio.train")
CURVES_HEIGHT = 360
VALIDATION_SLICE = 0.1  # seconds of validation per Slow tick
# Seconds between two values of each counter while playing: the episodes count moves
# with every redraw; the others need not (each value sent costs the browser a render).
METRICS_MIN_SECONDS = (0.0, 0.5, 0.5, 0.0)

# ----------------------------------------------------------------------------- live area


def live_metrics(trainer: Trainer, wall_rate: float | None) -> list[tuple[str, str]]:
    """(label, value) of the episode counter, meta-iterations, episodes/s and the latest
    validation."""
    rate = wall_rate if wall_rate is not None else trainer.episodes_per_second
    last = trainer.history.last_validation
    progress = trainer.validation_progress
    scoring = (
        _(" (scoring {done}/{total})").format(done=progress[0], total=progress[1])
        if progress is not None
        else ""
    )
    if last is None:
        label, value = _("Validation"), "–"
    elif trainer.task_kind == "regression":
        label, value = _("Validation MSE"), f"{last.mean:.3f} ± {last.ci95:.3f}"
    else:
        label = _("Validation accuracy")
        value = f"{100 * last.mean:.1f}% ± {100 * last.ci95:.1f}"
    return [
        (_("Episodes"), f"{trainer.episodes_seen:,}"),
        (_("Meta-iterations"), f"{trainer.iteration:,}"),
        (_("Episodes / s"), f"{rate:.1f}"),
        (label + scoring, value),
    ]


@functools.cache
def curve_words() -> CurveWords:
    """The curves' words in the session's language, once per run of this script (a language
    switch reruns it; translating them on every redraw cost ~0.8 ms, measured)."""
    return translated_words(CurveWords())


def curves_figure(trainer: Trainer):
    """Learning curves from the trainer's bounded history (episodes on the x axis)."""
    train = trainer.history.train_arrays()
    val = trainer.history.validation_arrays()
    regression = trainer.task_kind == "regression"
    return learning_curves_spec(
        train["episodes"].tolist(),
        train["loss"].tolist(),
        None if regression else train["accuracy"].tolist(),
        (val["iteration"] * trainer.meta_batch).tolist(),  # episodes seen at that iteration
        val["mean"].tolist(),
        val["ci95"].tolist(),
        metric="mse" if regression else "accuracy",
        chance=None if regression else 1.0 / trainer.config.n_way,
        height=CURVES_HEIGHT,
        train_name=_(trainer.learner.train_metric_name),
        words=curve_words(),
    )


def draw_live(
    trainer: Trainer,
    metrics: MetricsRow,
    chart: LiveChart,
    redraw: int,
    wall_rate: float | None = None,
) -> None:
    """Redraw the counter and the curves; ``redraw`` numbers the redraws of this run.

    The chart stays mounted and redraws in place (``studio_ui.live_chart``). While playing
    (``redraw > 0``) it is static (no hover or zoom handlers): the browser draws it in
    less time, leaving more of the CPU to training.
    """
    metrics.show(live_metrics(trainer, wall_rate))
    config = STATIC_CHART_CONFIG if redraw else CHART_CONFIG
    show_figure(chart, curves_figure(trainer), config=config, revision=redraw)


# ----------------------------------------------------------------------------- page parts


def settings_panel(link) -> SettingsChoice:
    with st.sidebar:
        st.header(_("Run settings"))
        return settings_form(link)


def show_messages(state: TrainSession, choice: SettingsChoice, differs: bool) -> None:
    """One-off messages, bad settings, and the offer to start a new run."""
    message = state.take_message()
    if message is not None:
        level, text = message
        getattr(st, level)(text)
    current = state.trainer
    error = state.settings_error()
    if error is not None:
        kept = " " + _("The current run is unchanged.") if current is not None else ""
        st.error(_("These settings cannot run: {error}.").format(error=error) + kept)
    elif differs and current is not None and current.iteration > 0:
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.warning(
            _(
                "The settings differ from the current run's. A new run discards the current "
                "one ({episodes} episodes of training; download it first to keep it)."
            ).format(episodes=current.episodes_seen)
        )
        right.button(
            _("Start a new run"),
            on_click=state.start_new_run,
            args=(choice,),
            type="primary",
            key="train_new_run",
        )


def confirm_panel(state: TrainSession) -> None:
    question = state.confirm_message()
    if question is None:
        return
    with st.container(border=True):
        st.warning(question)
        yes, no, _rest = st.columns([1, 1, 4])
        label = (
            _("Yes, reset")
            if isinstance(state.pending, session.ConfirmReset)
            else _("Yes, open it")
        )
        yes.button(label, on_click=state.confirm, type="primary", key="train_confirm_yes")
        no.button(_("Cancel"), on_click=state.cancel, key="train_confirm_no")


def controls(state: TrainSession, trainer: Trainer) -> str:
    """Play/Pause, Step, Reset and the speed; returns the chosen speed's name."""
    playing = state.playing
    diverged = trainer.divergence is not None
    columns = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
    # One button whose label toggles: a fixed key keeps its identity in the browser. Two
    # buttons would leave the old one on screen, greyed, while the Play loop runs.
    columns[0].button(
        _("Pause") if playing else _("Play"),
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=state.pause if playing else state.play,
        key="train_play_pause",
        type="secondary" if playing else "primary",
        disabled=diverged and not playing,
        width="stretch",
    )
    columns[1].button(_("Step"), icon=":material/skip_next:", on_click=state.step,
                      key="train_step", disabled=diverged, width="stretch",
                      help=ngettext("One meta-iteration: {n} episode",
                                    "One meta-iteration: {n} episodes",
                                    trainer.meta_batch).format(n=trainer.meta_batch))  # fmt: skip
    columns[2].button(_("Reset"), icon=":material/restart_alt:", on_click=state.request_reset,
                      key="train_reset", width="stretch")  # fmt: skip
    speed = columns[3].segmented_control(
        _("Speed"),
        list(session.SPEEDS),
        format_func=shown_as({name: speed.label for name, speed in session.SPEEDS.items()}),
        default=session.DEFAULT_SPEED,
        key="train_speed",
        persist_state="session",
        help=_("Slow: one meta-iteration per redraw. Fast: longer ticks, fewer redraws."),
    )
    return speed or session.DEFAULT_SPEED


def run_file_panel(state: TrainSession, trainer: Trainer) -> None:
    """Download the run as the command line's zip; upload one to inspect or continue it."""
    st.subheader(_("Run file"))
    left, right = st.columns(2)
    with left:
        config = trainer.config
        st.download_button(
            _("Download run (.zip)"),
            data=lambda: state.export_bytes(trainer),
            file_name=f"{config.dataset}-{config.algo}-{config.n_way}w{config.k_shot}s"
            f"-it{trainer.iteration}.zip",
            mime="application/zip",
            icon=":material/download:",
            on_click="ignore",
            key="train_download",
        )
        st.caption(
            _(
                "The zip holds the files `python -m metalearn_core train --out DIR` writes "
                "into its folder: `config.json`, `metrics.csv` and the checkpoint. Upload it "
                "here, or unzip it and give the folder to `evaluate` or `train --resume`."
            )
        )
        if (progress := trainer.validation_progress) is not None:
            done, total = progress
            # the checkpoint holds whole validations: the download waits for this one
            st.caption(
                _(
                    "Downloading first scores the validation in progress ({left} of {total} "
                    "episodes left), which can take a few seconds."
                ).format(left=total - done, total=total)
            )
    with right:
        st.file_uploader(
            _("Open a run zip"), type=["zip"], key=session.UPLOAD_KEY,
            on_change=state.upload_changed,
        )  # fmt: skip


# ----------------------------------------------------------------------------- the page

ensure_entrypoint()
interactive_run_started()  # playing sessions give way until this page is drawn
claim_run()  # a URL token keeps the run across a reload (studio_ui.sessions)
state = session.current()
if state.returned_from_another_page():
    state.pause()  # the run is kept, paused

link = open_settings()  # a link's settings, checked before any widget reads them
st.title(_("Train"))
show_lesson("train")  # a lesson's setup goes into the form before it is drawn
choice = settings_panel(link)
differs = state.sync_with_settings(choice)
show_messages(state, choice, differs)
trainer = state.trainer
if trainer is None:
    st.info(_("Choose a data set and an algorithm in the sidebar to start a run."))
    st.stop()

config = trainer.config
st.caption(run_summary(config, trainer.meta_batch))
learner_class = type(trainer.learner)  # the paper's rule, from the algorithm's docstring
formulas_expander(
    _("How {learner} learns: the update rule").format(learner=_(learner_class.title)),
    update_rules(learner_class),
)
confirm_panel(state)
if trainer.divergence is not None:
    st.error(
        _("The run diverged: {detail}").format(detail=trainer.divergence),
        icon=":material/warning:",
    )
speed = session.SPEEDS[controls(state, trainer)]
queue_notice = st.empty()  # a place in line for a trainer, while waiting (training_slots)

with st.container(key="train_counter"):
    metrics = MetricsRow.mount(METRICS_MIN_SECONDS)
with st.container(key="train_chart"):
    chart = live_chart("train_curves", height=CURVES_HEIGHT)
draw_live(trainer, metrics, chart, redraw=0)

inspector_title, inspector_button = st.columns([4, 1], vertical_alignment="bottom")
inspector_title.subheader(_("Episode inspector"))
inspector_button.button(_("Another episode"), on_click=state.next_inspector_episode,
                        icon=":material/shuffle:", key="train_next_episode")  # fmt: skip
inspector = render_inspector(trainer, state.inspect_seed, editable=True)

run_file_panel(state, trainer)

# The Play loop: a rerun (any button, any widget, a page change) stops it at the next redraw.
# It trains only while it holds one of the server's few trainers (studio_ui.training_slots).
interactive_run_done()
lock = state.lock
started, start_episodes = time.perf_counter(), trainer.episodes_seen
last_inspection, redraws = started, 0
turns = TrainerTurns(queue_notice, session.is_playing)
while session.is_playing():
    if not turns.wait():
        break
    redraws += 1
    tick_start = time.perf_counter()
    with lock:
        # A validation longer than a tick (Reptile's 50 test steps per episode) goes on
        # over several ticks, so that a press still acts within one tick.
        if speed.tick_seconds is None:
            trainer.run_tick(max_iterations=1, max_seconds=VALIDATION_SLICE, split_validation=True)
        else:  # many students playing: longer ticks, fewer redraws (studio_ui.sessions)
            trainer.run_tick(
                max_seconds=shared_tick_seconds(speed.tick_seconds),
                split_validation=True,
                should_stop=yield_to_presses,
            )
    now = time.perf_counter()
    rate = (trainer.episodes_seen - start_episodes) / (now - started)
    draw_live(trainer, metrics, chart, redraws, rate)
    turns.done()
    log.debug("tick %.3f s, redraw %.3f s", now - tick_start, time.perf_counter() - now)
    if trainer.divergence is not None:
        state.pause()
        st.rerun()  # redraw the page with the divergence message and Play disabled
    if inspector is not None and now - last_inspection >= speed.inspect_every:
        inspector.refresh(trainer, state.inspect_seed)
        last_inspection = time.perf_counter()
    if speed.pause_seconds:
        session.slow_motion_pause(speed.pause_seconds)
