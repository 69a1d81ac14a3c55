"""Scoring one trained learner of a comparison: the same test episodes for every learner.

The main score is exactly ``evaluate`` (same sampler, same seed, same per-episode seeding),
so the table's numbers are what ``python -m metalearn_core evaluate`` gives on the saved
run. Then the same trained model at other shots and ways, and, for learners that adapt
by gradient steps, after 0..k test-time inner steps.

Cost: Reptile adapts with 50 test-time steps. Scoring asks the learners to record the
query scores only after the steps it reads (``recorded_steps``; the query forward pass
at every step cost more than the steps themselves), and reads the inner-step sweep off
the main score's own adaptations of its first ``extra_episodes`` episodes (accuracy after
step s of one trajectory is what a separate s-step adaptation gives: the inner optimiser
does not look ahead), so the sweep costs no adaptation of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from metalearn_core.algorithms.base import Adaptation, MetaLearner
from metalearn_core.algorithms.internals import InnerStepCurve
from metalearn_core.data.episodes import EpisodeSampler, TaskSource
from metalearn_core.engine.evaluation import mean_ci95, score_episodes

if TYPE_CHECKING:
    from metalearn_core.compare.plan import ComparisonPlan
    from metalearn_core.engine.trainer import Trainer

TEST_SEED = 0  # the test episodes' seed: the same for every learner and training seed


def parameter_count(learner: MetaLearner) -> int:
    """Trainable parameters in the learner's networks (each tensor counted once)."""
    seen: dict[int, int] = {}
    for value in vars(learner).values():
        if isinstance(value, torch.nn.Module):
            for parameter in value.parameters():
                seen[id(parameter)] = parameter.numel()
    return int(sum(seen.values()))


@contextmanager
def recorded_steps(learner: MetaLearner, steps: int | None) -> Iterator[None]:
    """Within: a step learner's ``adapt`` records its curve after steps 0..``steps`` only
    (its scores are unchanged); other learners are left as they are."""
    if not hasattr(learner, "recorded_steps"):
        yield
        return
    original = learner.recorded_steps
    learner.recorded_steps = steps
    try:
        yield
    finally:
        learner.recorded_steps = original


def episode_scores(
    learner: MetaLearner,
    source: TaskSource,
    n_way: int,
    k_shot: int,
    q_query: int,
    count: int,
    on_adaptation: Callable[[Adaptation], None] | None = None,
) -> np.ndarray:
    """Per-episode accuracy (classification) or MSE (regression) on the test episodes that
    ``evaluate(learner, source, n_way, k_shot, q_query, count, seed=TEST_SEED)`` scores."""
    sampler = EpisodeSampler(source, n_way, k_shot, q_query, seed=TEST_SEED)
    scores = score_episodes(learner, sampler, count, TEST_SEED, on_adaptation)
    return scores.accuracies if scores.accuracies is not None else scores.losses


def curve_values(adaptation: Adaptation, steps: int, algo: str) -> list[float]:
    """Query accuracy (MSE for regression) after inner steps 0..``steps`` of one adaptation."""
    curve = adaptation.find(InnerStepCurve)
    if curve is None:
        raise ValueError(f"{algo} records no inner-step curve")
    values = curve.query_accuracies if curve.query_accuracies is not None else curve.query_losses
    return list(values)[: steps + 1]


def summarise_steps(per_episode: list[list[float]]) -> list[dict[str, float]]:
    """Mean and 95% interval over episodes after each number of steps."""
    values = np.asarray(per_episode, dtype=np.float64)  # (episodes, steps + 1)
    return [
        {"steps": s, "mean": float(values[:, s].mean()), "ci95": mean_ci95(values[:, s])[1]}
        for s in range(values.shape[1])
    ]


def _shape_row(
    learner: MetaLearner,
    source: TaskSource,
    n_way: int,
    k_shot: int,
    q_query: int,
    count: int,
    main: tuple[int, int, np.ndarray],
) -> dict[str, Any]:
    """The score at one other episode shape on ``count`` episodes; at the main shape
    ``main`` = (n_way, k_shot, per-episode scores), whose first ``count`` episodes are
    those very episodes (same sampler seed, same shape), so they are read, not rerun."""
    row: dict[str, Any] = {"n_way": n_way, "k_shot": k_shot}
    main_way, main_shot, main_scores = main
    if (n_way, k_shot) == (main_way, main_shot) and count <= len(main_scores):
        mean, ci95 = mean_ci95(main_scores[:count])
        return {**row, "mean": mean, "ci95": ci95}
    try:
        source.check_episode_shape(n_way, k_shot, q_query)
    except ValueError as error:
        return {**row, "mean": None, "ci95": None, "skipped": str(error)}
    with recorded_steps(learner, 0):  # only the final score is read
        scores = episode_scores(learner, source, n_way, k_shot, q_query, count)
    mean, ci95 = mean_ci95(scores)
    return {**row, "mean": mean, "ci95": ci95}


