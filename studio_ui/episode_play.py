"""Be part of the inspector's episode: swap a support example, draw a query of your own.

The inspector (``studio_ui.inspector``) draws a validation episode and the learner's
adaptation to it. Under it a student can

- swap one support example (a class, one of its shots) for another example of that
  class: the swaps are kept per inspector (``EpisodeEdits`` in the session state, for one
  episode seed at a time) and replayed on the drawn episode, which the learner then adapts
  to again, so predictions, attention, prototypes and MAML's inner curve all follow;
- draw a character on a canvas (glyphs and Omniglot runs): it is prepared like the data
  set's images and classified against the episode's support set;
- click to place the support points of a regression task (sinusoid runs): the learner
  (MAML, Reptile, a neural process...) adapts to them, its curve after each inner step drawn
  against the episode's true function (``studio_ui.plot_clicks``).

The canvas is a small ``st.components.v2`` component: it sends its ink as
``CANVAS_SIDE``² bytes in base64, which ``metalearn_core.data.drawing`` checks before use.
"""

from __future__ import annotations

import logging
import math
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import plotly.graph_objects as go
import streamlit as st
import torch

from metalearn_core.algorithms.base import Adaptation
from metalearn_core.algorithms.internals import RegressionFit
from metalearn_core.data.drawing import (
    CANVAS_SIDE,
    DRAWABLE_DATASETS,
    decode_drawing,
    drawing_to_input,
    is_blank,
)
from metalearn_core.data.episode_edits import (
    MAX_SWAPS,
    SupportSwap,
    with_placed_support,
    with_support_set,
)
from metalearn_core.data.episodes import ClassificationSource, Episode
from metalearn_core.engine import Trainer
from metalearn_core.engine.trainer import DEFAULT_PROBE_RANGE, PROBE_POINTS
from metalearn_core.figures import episodes as figures
from metalearn_core.figures.internals import internals_figures
from metalearn_core.figures.lessons import add_click_grid
from studio_ui.i18n import _
from studio_ui.live_chart import CHART_CONFIG, STATIC_CHART_CONFIG
from studio_ui.plot_clicks import (
    MAX_PLACED_POINTS,
    PlacedPoints,
    chart_key,
    clear_points,
    handle_click,
    placed_points,
)

log = logging.getLogger("metalearn_studio.episode_play")

CANVAS_PIXELS = 224  # the canvas's side on screen; its ink is sent at CANVAS_SIDE


@dataclass
class EpisodeEdits:
    """The swaps made to one inspector's episode ``seed`` (``swaps_made`` seeds the next)."""

    seed: int
    swaps: tuple[SupportSwap, ...] = ()
    swaps_made: int = 0
    note: str | None = field(default=None)  # why the swaps were dropped, shown once


def edits_key(key: str) -> str:
    return f"{key}_edits"


def current_edits(state: MutableMapping[str, Any], key: str, seed: int) -> EpisodeEdits:
    """The edits of inspector ``key`` for episode ``seed``; another episode starts afresh."""
    edits = state.get(edits_key(key))
    if not isinstance(edits, EpisodeEdits) or edits.seed != seed:
        edits = EpisodeEdits(seed)
        state[edits_key(key)] = edits
    return edits


def add_swap(state: MutableMapping[str, Any], key: str, seed: int) -> None:
    """Swap in another example at the chosen (label, shot); each swap draws from a seed of
    its own."""
    label, shot = state.get(f"{key}_swap_label"), state.get(f"{key}_swap_shot")
    if not isinstance(label, int) or not isinstance(shot, int):
        return
    edits = current_edits(state, key, seed)
    if len(edits.swaps) >= MAX_SWAPS:
        edits.note = _("At most {count} swaps per episode: undo them to swap again.").format(
            count=MAX_SWAPS
        )
        return
    edits.swaps = (*edits.swaps, SupportSwap(int(label), int(shot), seed=edits.swaps_made))
    edits.swaps_made += 1


