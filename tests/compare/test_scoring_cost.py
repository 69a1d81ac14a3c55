"""Cheaper scoring gives the same numbers: step learners record only the steps read, the
inner-step sweep is read off the main score, the main shape's extra points off its episodes."""

from __future__ import annotations

import dataclasses

import pytest

from metalearn_core.algorithms.internals import InnerStepCurve
from metalearn_core.compare.runner import run_cell
from metalearn_core.compare.scoring import (
    episode_scores,
    inner_step_curve,
    recorded_steps,
)
from metalearn_core.data.episodes import EpisodeSampler
from metalearn_core.engine import Trainer

from .conftest import BLOBS, small_plan


@pytest.fixture(params=["maml", "fomaml", "reptile"])
def step_trainer(request) -> Trainer:
    trainer = Trainer(BLOBS.replace(algo=request.param, episodes=8))
    trainer.run_tick(max_iterations=2, max_seconds=30)
    return trainer


def test_a_shorter_recorded_curve_keeps_the_score(step_trainer):
    learner = step_trainer.learner
    learner.hparams = dataclasses.replace(learner.hparams, inner_steps_test=6)
    episode = EpisodeSampler(step_trainer.source("test"), 3, 2, 3, seed=4).sample()
    full = learner.adapt(episode)
    for steps in (0, 2):
        with recorded_steps(learner, steps):
            short = learner.adapt(episode)
        assert short.query_loss == full.query_loss
        assert short.query_accuracy == full.query_accuracy
        assert short.query_prediction.equal(full.query_prediction)
        curve, full_curve = short.find(InnerStepCurve), full.find(InnerStepCurve)
        assert len(full_curve.query_losses) == 7
        assert curve.query_accuracies == full_curve.query_accuracies[: steps + 1]
        assert curve.support_losses == full_curve.support_losses[: steps + 1]
    assert learner.recorded_steps is None  # put back


def test_a_probe_needs_the_whole_curve(step_trainer):
    learner = step_trainer.learner
    episode = EpisodeSampler(step_trainer.source("test"), 3, 2, 3, seed=4).sample()
    with recorded_steps(learner, 1), pytest.raises(ValueError, match="probe"):
        learner.adapt(episode, probe_x=episode.query_x)


@pytest.mark.parametrize("algo", ["maml", "reptile"])
def test_sweep_read_off_the_main_score_equals_separate_adaptations(algo):
    # 5 test-time steps cover the sweep's 0..3
    plan = small_plan(("protonet", algo), hparams={algo: {"inner_steps_test": 5}})
    cell = run_cell(plan.to_dict(), algo, 0)
    assert len(cell["inner_steps"]) == plan.test_inner_steps + 1
    trainer = Trainer(plan.learner_config(algo, 0))
    while trainer.episodes_seen < plan.episodes:
        trainer.run_tick(max_iterations=1, max_seconds=30)
    source = trainer.source("test")
    base = plan.base
    separate = inner_step_curve(
        trainer.learner, source, base.n_way, base.k_shot, base.q_query,
        plan.extra_episodes, plan.test_inner_steps,
    )  # fmt: skip
    assert [row["mean"] for row in cell["inner_steps"]] == [row["mean"] for row in separate]
    assert [row["ci95"] for row in cell["inner_steps"]] == [row["ci95"] for row in separate]


def test_a_learner_with_fewer_test_steps_gets_a_separate_sweep():
    plan = small_plan(("protonet", "maml"), hparams={"maml": {"inner_steps_test": 1}})
    cell = run_cell(plan.to_dict(), "maml", 0)
    # scored after its own 1 step, swept to 3 on the extra episodes
    assert [row["steps"] for row in cell["inner_steps"]] == [0, 1, 2, 3]


def test_the_main_shape_extra_points_are_the_main_scores_first_episodes():
    plan = small_plan(("protonet", "reptile"), test_shots=(1, 2), test_ways=(3, 4))
    cell = run_cell(plan.to_dict(), "reptile", 0)
    shots = {row["k_shot"]: row for row in cell["per_shot"]}
    ways = {row["n_way"]: row for row in cell["per_way"]}
    assert shots[2] == ways[3]  # the main shape, read off the main score
    trainer = Trainer(plan.learner_config("reptile", 0))
    while trainer.episodes_seen < plan.episodes:
        trainer.run_tick(max_iterations=1, max_seconds=30)
    base = plan.base
    rerun = episode_scores(
        trainer.learner, trainer.source("test"), base.n_way, base.k_shot, base.q_query,
        plan.extra_episodes,
    )  # fmt: skip
    assert shots[2]["mean"] == pytest.approx(rerun.mean(), abs=0)
    assert cell["episode_scores"][: plan.extra_episodes] == rerun.tolist()
    assert shots[1]["mean"] is not None and ways[4]["mean"] is not None