def inner_step_curve(
    learner: MetaLearner, source: TaskSource, n_way: int, k_shot: int, q_query: int,
    count: int, steps: int,
) -> list[dict[str, float]]:  # fmt: skip
    """Mean query accuracy (MSE for regression) after 0..``steps`` test-time inner steps,
    on the first ``count`` test episodes, each from one ``steps``-step adaptation; the
    learner's own setting is restored after. (``score_trainer`` reads the same off the
    main score when the learner takes at least ``steps`` steps at test.)"""
    original = learner.hparams
    learner.hparams = dataclasses.replace(original, inner_steps_test=max(steps, 1))
    per_episode: list[list[float]] = []
    try:
        with recorded_steps(learner, steps):
            episode_scores(
                learner, source, n_way, k_shot, q_query, count,
                lambda adaptation: per_episode.append(curve_values(adaptation, steps, learner.name)),
            )  # fmt: skip
    finally:
        learner.hparams = original
    return summarise_steps(per_episode)


def training_curves(trainer: Trainer) -> dict[str, dict[str, list]]:
    """The run's curves: training loss/accuracy by episodes and seconds; validation by
    episodes and training seconds (read off the training points: accuracy against time)."""
    train = trainer.history.train_arrays()
    val = trainer.history.validation_arrays()
    val_seconds = (
        np.interp(val["iteration"], train["iteration"], train["seconds"])
        if len(train["iteration"])
        else np.zeros(len(val["iteration"]))
    )
    accuracy = [None if np.isnan(a) else float(a) for a in train["accuracy"]]
    return {
        "train": {
            "episodes": train["episodes"].tolist(),
            "seconds": _rounded(train["seconds"]),
            "loss": _rounded(train["loss"], 5),
            "accuracy": [None if a is None else round(a, 5) for a in accuracy],
        },
        "validation": {
            "episodes": (val["iteration"] * trainer.meta_batch).tolist(),
            "seconds": _rounded(val_seconds),
            "mean": _rounded(val["mean"], 5),
            "ci95": _rounded(val["ci95"], 5),
        },
    }


def _rounded(values: np.ndarray, digits: int = 3) -> list[float]:
    return [round(float(v), digits) for v in values]


def score_trainer(
    trainer: Trainer, plan: ComparisonPlan, test_source: TaskSource, seed: int
) -> dict[str, Any]:
    """One cell of the comparison: the trained learner scored as ``plan`` asks.

    Returns a plain dict (JSON-ready except ``episode_scores``, the main score's
    per-episode values, which the results pool over seeds and then drop).
    """
    from metalearn_core.compare.plan import STEP_LEARNERS

    trainer.finish_validation()
    learner, config = trainer.learner, trainer.config
    n_way, k_shot, q_query = config.n_way, config.k_shot, plan.scoring_query
    extra = plan.extra_episodes
    sweep = plan.test_inner_steps
    steps_learner = config.algo in STEP_LEARNERS
    # the sweep rides on the main score's first ``extra`` episodes when the learner's own
    # adaptation is long enough (recording each step's query scores costs a forward pass)
    sweep_in_score = steps_learner and learner.hparams.inner_steps_test >= sweep
    per_episode: list[list[float]] = []

    def keep_curve(adaptation: Adaptation) -> None:
        if len(per_episode) < extra:
            per_episode.append(curve_values(adaptation, sweep, config.algo))
            if len(per_episode) == extra:  # the sweep's episodes are done: final scores only
                learner.recorded_steps = 0

    with recorded_steps(learner, sweep if sweep_in_score else 0):
        scores = episode_scores(
            learner, test_source, n_way, k_shot, q_query, plan.test_episodes,
            keep_curve if sweep_in_score else None,
        )  # fmt: skip
    mean, ci95 = mean_ci95(scores)
    main = (n_way, k_shot, scores)
    per_shot = [
        _shape_row(learner, test_source, n_way, shot, q_query, extra, main)
        for shot in plan.test_shots
    ]
    per_way = []
    if trainer.task_kind == "classification":
        per_way = [
            _shape_row(learner, test_source, way, k_shot, q_query, extra, main)
            for way in plan.test_ways
        ]
    inner_steps = None
    if sweep_in_score:
        inner_steps = summarise_steps(per_episode)
    elif steps_learner:
        inner_steps = inner_step_curve(learner, test_source, n_way, k_shot, q_query, extra, sweep)
    episodes = trainer.episodes_seen
    return {
        "algo": config.algo,
        "seed": seed,
        plan.metric: mean,
        "ci95": ci95,
        "episodes": episodes,
        "iterations": trainer.iteration,
        "seconds": round(trainer.train_seconds, 3),
        "seconds_per_episode": trainer.train_seconds / episodes if episodes else None,
        "parameters": parameter_count(learner),
        "hparams": dataclasses.asdict(learner.hparams),
        "lr_schedule": config.lr_schedule,
        "diverged": trainer.divergence,
        "per_shot": per_shot,
        "per_way": per_way,
        "inner_steps": inner_steps,
        "curves": training_curves(trainer),
        "episode_scores": scores.tolist(),
    }
