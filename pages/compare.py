"""Compare: two to four learners on the same episodes with an equal budget, side by side.

Pick learners of one kind of task, a data set and an episode shape; Play trains them
together, tick by tick (each gets an equal share of every tick), on the very same
episode stream. One chart per metric holds a line per learner; under them, each learner's
inspector shows the same validation episode. Score (or the end of the budget) tests every
learner on the same test episodes: a table, a reading of who leads, and accuracy against
time, at other shots and ways, and after 0..10 test-time inner steps. A comparison made on
the command line (``compare --out DIR``), or a prepared one, opens here as well.

The Play loop works as the Train page's (see its docstring): a press reruns the script,
which stops the loop at its next redraw.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection

import pandas as pd
import streamlit as st

from metalearn_core.compare import Comparison
from metalearn_core.compare.results import ReadingWords, reading
from metalearn_core.figures.compare import metric_lines_figure, metric_lines_spec, scores_by_figure
from studio_ui import compare_session as session
from studio_ui.errors import describe_error
from studio_ui.i18n import _, translated_words
from studio_ui.inspector import render_inspector
from studio_ui.lessons import show_lesson
from studio_ui.live_chart import CHART_CONFIG, STATIC_CHART_CONFIG, live_chart, show_figure
from studio_ui.run_presets import algorithm_title
from studio_ui.runtime import ensure_entrypoint
from studio_ui.training_slots import TrainerTurns

log = logging.getLogger("metalearn_studio.compare")
CHART_HEIGHT = 300
# Seconds between inspector refreshes while playing, one learner's card at a time: each
# refresh is an adaptation and its figures (~65 ms of server CPU, more in the browser) taken
# from the learners' training time, so with two learners a card changes every 10 s.
INSPECT_EVERY = 5.0

# ----------------------------------------------------------------------------- live charts


def learner_name(algo: str) -> str:
    """A learner's title in the session's language."""
    return _(algorithm_title(algo))


def live_signatures(comparison: Comparison) -> dict[str, tuple]:
    """What each live chart's data depends on: a chart is sent again only when its
    signature changed (the browser redraws every chart it is sent, on the same cores as
    the trainers). The training lines change with each step (the latest step is drawn even
    inside a bucket being filled), the validation lines only with a new validation point."""
    steps = tuple(
        None if trainer.history.last_step is None else trainer.history.last_step.iteration
        for trainer in comparison.trainers.values()
    )
    validations = tuple(
        None if trainer.history.last_validation is None
        else (len(trainer.history.validations), trainer.history.last_validation.iteration)
        for trainer in comparison.trainers.values()
    )  # fmt: skip
    signatures = {"compare_loss": steps}
    if comparison.plan.metric != "mse":
        signatures["compare_accuracy"] = steps
    signatures["compare_validation"] = validations
    return signatures


def live_figures(comparison: Comparison, only: Collection[str] | None = None) -> dict[str, dict]:
    """One figure per metric (plotly's JSON structure, ``metric_lines_spec``), a line per
    learner, episodes on the x axis; ``only``: the keys of the charts to build (all when
    None), in the order of ``live_signatures``."""
    keys = live_signatures(comparison) if only is None else only
    regression = comparison.plan.metric == "mse"
    loss, accuracy, validation = {}, {}, {}
    for algo, trainer in comparison.trainers.items():
        name = learner_name(algo)
        if "compare_loss" in keys or "compare_accuracy" in keys:
            train = trainer.history.train_arrays()
            episodes = train["episodes"].tolist()
            loss[name] = (episodes, train["loss"].tolist())
            accuracy[name] = (episodes, train["accuracy"].tolist())
        if "compare_validation" in keys:
            val = trainer.history.validation_arrays()
            validation[name] = (
                (val["iteration"] * trainer.meta_batch).tolist(),
                val["mean"].tolist(),
            )
    chance = None if regression else 1.0 / comparison.plan.base.n_way
    episodes = _("training episodes")
    figures = {}
    if "compare_loss" in keys:
        figures["compare_loss"] = metric_lines_spec(
            loss, title=_("Training loss (query)"), x_title=episodes, y_title=_("loss")
        )
    if not regression and "compare_accuracy" in keys:
        figures["compare_accuracy"] = metric_lines_spec(
            accuracy, title=_("Training accuracy (query)"), x_title=episodes,
            y_title=_("accuracy"), percent=True, chance=chance, chance_label=_("chance"),
        )  # fmt: skip
    if "compare_validation" in keys:
        figures["compare_validation"] = metric_lines_spec(
            validation,
            title=_("Validation MSE") if regression else _("Validation accuracy"),
            x_title=episodes,
            y_title=_("MSE") if regression else _("accuracy"),
            percent=not regression,
            chance=chance,
            chance_label=_("chance"),
        )
    return figures


def progress_text(comparison: Comparison) -> str:
    plan, parts = comparison.plan, []
    for algo, trainer in comparison.trainers.items():
        if plan.episodes is not None:
            done = _("{done} / {budget} episodes").format(
                done=f"{trainer.episodes_seen:,}", budget=f"{plan.episodes:,}"
            )
        else:
            done = _("{done} episodes, {seconds} / {budget} s").format(
                done=f"{trainer.episodes_seen:,}",
                seconds=f"{trainer.train_seconds:.1f}",
                budget=f"{plan.seconds:.0f}",
            )
        parts.append(f"**{learner_name(algo)}** {done}")
    return " · ".join(parts)


def draw_live(comparison: Comparison, progress_slot, charts: dict, redraw: int) -> None:
    """Show the progress line, and send each chart whose data changed since it was last
    sent in this script run (its signature, ``live_signatures``, with its config: the first
    redraw of the Play loop makes the charts static)."""
    progress_slot.markdown(progress_text(comparison))
    config = STATIC_CHART_CONFIG if redraw else CHART_CONFIG
    signatures = {
        key: (signature, bool(redraw)) for key, signature in live_signatures(comparison).items()
    }
    # The training lines change with nearly every tick: they are always sent (a signature of
    # their latest step missed the steps of a fast comparison in the browser test); the
    # validation chart, which seldom changes, only when its signature changed.
    changed = [
        key
        for key, signature in signatures.items()
        if key != "compare_validation" or charts[key].signature != signature
    ]
    for key, figure in live_figures(comparison, only=changed).items():
        show_figure(charts[key], figure, config=config, revision=redraw, signature=signatures[key])


# ----------------------------------------------------------------------------- page parts


def show_messages() -> None:
    message = st.session_state.pop(session.MESSAGE, None)
    if message is not None:
        level, text = message
        getattr(st, level)(text)


def sync_with_settings(values: dict) -> None:
    """Build the comparison the settings describe, or say why they cannot run; a trained
    comparison is replaced only on request."""
    try:
        plan = session.plan_from_values(values)
    except ValueError as error:
        st.error(_("These settings cannot run: {error}").format(error=describe_error(error)))
        return
    current = session.comparison()
    if current is not None and st.session_state[session.BUILT_FROM] == session.settings_key(values):
        return
    if session.has_progress(current):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.warning(
            _(
                "The settings differ from the comparison below. A new comparison discards "
                "its training."
            )
        )
        right.button(_("Start a new comparison"), on_click=session.start_new, args=(values,),
                     type="primary", key="compare_new")  # fmt: skip
        return
    try:
        session.adopt(values, plan)
    except (ValueError, FileNotFoundError) as error:
        st.error(_("These settings cannot run: {error}").format(error=describe_error(error)))


def controls(comparison: Comparison) -> None:
    playing = st.session_state[session.PLAYING]
    done = comparison.done
    columns = st.columns([1, 1, 1, 1, 2], vertical_alignment="bottom")
    columns[0].button(
        _("Pause") if playing else _("Play"),
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=session.pause if playing else session.play,
        key="compare_play_pause", type="secondary" if playing else "primary",
        disabled=done and not playing, width="stretch",
    )  # fmt: skip
    columns[1].button(_("Step"), icon=":material/skip_next:", on_click=session.step,
                      key="compare_step", disabled=done, width="stretch",
                      help=_("One meta-iteration of every learner"))  # fmt: skip
    columns[2].button(_("Reset"), icon=":material/restart_alt:", on_click=session.reset,
                      key="compare_reset", width="stretch")  # fmt: skip
    columns[3].button(_("Score"), icon=":material/scoreboard:", on_click=session.request_score,
                      key="compare_score_button", width="stretch",
                      help=_("Test every learner on the same test episodes"))  # fmt: skip
    if done:
        columns[4].caption(_("Every learner has spent its budget."))


def inspector_cards(comparison: Comparison) -> list:
    """A card per learner, each adapting to the same validation episode."""
    title, button = st.columns([4, 1], vertical_alignment="bottom")
    title.subheader(_("The same episode, each learner"))
    button.button(_("Another episode"), on_click=session.next_inspector_episode,
                  icon=":material/shuffle:", key="compare_next_episode")  # fmt: skip
    seed = st.session_state[session.INSPECT_SEED]
    views = []
    algos = list(comparison.trainers)
    for row_start in range(0, len(algos), 2):
        for column, algo in zip(st.columns(2), algos[row_start : row_start + 2], strict=False):
            with column, st.container(border=True, key=f"compare_card_{algo}"):
                st.markdown(f"#### {learner_name(algo)}")
                view = render_inspector(
                    comparison.trainers[algo], seed, key=f"compare_inspect_{algo}"
                )
                views.append((algo, view))
    return views


def open_panel() -> None:
    with st.expander(_("Open a comparison"), expanded=session.comparison() is None):
        prepared = session.prepared_comparisons()
        if prepared:
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            name = left.selectbox(_("Prepared comparisons"), list(prepared), key="compare_prepared")
            right.button(_("Open"), on_click=session.open_prepared, args=(name,),
                         key="compare_open_prepared", width="stretch")  # fmt: skip
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.text_input(_("A folder written by compare --out (on this server)"),
                        key=session.FOLDER_KEY)  # fmt: skip
        right.button(_("Open folder"), on_click=session.open_folder, key="compare_open_folder",
                     width="stretch")  # fmt: skip
        st.file_uploader(_("…or upload a zip of that folder"), type=["zip"],
                         key=session.UPLOAD_KEY, on_change=session.upload_changed)  # fmt: skip


def results_table(result: dict) -> pd.DataFrame:
    metric = result["metric"]
    rows = []
    for algo, row in result["learners"].items():
        value = row[metric]
        rows.append(
            {
                _("learner"): learner_name(algo),
                _("accuracy") if metric == "accuracy" else _("MSE"): (
                    f"{100 * value:.1f}% ± {100 * row['ci95']:.1f}"
                    if metric == "accuracy"
                    else f"{value:.4f} ± {row['ci95']:.4f}"
                ),
                _("episodes trained"): row["episodes"],
                _("seconds"): round(row["seconds"], 1),
                _("parameters"): row["parameters"],
                _("ms per episode"): None
                if row["seconds_per_episode"] is None
                else round(1000 * row["seconds_per_episode"], 2),
                _("seeds"): len(row.get("per_seed", [])),
            }
        )
    return pd.DataFrame(rows)


def reading_in_language(result: dict) -> str:
    """The result's reading in the session's language: worded again from its numbers (the
    file's own ``reading`` is English, as the command line wrote it), or the file's own
    when a file opened from elsewhere lacks a number the wording needs."""
    try:
        return reading(result, words=translated_words(ReadingWords()), title=learner_name)
    except (KeyError, TypeError, ValueError, IndexError):
        return result["reading"]


def results_section(result: dict) -> None:
    st.subheader(_("Results"))
    plan = result.get("plan", {})
    st.caption(
        _(
            "From {where}. Machine: {machine}. {episodes} test episodes, the same for every "
            "learner."
        ).format(
            where=st.session_state[session.RESULT_FROM],
            machine=result.get("machine", "?"),
            episodes=plan.get("test_episodes", "?"),
        )
        + (
            " " + _("Command: {command}").format(command=f"`{result['command']}`")
            if result.get("command", "").startswith("python")
            else ""
        )
    )
    st.dataframe(results_table(result), hide_index=True, key="compare_table")
    st.info(reading_in_language(result), icon=":material/insights:")
    metric = result["metric"]
    percent = metric == "accuracy"
    y_title = _("accuracy") if percent else _("MSE")
    learners = {learner_name(a): row for a, row in result["learners"].items()}
    figures = [
        (
            "compare_by_time",
            metric_lines_figure(
                {
                    name: (
                        row["curves"]["validation"]["seconds"],
                        row["curves"]["validation"]["mean"],
                    )
                    for name, row in learners.items()
                },
                title=_("Validation {metric} against training time").format(metric=y_title),
                x_title=_("seconds of training"),
                y_title=y_title,
                percent=percent,
            ),  # fmt: skip
        ),
        (
            "compare_by_shot",
            scores_by_figure(
                {n: r["per_shot"] for n, r in learners.items()},
                key="k_shot",
                title=_("Test {metric} at other shots").format(metric=y_title),
                x_title=_("K-shot at test"),
                y_title=y_title,
                percent=percent,
            ),  # fmt: skip
        ),
    ]
    if any(row.get("per_way") for row in learners.values()):
        figures.append(
            (
                "compare_by_way",
                scores_by_figure(
                    {n: r["per_way"] for n, r in learners.items()},
                    key="n_way",
                    title=_("Test accuracy at other ways"),
                    x_title=_("N-way at test"),
                    y_title=_("accuracy"),
                ),  # fmt: skip
            )
        )
    steps = {n: r["inner_steps"] for n, r in learners.items() if r.get("inner_steps")}
    if steps:
        figures.append(
            (
                "compare_by_steps",
                scores_by_figure(
                    steps,
                    key="steps",
                    title=_("Test {metric} after test-time inner steps").format(metric=y_title),
                    x_title=_("inner steps at test"),
                    y_title=y_title,
                    percent=percent,
                ),  # fmt: skip
            )
        )
    figures.append(
        (
            "compare_result_loss",
            metric_lines_figure(
                {
                    n: (r["curves"]["train"]["episodes"], r["curves"]["train"]["loss"])
                    for n, r in learners.items()
                },
                title=_("Training loss"),
                x_title=_("training episodes"),
                y_title=_("loss"),
            ),  # fmt: skip
        )
    )
    for index in range(0, len(figures), 2):
        for column, (key, figure) in zip(st.columns(2), figures[index : index + 2], strict=False):
            column.plotly_chart(figure, config=STATIC_CHART_CONFIG, key=key)


# ----------------------------------------------------------------------------- the page

ensure_entrypoint()
session.init_state()
link = session.open_settings()  # a link's settings, checked before any widget reads them
st.title(_("Compare"))
show_lesson("compare")  # a lesson's setup goes into the form before it is drawn
st.caption(
    _(
        "Two to four learners, the same training episodes in the same order, an equal "
        "budget, and the same test episodes: the fair way to ask when MAML wins and when a "
        "Prototypical Network does."
    )
)
with st.sidebar:
    st.header(_("Comparison settings"))
    values = session.settings_widgets(link)
show_messages()
sync_with_settings(values)
open_panel()

if st.session_state.pop(session.SCORE, False):
    with st.spinner(_("Scoring every learner on the same test episodes…")):
        try:
            session.score_current()
        except Exception as error:  # a clear message, never a traceback
            log.exception("scoring failed")
            st.error(_("Scoring failed: {error}").format(error=f"{type(error).__name__}: {error}"))

comparison = session.comparison()
if comparison is not None:
    for algo, trainer in comparison.trainers.items():
        if trainer.divergence is not None:
            st.error(
                _("{learner}: {problem}").format(
                    learner=learner_name(algo), problem=trainer.divergence
                ),
                icon=":material/warning:",
            )
    controls(comparison)
    queue_notice = st.empty()  # a place in line for a trainer, while waiting (training_slots)
    with st.container(key="compare_progress"):
        progress_slot = st.empty()
    charts = {}
    for key in live_signatures(comparison):
        with st.container(key=f"{key}_box"):
            charts[key] = live_chart(key, height=CHART_HEIGHT)
    draw_live(comparison, progress_slot, charts, redraw=0)
    views = inspector_cards(comparison)

result = st.session_state[session.RESULT]
if result is not None:
    results_section(result)

# The Play loop: a rerun (any button, any widget, a page change) stops it at the next redraw.
# The comparison trains as one session: while it holds one of the server's few trainers.
if comparison is not None:
    lock = st.session_state[session.LOCK]
    redraws, inspections, last_inspection = 0, 0, time.perf_counter()
    turns = TrainerTurns(queue_notice, lambda: st.session_state[session.PLAYING])
    while st.session_state[session.PLAYING]:
        if not turns.wait():
            break
        redraws += 1
        with lock:
            comparison.tick(session.TICK_SECONDS)
        draw_live(comparison, progress_slot, charts, redraws)
        turns.done()
        if comparison.done:  # the end of the budget: score, then show the results
            session.pause()
            session.request_score()
            st.rerun()
        if views and time.perf_counter() - last_inspection >= INSPECT_EVERY:
            algo, view = views[inspections % len(views)]
            inspections += 1
            if view is not None:
                view.refresh(comparison.trainers[algo], st.session_state[session.INSPECT_SEED])
            last_inspection = time.perf_counter()
