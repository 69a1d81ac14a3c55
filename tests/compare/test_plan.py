"""ComparisonPlan: one shared config, each learner's recipe, and clear refusals."""

from __future__ import annotations

import pytest

from metalearn_core.compare import ComparisonError, ComparisonPlan
from metalearn_core.engine import ConfigError

from .conftest import BLOBS, SINUSOID, small_plan


def test_every_learner_config_comes_from_the_shared_one(blobs_plan):
    protonet, maml = (blobs_plan.learner_config(a, seed=3) for a in ("protonet", "maml"))
    for config in (protonet, maml):
        assert (config.dataset, config.n_way, config.k_shot, config.q_query) == ("blobs", 3, 2, 3)
        assert (config.seed, config.episodes, config.minutes) == (3, 16, None)
    assert (protonet.algo, maml.algo) == ("protonet", "maml")
    # the recipes (engine/recipes.py) are applied: a cosine over the budget
    assert protonet.lr_schedule == maml.lr_schedule == "cosine"
    assert maml.hparams["meta_batch"] == 4 and protonet.hparams["outer_lr"] == 3e-3


def test_validation_at_the_same_episode_counts_whatever_the_meta_batch(blobs_plan):
    # validate_every=8 episodes: ProtoNet (1 episode per step) every 8 steps, MAML (4) every 2
    assert blobs_plan.learner_config("protonet").val_every == 8
    assert blobs_plan.learner_config("maml").val_every == 2


def test_user_hyperparameters_win_over_the_recipe():
    plan = small_plan(hparams={"maml": {"meta_batch": 2}})
    assert plan.learner_config("maml").hparams["meta_batch"] == 2
    plain = small_plan(use_recipes=False)
    assert plain.learner_config("maml").lr_schedule == "constant"
    assert "meta_batch" not in plain.learner_config("maml").hparams


def test_seconds_budget_becomes_minutes():
    plan = small_plan(episodes=None, seconds=30)
    assert plan.learner_config("protonet").minutes == 0.5


def test_metric_follows_the_task_kind(blobs_plan):
    assert blobs_plan.metric == "accuracy"
    assert small_plan(("maml", "cnp"), SINUSOID).metric == "mse"


@pytest.mark.parametrize(
    ("algos", "message"),
    [
        (("protonet",), "2 to 4 learners, got 1"),
        (("protonet", "maml", "fomaml", "reptile", "matchingnet"), "2 to 4 learners, got 5"),
        (("protonet", "cnp"), "different task kinds.*protonet learns classification.*cnp"),
        (("protonet", "protonet"), "each learner once"),
        (("protonet", "nosuch"), "unknown learner.*'nosuch'"),
    ],
)
def test_refuses_bad_learner_sets(algos, message):
    with pytest.raises(ComparisonError, match=message):
        small_plan(algos)


def test_refuses_learners_the_data_set_cannot_feed():
    with pytest.raises(ComparisonError, match="sinusoid is a regression data set; protonet"):
        small_plan(("protonet", "maml"), SINUSOID)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({"episodes": 0}, "episodes=0 is invalid: the budget must be"),
        ({"episodes": None, "seconds": 0}, "seconds=0 is invalid: the budget must be > 0"),
        ({"episodes": None, "seconds": float("nan")}, "seconds=nan is invalid"),
        ({"episodes": None}, "give one budget"),
        ({"episodes": 5, "seconds": 5}, "give one budget"),
        ({"episodes": 10**9}, "1..1000000"),
    ],
)
def test_refuses_bad_budgets(budget, message):
    with pytest.raises(ComparisonError, match=message):
        small_plan(**budget)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"test_episodes": 0}, "test_episodes: 0 is invalid"),
        ({"test_shots": (0,)}, "test_shots: 0 is invalid"),
        ({"test_ways": (1,)}, "test_ways: 1 is invalid: must be a whole number in 2..100"),
        ({"seeds": ()}, "seeds: give 1 to 10"),
        ({"seeds": (1, 1)}, "seeds repeat"),
        ({"hparams": {"reptile": {}}}, "hyperparameters for reptile, not compared"),
    ],
)
def test_refuses_bad_scoring(changes, message):
    with pytest.raises(ComparisonError, match=message):
        small_plan(**changes)


def test_a_bad_hyperparameter_is_the_config_error():
    with pytest.raises(ConfigError, match="hparams.inner_lr"):
        small_plan(hparams={"protonet": {"inner_lr": 0.1}})


def test_round_trip_through_a_dict(blobs_plan):
    assert ComparisonPlan.from_dict(blobs_plan.to_dict()) == blobs_plan
    with pytest.raises(ComparisonError, match="not a comparison plan"):
        ComparisonPlan.from_dict({"algos": ["protonet", "maml"]})


def test_base_must_be_a_run_config():
    with pytest.raises(ComparisonError, match="base must be a RunConfig"):
        ComparisonPlan(("protonet", "maml"), BLOBS.to_dict(), episodes=5)