def undo_swaps(state: MutableMapping[str, Any], key: str, seed: int) -> None:
    edits = current_edits(state, key, seed)
    edits.swaps = ()


def can_swap(trainer: Trainer) -> bool:
    """Only a classification source has other examples of a class to swap in."""
    return isinstance(trainer.source("val"), ClassificationSource)


def render_swap_controls(trainer: Trainer, episode: Episode, key: str, seed: int) -> None:
    """Choose a class and one of its shots, and swap another example of it in."""
    edits = current_edits(st.session_state, key, seed)
    st.markdown(_("**Swap a support example** and watch the predictions and internals change."))
    label_column, shot_column, swap_column, undo_column = st.columns(
        [3, 2, 2, 2], vertical_alignment="bottom"
    )
    names = episode.class_names or tuple(str(k) for k in range(episode.n_way))
    # worded now, during the page's run: a format function runs later too (AppTest)
    labels = [_("label {label}: {name}").format(label=k, name=names[k]) for k in range(len(names))]
    label_column.selectbox(
        _("class"),
        range(episode.n_way),
        format_func=labels.__getitem__,
        key=f"{key}_swap_label",
    )
    shot_column.selectbox(
        _("shot"),
        range(episode.k_shot),
        format_func=lambda s: str(s + 1),
        key=f"{key}_swap_shot",
    )
    swap_column.button(
        _("Swap in another"),
        on_click=add_swap,
        args=(st.session_state, key, seed),
        key=f"{key}_swap",
        help=_("Replace this support example with another example of its class."),
    )
    undo_column.button(
        _("Undo swaps"),
        on_click=undo_swaps,
        args=(st.session_state, key, seed),
        disabled=not edits.swaps,
        key=f"{key}_undo_swaps",
    )
    if edits.note:
        st.info(edits.note)
        edits.note = None
    if edits.swaps:
        count = len(edits.swaps)
        st.caption(
            _(
                "Swaps made: {count}. The figures above show the edited episode, adapted again."
            ).format(count=count)
        )


# ---- the drawing canvas -------------------------------------------------------------------

_CANVAS_HTML = """<div class="ml-draw">
  <canvas class="ml-draw-canvas" width="{pixels}" height="{pixels}"></canvas>
  <button class="ml-draw-clear" type="button"></button>
</div>"""

_CANVAS_CSS = """
.ml-draw { display: flex; flex-direction: column; align-items: flex-start; gap: 0.4rem; }
.ml-draw-canvas { background: #ffffff; border: 1px solid #bbbbbb; border-radius: 4px;
  touch-action: none; cursor: crosshair; }
.ml-draw-clear { font: inherit; padding: 0.2rem 0.8rem; border: 1px solid #bbbbbb;
  border-radius: 4px; background: #f6f6f6; cursor: pointer; }
"""

# Strokes are drawn in black on white; the ink sent is their opacity (0 paper, 255 ink),
# averaged down to side x side, so what Python receives is always exactly side² bytes.
_CANVAS_JS = """export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const canvas = parentElement.querySelector(".ml-draw-canvas");
  const clear = parentElement.querySelector(".ml-draw-clear");
  clear.textContent = data.clear_label;
  const side = data.side;
  const context = canvas.getContext("2d");
  context.lineCap = "round";
  context.lineJoin = "round";
  context.lineWidth = canvas.width / 14;
  context.strokeStyle = "#000000";
  let drawing = false;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  const send = () => {
    const small = document.createElement("canvas");
    small.width = side; small.height = side;
    const smallContext = small.getContext("2d");
    smallContext.drawImage(canvas, 0, 0, side, side);
    const pixels = smallContext.getImageData(0, 0, side, side).data;
    let text = "";
    for (let i = 3; i < pixels.length; i += 4) text += String.fromCharCode(pixels[i]);
    setStateValue("ink", btoa(text));
  };
  canvas.onpointerdown = (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = at(event);
    context.beginPath(); context.moveTo(x, y); context.lineTo(x, y); context.stroke();
  };
  canvas.onpointermove = (event) => {
    if (!drawing) return;
    const [x, y] = at(event);
    context.lineTo(x, y); context.stroke();
  };
  const finish = () => { if (drawing) { drawing = false; send(); } };
  canvas.onpointerup = finish;
  canvas.onpointerleave = finish;
  clear.onclick = () => {
    context.clearRect(0, 0, canvas.width, canvas.height);
    setStateValue("ink", "");
  };
}"""

