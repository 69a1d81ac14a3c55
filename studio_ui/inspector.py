"""The Train page's episode inspector: one episode, the model's predictions, its internals.

What it draws depends on the data (images, 2-D points, a 1-D function) and on what
the algorithm put in ``Adaptation.details`` (documented in ``algorithms/base.py``):
inner-step losses for MAML/first-order MAML/Reptile, the embedding space (support,
queries, prototypes; flat with a 2-D embedding layer, else projected) and distances to
the prototypes for ProtoNet, attention for Matching Networks, and a generic picture of
anything else.
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
from metalearn_core.data.episodes import Episode
from metalearn_core.engine import Trainer
from metalearn_core.engine.checkpoint import state_is_finite
from metalearn_core.figures import episodes as figures
from metalearn_core.figures.embeddings import embedding_figure
from studio_ui.live_chart import CHART_CONFIG, STATIC_CHART_CONFIG, live_chart, show_figure

log = logging.getLogger("metalearn_studio.inspector")

# Details drawn by a dedicated figure, or too raw to be worth a picture.
_HANDLED = {
    "inner_losses", "inner_accuracies", "probe_predictions", "probe_x", "distances",
    "attention", "support_losses", "support_embeddings", "query_embeddings", "prototypes",
    "probe_std", "class_attention", "attention_per_layer", "support_codes", "representation",
    "query_std",
}  # fmt: skip

# Readable names of the numbers some learners report beside their figures.
_SCALAR_NAMES = {
    "query_nll": "query negative log-likelihood",
    "attention_scale": "attention scale (similarities × scale before the softmax)",
}

# What step 0 of the inner-step chart is, by algorithm.
_META_LEARNED_START = (
    "the meta-learned initialisation, before it has seen the support set (for classification "
    "its head starts at zero: chance)"
)
_STEP_ZERO = {
    "maml": _META_LEARNED_START,
    "fomaml": _META_LEARNED_START,
    "reptile": _META_LEARNED_START,
    "transfer": "the pretrained network with a head imprinted from the support set's class "
    "means (nearest class mean); later steps fine-tune it",
}

_DISTANCE_NAMES = {"euclidean": "squared Euclidean distance", "cosine": "cosine distance (1 − cos)"}

# How the attention map relates to the prediction, by algorithm.
_ATTENTION = {
    "matchingnet": "Each query's attention over the support examples; the class with the most "
    "attention in total is the prediction. Cosines of ReLU features lie in [0, 1], so at the "
    "paper's attention scale of 1 the attention stays nearly flat; a learned scale sharpens it.",
    "snail": "Each query's attention over the support examples in the last attention layer "
    "(mean over heads). The network reads what it attends to through further layers, so the "
    "prediction (✓/✗, row labels) need not be the most attended class.",
}


def _true_function(trainer: Trainer, episode: Episode, probe_x: torch.Tensor) -> Any:
    source = trainer.source("val")
    true_function = getattr(source, "true_function", None)
    if true_function is None or not episode.task_params:
        return None
    return true_function(probe_x, episode.task_params)


def episode_figure(trainer: Trainer, episode: Episode, adaptation: Adaptation) -> go.Figure:
    """The episode with predictions: images, 2-D points, or curves for regression."""
    title = "Support and query, predictions marked"
    if trainer.task_kind == "regression":
        probe_x = adaptation.details.get("probe_x")
        steps = list(adaptation.details.get("probe_predictions") or [])
        if not steps and adaptation.probe_prediction is not None:
            steps = [adaptation.probe_prediction]
        true_y = _true_function(trainer, episode, probe_x) if probe_x is not None else None
        return figures.regression_figure(
            episode,
            probe_x,
            true_y,
            steps,
            probe_std=adaptation.details.get("probe_std"),
            title="Adapted function after each inner step" if len(steps) > 1 else "Prediction",
        )
    if episode.support_x.dim() == 4:
        return figures.episode_grid_figure(episode, adaptation.query_prediction, title=title)
    if episode.support_x.dim() == 2 and episode.support_x.shape[1] == 2:
        return figures.episode_points_figure(episode, adaptation.query_prediction, title=title)
    raise ValueError(f"no picture for inputs of shape {tuple(episode.support_x.shape[1:])}")


def internals_figures(
    episode: Episode, adaptation: Adaptation, algo: str = "", distance: str | None = None
) -> list[tuple[str, go.Figure]]:
    """The algorithm's internals as (caption, figure) pairs; ``algo`` picks the captions,
    ``distance`` is the nearest-prototype rule of a learner that has one."""
    details = adaptation.details
    out: list[tuple[str, go.Figure]] = []
    embedding = _embedding_view(episode, adaptation, distance)
    if embedding is not None:
        out.append(embedding)
    if details.get("inner_losses"):
        accuracies = details.get("inner_accuracies") or None
        step_zero = _STEP_ZERO.get(algo, "before any step on the support set")
        out.append(
            (
                f"Query loss after each inner step: step 0 is {step_zero}.",
                figures.inner_steps_figure(details["inner_losses"], accuracies),
            )
        )
    if isinstance(details.get("distances"), torch.Tensor):
        out.append(
            (
                f"Each query's {_DISTANCE_NAMES.get(distance, 'distance')} to each class "
                "prototype (the mean embedding of its support examples); the nearest "
                "prototype is the prediction.",
                figures.distances_heatmap(details["distances"], episode.query_y),
            )
        )
    if isinstance(details.get("attention"), torch.Tensor):
        out.append(
            (
                _ATTENTION.get(algo, "Each query's attention over the support examples."),
                figures.attention_heatmap(
                    details["attention"],
                    episode.support_y,
                    episode.query_y,
                    predicted=adaptation.query_prediction,
                ),
            )
        )
    codes, representation = details.get("support_codes"), details.get("representation")
    if isinstance(codes, torch.Tensor) and isinstance(representation, torch.Tensor):
        out.append(
            (
                "The encoder's code r_i of each support point (x_i, y_i), and their mean r "
                "(last row): the decoder sees only r, so the order of the support points "
                "never matters, and more points refine one fixed-size summary.",
                figures.codes_heatmap(codes, representation, episode.support_x),
            )
        )
    for name, value in details.items():
        if name in _HANDLED:
            continue
        figure = figures.detail_figure(name, value)
        if figure is not None:
            out.append((f"`{name}`", figure))
    return out


def _embedding_view(
    episode: Episode, adaptation: Adaptation, distance: str | None
) -> tuple[str, go.Figure] | None:
    """The episode in the embedding space, when the learner gave its embeddings."""
    details = adaptation.details
    support, query = details.get("support_embeddings"), details.get("query_embeddings")
    if not (isinstance(support, torch.Tensor) and isinstance(query, torch.Tensor)):
        return None
    if support.dim() != 2 or support.shape[0] + query.shape[0] < 3:
        return None
    prototypes = details.get("prototypes")
    prototypes = prototypes if isinstance(prototypes, torch.Tensor) else None
    flat = support.shape[1] == 2
    region = distance if flat and prototypes is not None else None
    figure = embedding_figure(
        episode, support, query, prototypes, adaptation.query_prediction, region_distance=region
    )
    marks = "support (diamonds), queries (dots; red ✗ where wrong)" + (
        ", class prototypes (stars)" if prototypes is not None else ""
    )
    if flat:
        caption = f"The episode in the 2-D embedding space: {marks}."
        if region:
            caption += " Shaded: the region each prototype wins (a query there gets its class)."
    else:
        caption = (
            f"The episode in the {support.shape[1]}-dimensional embedding space, projected onto "
            f'its first two principal components: {marks}. Tick "2-D embedding layer" in the '
            "run settings to see the space itself."
        )
    return caption, figure


def scalar_details(adaptation: Adaptation) -> dict[str, Any]:
    """Details that are plain numbers or strings, by readable name (floats to 3 digits)."""
    return {
        _SCALAR_NAMES.get(name, name): f"{value:.3g}" if isinstance(value, float) else value
        for name, value in adaptation.details.items()
        if isinstance(value, int | float | str | bool)
    }


@dataclass
class InspectorContent:
    """What the inspector shows for one episode, ready to draw."""

    summary: str
    main_figure: go.Figure
    extras: list[tuple[str, go.Figure]]  # (caption, figure) for the algorithm's internals
    scalars: str


def inspector_content(trainer: Trainer, seed: int) -> InspectorContent:
    """Adapt to validation episode ``seed`` and build the inspector's figures."""
    episode, adaptation = trainer.inspect(split="val", seed=seed)
    score = (
        f"query accuracy **{100 * adaptation.query_accuracy:.0f}%**, "
        if adaptation.query_accuracy is not None
        else ""
    )
    scalars = scalar_details(adaptation)
    return InspectorContent(
        summary=f"Validation episode #{seed} after {trainer.episodes_seen} training episodes: "
        f"{score}query loss **{adaptation.query_loss:.3f}**",
        main_figure=episode_figure(trainer, episode, adaptation),
        extras=internals_figures(
            episode, adaptation, trainer.config.algo, _prototype_distance(trainer)
        ),
        scalars=", ".join(f"{k} = {v}" for k, v in scalars.items()),
    )


