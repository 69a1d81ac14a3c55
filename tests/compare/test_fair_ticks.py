"""Live ticks share time equally even when one learner's step is longer than its share."""

from __future__ import annotations

import pytest

from metalearn_core.compare import Comparison

from .conftest import small_plan


def timed_steps(trainer, step_seconds: float, calls: list):
    """Replace ``trainer.run_tick`` by steps of ``step_seconds`` (no real training): it
    runs whole steps until ``max_seconds`` is used, at least one, as the trainer does."""

    def run_tick(max_iterations=None, max_seconds=None, **_):
        calls.append(max_seconds)
        used = step_seconds
        while used < max_seconds:
            used += step_seconds
        trainer.elapsed_seconds += used

    trainer.run_tick = run_tick


def test_a_learner_with_long_steps_sits_out_the_ticks_it_owes():
    comparison = Comparison(small_plan(("protonet", "maml"), episodes=20_000))
    protonet, maml = comparison.trainers["protonet"], comparison.trainers["maml"]
    calls = {"protonet": [], "maml": []}
    timed_steps(protonet, 0.025, calls["protonet"])
    timed_steps(maml, 0.27, calls["maml"])  # MAML's meta-batch of 4 against a 0.075 s share
    for _ in range(200):
        comparison.tick(0.15)
    # equal time within one long step, where equal shares per tick gave ProtoNet 0.075 s
    # for every 0.27 s of MAML's
    assert protonet.elapsed_seconds == pytest.approx(maml.elapsed_seconds, abs=0.3)
    assert len(calls["maml"]) < len(calls["protonet"]) / 3  # MAML ran in about 1 tick of 4
    assert max(calls["protonet"]) == pytest.approx(0.075)  # no bank: never more than a share


def test_when_every_learner_owes_the_tick_still_trains():
    comparison = Comparison(small_plan(("protonet", "maml"), episodes=20_000))
    calls = {"protonet": [], "maml": []}
    timed_steps(comparison.trainers["protonet"], 0.5, calls["protonet"])
    timed_steps(comparison.trainers["maml"], 0.5, calls["maml"])
    for _ in range(10):
        comparison.tick(0.1)
    assert len(calls["protonet"]) + len(calls["maml"]) >= 10  # no tick went by idle


def test_an_episode_budget_gives_the_same_numbers_whatever_the_ticks():
    plan = small_plan(("protonet", "maml"))
    fine, coarse = Comparison(plan), Comparison(plan)
    fine.run(tick_seconds=0.005)
    coarse.run(tick_seconds=5.0)
    for algo in plan.algos:
        assert fine.trainers[algo].episodes_seen == coarse.trainers[algo].episodes_seen == 16
        fine_loss = fine.trainers[algo].history.train_arrays()["loss"]
        assert fine_loss.tolist() == coarse.trainers[algo].history.train_arrays()["loss"].tolist()