_canvas = st.components.v2.component(
    "metalearn_studio.drawing_canvas",
    html=_CANVAS_HTML.format(pixels=CANVAS_PIXELS),
    css=_CANVAS_CSS,
    js=_CANVAS_JS,
)


def can_draw(trainer: Trainer) -> bool:
    """Drawings stand in for glyphs and Omniglot characters (one channel, ink high)."""
    return trainer.config.dataset in DRAWABLE_DATASETS and trainer.task_kind == "classification"


@dataclass(frozen=True)
class DrawingVerdict:
    """A drawing as the learner sees it, and its class probabilities against the support."""

    image: torch.Tensor  # (1, H, W) in [0, 1]
    probabilities: torch.Tensor  # (N,)


def classify_drawing(
    trainer: Trainer, episode: Episode, payload: object, seed: int
) -> DrawingVerdict | None:
    """The canvas's ``payload`` classified against ``episode``'s support set; None for an
    empty canvas. Raises ``ValueError`` for a payload that is not a canvas's ink."""
    if payload in (None, ""):
        return None
    ink = decode_drawing(payload)
    if is_blank(ink):
        return None
    image = drawing_to_input(ink, tuple(episode.support_x.shape[1:]))
    probabilities = trainer.classify_example(episode, image, split="val", seed=seed)
    return DrawingVerdict(image, probabilities)


def canvas_key(key: str) -> str:
    return f"{key}_canvas"


def render_drawing(trainer: Trainer, episode: Episode, key: str, seed: int) -> None:
    """A canvas; what is drawn on it, classified by the learner against the support set."""
    st.markdown(
        _(
            "**Draw a character** and see the learner classify it against this episode's "
            "support set."
        )
    )
    pad, result_column = st.columns([1, 2])
    with pad:
        result = _canvas(
            key=canvas_key(key),
            data={"side": CANVAS_SIDE, "clear_label": _("Clear")},
            default={"ink": ""},
            height=CANVAS_PIXELS + 48,
            on_ink_change=lambda: None,
        )
    payload = getattr(result, "ink", None)
    with result_column:
        try:
            verdict = classify_drawing(trainer, episode, payload, seed)
        except ValueError as error:
            log.warning("drawing refused: %s", error)
            st.warning(_("The drawing could not be read: {reason}").format(reason=error))
            return
        if verdict is None:
            st.caption(_("Draw with the mouse or a finger; the scores appear here."))
            return
        if trainer.episodes_seen == 0:
            st.caption(
                _(
                    "This learner has not trained yet: it gives every class about the same "
                    "score. Train it for a while, then draw again."
                )
            )
        names = episode.class_names or tuple(str(k) for k in range(episode.n_way))
        best = int(verdict.probabilities.argmax())
        st.markdown(
            _("The learner says: **label {label}** ({name}).").format(label=best, name=names[best])
        )
        picture, scores = st.columns([1, 3])
        picture.image(
            verdict.image[0].numpy(), caption=_("as the learner sees it"), clamp=True, width=96
        )
        probability = _("probability")
        scores.dataframe(
            [
                {_("label"): k, _("class"): names[k], probability: float(p)}
                for k, p in enumerate(verdict.probabilities.tolist())
            ],
            hide_index=True,
            column_config={
                probability: st.column_config.ProgressColumn(
                    probability, min_value=0.0, max_value=1.0, format="%.2f"
                )
            },
        )


