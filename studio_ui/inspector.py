"""The Train page's episode inspector: one episode, the model's predictions, its internals.

What it draws depends on the data (images, 2-D points, a 1-D function) and on the
typed records the learner put in ``Adaptation.internals``: each record is drawn through
the core's one registry of record type -> figure (``metalearn_core.figures.internals``),
with the caption the learner wrote. Nothing here depends on the algorithm's name, so a
new learner shows its internals without any change to this page.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import streamlit as st
import torch

from metalearn_core.algorithms.base import Adaptation
from metalearn_core.algorithms.internals import RegressionFit
from metalearn_core.data.episode_edits import SupportSwap, apply_swaps
from metalearn_core.data.episodes import Episode
from metalearn_core.engine import Trainer
from metalearn_core.engine.checkpoint import state_is_finite
from metalearn_core.figures import episodes as figures
from metalearn_core.figures.internals import internals_figures
from metalearn_core.figures.words import EpisodeWords
from studio_ui.episode_play import current_edits, render_episode_play
from studio_ui.i18n import _, translated_words
from studio_ui.live_chart import CHART_CONFIG, STATIC_CHART_CONFIG, live_chart, show_figure

log = logging.getLogger("metalearn_studio.inspector")


def _true_function(trainer: Trainer, episode: Episode, probe_x: torch.Tensor) -> Any:
    source = trainer.source("val")
    true_function = getattr(source, "true_function", None)
    if true_function is None or not episode.task_params:
        return None
    return true_function(probe_x, episode.task_params)


def episode_figure(trainer: Trainer, episode: Episode, adaptation: Adaptation) -> go.Figure:
    """The episode with predictions: images, 2-D points, or curves for regression."""
    title = _("Support and query, predictions marked")
    words = episode_words()
    if trainer.task_kind == "regression":
        fit = adaptation.find(RegressionFit)
        if fit is None:
            return figures.regression_figure(episode, title=_("Support and query"), words=words)
        steps = list(fit.step_predictions)
        probe_x = fit.probe_x.detach().cpu()  # the learner's copy may be on its GPU
        return figures.regression_figure(
            episode,
            probe_x,
            _true_function(trainer, episode, probe_x),
            steps,
            probe_std=fit.probe_std,
            title=_("Adapted function after each inner step")
            if len(steps) > 1
            else _("Prediction"),
            words=words,
        )
    prediction = adaptation.query_prediction
    if episode.support_x.dim() == 4:
        return figures.episode_grid_figure(episode, prediction, title=title, words=words)
    if episode.support_x.dim() == 2 and episode.support_x.shape[1] == 2:
        return figures.episode_points_figure(episode, prediction, title=title, words=words)
    raise ValueError(
        _("no picture for inputs of shape {shape}").format(shape=tuple(episode.support_x.shape[1:]))
    )


def episode_words() -> EpisodeWords:
    """The episode pictures' words in the session's language."""
    return translated_words(EpisodeWords())


def scalar_details(adaptation: Adaptation) -> dict[str, str]:
    """The numbers the learner's records report, by readable name (in the session's
    language: the core marks the names with ``N_``), to 3 digits."""
    return {
        _(name): f"{value:.3g}" if isinstance(value, float) else str(value)
        for record in adaptation.internals
        for name, value in record.scalars().items()
    }


@dataclass
class InspectorContent:
    """What the inspector shows for one episode, ready to draw."""

    summary: str
    main_figure: go.Figure
    extras: list[tuple[str, go.Figure]]  # (caption, figure) for the algorithm's internals
    scalars: str
    episode: Episode | None = None  # the episode shown (with the student's swaps, if any)


def inspector_content(
    trainer: Trainer, seed: int, swaps: tuple[SupportSwap, ...] = ()
) -> InspectorContent:
    """Adapt to validation episode ``seed`` (with ``swaps`` made to its support set) and
    build the inspector's figures."""
    episode, adaptation = trainer.inspect(split="val", seed=seed)
    if swaps:
        edited = apply_swaps(episode, trainer.source("val"), swaps)
        episode, adaptation = trainer.adapt_episode(edited, split="val", seed=seed)
    score = (
        _("query accuracy **{accuracy}%**, ").format(
            accuracy=f"{100 * adaptation.query_accuracy:.0f}"
        )
        if adaptation.query_accuracy is not None
        else ""
    )
    scalars = scalar_details(adaptation)
    summary = _(
        "Validation episode #{seed} after {episodes} training episodes: "
        "{score}query loss **{loss}**"
    ).format(
        seed=seed, episodes=trainer.episodes_seen, score=score, loss=f"{adaptation.query_loss:.3f}"
    )
    return InspectorContent(
        summary=summary,
        main_figure=episode_figure(trainer, episode, adaptation),
        extras=internals_figures(episode, adaptation, words=episode_words(), translate=_),
        scalars=", ".join(f"{k} = {v}" for k, v in scalars.items()),
        episode=episode,
    )


