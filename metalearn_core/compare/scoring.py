"""Scoring one trained learner of a comparison: the same test episodes for every learner.

The main score is exactly ``evaluate`` (same sampler, same seed, same per-episode seeding),
so the table's numbers are what ``python -m metalearn_core evaluate`` gives on the saved
run. Then the same trained model at other shots and ways, and, for learners that adapt
by gradient steps, after 0..k test-time inner steps.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from metalearn_core.algorithms.base import MetaLearner
from metalearn_core.algorithms.internals import InnerStepCurve
from metalearn_core.data.episodes import EpisodeSampler, TaskSource
from metalearn_core.engine.evaluation import mean_ci95, score_episodes
from metalearn_core.engine.rng import derive_seed, reseeded

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


def episode_scores(
    learner: MetaLearner, source: TaskSource, n_way: int, k_shot: int, q_query: int, count: int
) -> np.ndarray:
    """Per-episode accuracy (classification) or MSE (regression) on the test episodes that
    ``evaluate(learner, source, n_way, k_shot, q_query, count, seed=TEST_SEED)`` scores."""
    sampler = EpisodeSampler(source, n_way, k_shot, q_query, seed=TEST_SEED)
    scores = score_episodes(learner, sampler, count, TEST_SEED)
    return scores.accuracies if scores.accuracies is not None else scores.losses


def _shape_row(
    learner: MetaLearner, source: TaskSource, n_way: int, k_shot: int, q_query: int, count: int
) -> dict[str, Any]:
    row: dict[str, Any] = {"n_way": n_way, "k_shot": k_shot}
    try:
        source.check_episode_shape(n_way, k_shot, q_query)
    except ValueError as error:
        return {**row, "mean": None, "ci95": None, "skipped": str(error)}
    mean, ci95 = mean_ci95(episode_scores(learner, source, n_way, k_shot, q_query, count))
    return {**row, "mean": mean, "ci95": ci95}


def inner_step_curve(
    learner: MetaLearner, source: TaskSource, n_way: int, k_shot: int, q_query: int,
    count: int, steps: int,
) -> list[dict[str, float]]:  # fmt: skip
    """Mean query accuracy (MSE for regression) after 0..``steps`` test-time inner steps,
    on the first ``count`` test episodes; the learner's own setting is restored after."""
    original = learner.hparams
    learner.hparams = dataclasses.replace(original, inner_steps_test=max(steps, 1))
    sampler = EpisodeSampler(source, n_way, k_shot, q_query, seed=TEST_SEED)
    per_episode = []
    learner.eval()
    try:
        for index in range(count):
            episode = sampler.sample().to(learner.device)
            with reseeded(learner.generator, derive_seed(TEST_SEED, f"episode-{index}")):
                adaptation = learner.adapt(episode)
            curve = adaptation.find(InnerStepCurve)
            if curve is None:
                raise ValueError(f"{learner.name} records no inner-step curve")
            values = (
                curve.query_accuracies if curve.query_accuracies is not None else curve.query_losses
            )
            per_episode.append(list(values)[: steps + 1])
    finally:
        learner.hparams = original
        learner.train()
    values = np.asarray(per_episode, dtype=np.float64)  # (episodes, steps + 1)
    return [
        {"steps": s, "mean": float(values[:, s].mean()), "ci95": mean_ci95(values[:, s])[1]}
        for s in range(values.shape[1])
    ]


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
    scores = episode_scores(learner, test_source, n_way, k_shot, q_query, plan.test_episodes)
    mean, ci95 = mean_ci95(scores)
    extra = plan.extra_episodes
    per_shot = [
        _shape_row(learner, test_source, n_way, shot, q_query, extra) for shot in plan.test_shots
    ]
    per_way = []
    if trainer.task_kind == "classification":
        per_way = [
            _shape_row(learner, test_source, way, k_shot, q_query, extra) for way in plan.test_ways
        ]
    inner_steps = None
    if config.algo in STEP_LEARNERS:
        inner_steps = inner_step_curve(
            learner, test_source, n_way, k_shot, q_query, extra, plan.test_inner_steps
        )
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