# ---- support points placed by clicking (regression runs) ------------------------------------


def can_place_points(trainer: Trainer, episode: Episode) -> bool:
    """A 1-D regression run (sinusoid): a click gives a point (x, y) of its support set;
    a run on 2-D points (blobs): a click gives a support point of the chosen class."""
    shape = tuple(episode.support_x.shape[1:])
    if trainer.task_kind == "regression":
        return shape == (1,)
    return shape == (2,)


def placed_points_key(key: str) -> str:
    return f"{key}_placed"


def placement_ranges(
    trainer: Trainer, episode: Episode
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where a point may be placed: the source's inputs, and targets a little past the
    episode's (a sinusoid of amplitude up to 5: about ±6)."""
    if trainer.task_kind == "classification":  # 2-D points: the episode's box, padded
        both = torch.cat([episode.support_x, episode.query_x]).detach().cpu()
        low_corner, high_corner = both.min(dim=0).values, both.max(dim=0).values
        pad = 0.25 * float((high_corner - low_corner).max()) + 0.1
        return tuple(
            (math.floor(float(low_corner[i]) - pad), math.ceil(float(high_corner[i]) + pad))
            for i in range(2)
        )
    low, high = getattr(trainer.source("val"), "input_range", DEFAULT_PROBE_RANGE)
    targets = torch.cat([episode.support_y.reshape(-1), episode.query_y.reshape(-1)]).abs()
    limit = max(1.0, math.ceil(1.2 * float(targets.max())))
    return (float(low), float(high)), (-float(limit), float(limit))


def placed_points_figure(
    trainer: Trainer, episode: Episode, points: PlacedPoints, seed: int
) -> tuple[go.Figure, Adaptation, Episode]:
    """A 2-D episode whose classes with placed points take those as their support,
    adapted again: the points with the predictions (and the adaptation, the episode)."""
    edited = episode
    if points.xy:
        edited = with_placed_support(
            episode,
            torch.tensor(points.xy, dtype=torch.float32),  # (P, 2)
            torch.tensor(points.labels, dtype=torch.int64),  # (P,)
        )
    edited, adaptation = trainer.adapt_episode(edited, split="val", seed=seed)
    figure = figures.episode_points_figure(edited, adaptation.query_prediction, title="")
    return figure, adaptation, edited


def placed_support_figure(
    trainer: Trainer, episode: Episode, points: PlacedPoints, seed: int
) -> tuple[go.Figure, Adaptation | None]:
    """The task's true function and the learner adapted on the placed points (with the
    curve after each inner step), or the bare task when no point is placed yet."""
    source = trainer.source("val")
    low, high = getattr(source, "input_range", DEFAULT_PROBE_RANGE)
    probe_x = torch.linspace(low, high, PROBE_POINTS).unsqueeze(1)  # (P, 1)
    true_function = getattr(source, "true_function", None)
    true_y = true_function(probe_x, episode.task_params) if true_function else None
    if not points.xy:
        bare = replace(episode, support_x=episode.support_x[:0], support_y=episode.support_y[:0])
        return figures.regression_figure(bare, probe_x, true_y, title=""), None
    placed = torch.tensor(points.xy, dtype=torch.float32)  # (K', 2): x, y
    edited = with_support_set(episode, placed[:, :1], placed[:, 1:])
    _, adaptation = trainer.adapt_episode(edited, split="val", seed=seed)
    fit = adaptation.find(RegressionFit)
    steps = list(fit.step_predictions) if fit is not None else []
    figure = figures.regression_figure(
        edited,
        fit.probe_x.detach().cpu() if fit is not None else probe_x,
        true_y,
        steps,
        probe_std=fit.probe_std if fit is not None else None,
        title="",
    )
    return figure, adaptation


def render_placed_support(trainer: Trainer, episode: Episode, key: str, seed: int) -> None:
    """Click to place support points; the learner adapts to them, its curve follows."""
    points_key = placed_points_key(key)
    points = placed_points(st.session_state, points_key)
    x_range, y_range = placement_ranges(trainer, episode)
    classification = trainer.task_kind == "classification"
    if classification:
        st.markdown(
            _(
                "**Place the support points yourself**: choose a class and click on the "
                "chart to add a support point of it (at most {limit}). A class with placed "
                "points takes them as its whole support set; watch the predictions and the "
                "prototypes move."
            ).format(limit=MAX_PLACED_POINTS)
        )
    else:
        st.markdown(
            _(
                "**Place the support points yourself**: click on the chart to add a support "
                "point (at most {limit}) and watch the learner adapt to them. The dashed "
                "line is this episode's true function."
            ).format(limit=MAX_PLACED_POINTS)
        )
    class_key = f"{key}_placed_class"
    controls, picture = st.columns([1, 3])
    with controls:
        if classification:
            labels = [
                _("label {label}: {name}").format(
                    label=k, name=episode.class_names[k] if episode.class_names else k
                )
                for k in range(episode.n_way)
            ]  # worded now, during the page's run: a format function runs later too (AppTest)
            st.selectbox(
                _("class of the next point"),
                range(episode.n_way),
                format_func=labels.__getitem__,
                key=class_key,
            )
        st.button(
            _("Clear the points"),
            on_click=clear_points,
            args=(st.session_state, points_key),
            disabled=not points.xy,
            key=f"{key}_clear_placed",
        )
        st.caption(
            _("{count} of {limit} points placed.").format(
                count=len(points), limit=MAX_PLACED_POINTS
            )
        )
    try:
        if classification:
            figure, adaptation, edited = placed_points_figure(trainer, episode, points, seed)
        else:
            figure, adaptation = placed_support_figure(trainer, episode, points, seed)
    except ValueError as error:
        log.warning("placed points refused: %s", error)
        st.warning(_("These points cannot be used: {reason}").format(reason=error))
        return
    if adaptation is not None and adaptation.query_accuracy is not None:
        controls.metric(_("query accuracy"), f"{100 * adaptation.query_accuracy:.0f}%")
    elif adaptation is not None:
        controls.metric(_("query loss"), f"{adaptation.query_loss:.3f}")
    add_click_grid(figure, x_range, y_range)
    figure.update_xaxes(range=list(x_range))
    figure.update_yaxes(range=list(y_range))
    with picture:
        st.plotly_chart(
            figure,
            key=chart_key(st.session_state, points_key),
            on_select=partial(
                handle_click,
                st.session_state,
                points_key,
                x_range,
                y_range,
                class_key if classification else None,
            ),
            selection_mode="points",
            config=CHART_CONFIG,
        )
    if classification and points.xy:
        # the learner's internals for the edited episode: prototypes, distances, attention
        extras = internals_figures(edited, adaptation)[:2]
        for index, (column, (caption, extra)) in enumerate(
            zip(st.columns(2), extras, strict=False)
        ):
            with column:
                st.plotly_chart(
                    extra, config=STATIC_CHART_CONFIG, key=f"{key}_placed_internals_{index}"
                )
                st.caption(caption)


def render_episode_play(trainer: Trainer, episode: Episode, key: str, seed: int) -> None:
    """The controls under the Train page's inspector: swaps, the canvas, placed points,
    where each fits the run."""
    if can_place_points(trainer, episode):
        with st.container(border=True):
            render_placed_support(trainer, episode, key, seed)
    if can_swap(trainer):
        with st.container(border=True):
            render_swap_controls(trainer, episode, key, seed)
    if can_draw(trainer):
        with st.container(border=True):
            render_drawing(trainer, episode, key, seed)