def _height(figure: go.Figure) -> int:
    return int(figure.layout.height or 450)


@dataclass
class InspectorView:
    """The inspector's places on the page, laid out once per script run.

    ``refresh`` redraws them in place (the charts are ``studio_ui.live_chart`` charts),
    so the Play loop can show a newer adaptation without the charts going blank.
    """

    summary: Any
    main_chart: Any
    extra_charts: list[Any]
    scalars: Any
    swaps: tuple[SupportSwap, ...] = ()  # the student's swaps, replayed on every refresh

    def show(self, content: InspectorContent, live: bool) -> None:
        config = STATIC_CHART_CONFIG if live else CHART_CONFIG
        self.summary.markdown(content.summary)
        show_figure(self.main_chart, content.main_figure, config=config)
        for slot, (_caption, figure) in zip(self.extra_charts, content.extras, strict=False):
            show_figure(slot, figure, config=config)
        if content.scalars:
            self.scalars.caption(content.scalars)
        else:
            self.scalars.empty()  # a refresh must not keep the previous episode's numbers

    def refresh(self, trainer: Trainer, seed: int) -> None:
        """Show a fresh adaptation of episode ``seed`` (while playing: static charts)."""
        try:
            content = inspector_content(trainer, seed, self.swaps)
        except Exception:  # keep showing the last good one; the reason is in the log
            log.exception("inspector refresh failed")
            return
        self.show(content, live=True)


def _diverging(trainer: Trainer) -> bool:
    """Weights, or what they make of an episode, that are no longer finite numbers."""
    try:
        _episode, adaptation = trainer.inspect(split="val", seed=0)
    except Exception:  # the same failure: the reason given is then the error's own
        return not state_is_finite(trainer.learner.state_dict())
    return not (
        math.isfinite(adaptation.query_loss)
        and state_is_finite([trainer.learner.state_dict(), adaptation.query_prediction])
        and state_is_finite([record.tensors() for record in adaptation.internals])
    )


def _why_not_inspectable(trainer: Trainer, error: Exception) -> str:
    if _diverging(trainer):
        return _(
            "The inspector cannot show this run: its weights or embeddings are no longer "
            "finite numbers (the learning rate is too large). The next step stops the run "
            "and goes back to its last good state; lower the learning rate and start a new "
            "run."
        )
    return _("The inspector cannot show this run: {error}").format(
        error=f"{type(error).__name__}: {error}"
    )


def _content_with_edits(trainer: Trainer, seed: int, key: str) -> InspectorContent:
    """The content with the student's swaps; swaps that no longer fit the run (another data
    set or episode shape since) are dropped with a note."""
    edits = current_edits(st.session_state, key, seed)
    try:
        return inspector_content(trainer, seed, edits.swaps)
    except ValueError as error:
        if not edits.swaps:
            raise
        log.info("swaps dropped: %s", error)
        edits.swaps = ()
        edits.note = _("The swapped examples no longer fit this run, so they were undone.")
        return inspector_content(trainer, seed)


def render_inspector(
    trainer: Trainer, seed: int, key: str = "train_inspect", editable: bool = False
) -> InspectorView | None:
    """Lay out and draw the inspector for validation episode ``seed`` here; ``key``
    prefixes its charts' keys (one inspector per learner on the Compare page).
    ``editable`` adds the controls to swap support examples and draw a query
    (``studio_ui.episode_play``).

    Returns the view to refresh while playing, or None when the run cannot be inspected
    (a warning says why; the inspector never takes the page down).
    """
    try:
        if editable:
            content = _content_with_edits(trainer, seed, key)
        else:
            content = inspector_content(trainer, seed)
    except Exception as error:
        log.exception("inspector failed")
        st.warning(_why_not_inspectable(trainer, error))
        return None
    summary = st.empty()
    left, right = st.columns([3, 2]) if content.extras else (st.container(), None)
    with left:
        main_chart = live_chart(key, height=_height(content.main_figure))
    extra_charts = []
    # Each extra goes under the shorter column, so that neither runs on alone.
    filled = {"left": _height(content.main_figure), "right": 0}
    for index, (caption, figure) in enumerate(content.extras):
        side = "right" if filled["right"] <= filled["left"] else "left"
        filled[side] += _height(figure)
        with right if side == "right" else left:
            extra_charts.append(live_chart(f"{key}_{index}", height=_height(figure)))
            st.caption(caption)
    view = InspectorView(summary, main_chart, extra_charts, st.empty())
    view.show(content, live=False)
    if editable and content.episode is not None:
        view.swaps = current_edits(st.session_state, key, seed).swaps
        render_episode_play(trainer, content.episode, key, seed)
    return view