def _prototype_distance(trainer: Trainer) -> str | None:
    """How the learner picks the nearest prototype (Prototypical Networks), else None."""
    if trainer.config.algo != "protonet":
        return None
    return getattr(trainer.learner.hparams, "distance", None)


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

    def show(self, content: InspectorContent, live: bool) -> None:
        config = STATIC_CHART_CONFIG if live else CHART_CONFIG
        self.summary.markdown(content.summary)
        show_figure(self.main_chart, content.main_figure, config=config)
        for slot, (_, figure) in zip(self.extra_charts, content.extras, strict=False):
            show_figure(slot, figure, config=config)
        if content.scalars:
            self.scalars.caption(content.scalars)
        else:
            self.scalars.empty()  # a refresh must not keep the previous episode's numbers

    def refresh(self, trainer: Trainer, seed: int) -> None:
        """Show a fresh adaptation of episode ``seed`` (while playing: static charts)."""
        try:
            content = inspector_content(trainer, seed)
        except Exception:  # keep showing the last good one; the reason is in the log
            log.exception("inspector refresh failed")
            return
        self.show(content, live=True)


def _diverging(trainer: Trainer) -> bool:
    """Weights, or what they make of an episode, that are no longer finite numbers."""
    try:
        _, adaptation = trainer.inspect(split="val", seed=0)
    except Exception:  # the same failure: the reason given is then the error's own
        return not state_is_finite(trainer.learner.state_dict())
    return not (
        math.isfinite(adaptation.query_loss)
        and state_is_finite([trainer.learner.state_dict(), adaptation.query_prediction])
        and state_is_finite(adaptation.details)
    )


def _why_not_inspectable(trainer: Trainer, error: Exception) -> str:
    if _diverging(trainer):
        return (
            "The inspector cannot show this run: its weights or embeddings are no longer "
            "finite numbers (the learning rate is too large). The next step stops the run "
            "and goes back to its last good state; lower the learning rate and start a new "
            "run."
        )
    return f"The inspector cannot show this run: {type(error).__name__}: {error}"


def render_inspector(
    trainer: Trainer, seed: int, key: str = "train_inspect"
) -> InspectorView | None:
    """Lay out and draw the inspector for validation episode ``seed`` here; ``key``
    prefixes its charts' keys (one inspector per learner on the Compare page).

    Returns the view to refresh while playing, or None when the run cannot be inspected
    (a warning says why; the inspector never takes the page down).
    """
    try:
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
    return view
