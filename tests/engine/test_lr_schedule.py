"""The learning-rate schedule: a cosine over the run's budget, resumable, or constant."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_core.engine import ConfigError, RunConfig, Trainer


def _rates(trainer: Trainer) -> list[float]:
    return [group["lr"] for group in trainer.learner.optimizer.param_groups]


def test_cosine_needs_a_budget(blobs_config):
    with pytest.raises(ConfigError, match="lr_schedule.*give episodes or minutes"):
        blobs_config.replace(lr_schedule="cosine")
    with pytest.raises(
        ConfigError, match="lr_schedule='linear' is invalid: must be one of 'constant', 'cosine'"
    ):
        blobs_config.replace(lr_schedule="linear", episodes=10)


def test_cosine_follows_the_episode_budget(blobs_config):
    config = blobs_config.replace(
        lr_schedule="cosine", episodes=8, hparams={"outer_lr": 0.01, "lr_halve_every": 0}
    )
    trainer = Trainer(config)
    seen = []
    for _ in range(8):  # meta_batch 1: one episode per step
        trainer.step()
        seen.append(_rates(trainer)[0])
    # the rate used by step s (0-based) is 0.01 * 0.5 (1 + cos(pi s / 8))
    expected = [0.01 * 0.5 * (1 + math.cos(math.pi * s / 8)) for s in range(8)]
    assert seen == pytest.approx(expected)
    assert trainer.learning_rate_factor() == pytest.approx(0.0)


def test_constant_schedule_leaves_the_rate_alone(blobs_config):
    trainer = Trainer(blobs_config.replace(episodes=8, hparams={"lr_halve_every": 0}))
    trainer.run_tick(max_iterations=5)
    assert _rates(trainer) == [trainer.learner.hparams.outer_lr]


def test_a_resumed_cosine_run_goes_on_as_one_run(blobs_config, tmp_path):
    config = blobs_config.replace(lr_schedule="cosine", episodes=10, val_every=0)
    whole = Trainer(config)
    whole.run_tick(max_iterations=10)
    half = Trainer(config)
    half.run_tick(max_iterations=4)
    half.save(tmp_path / "run")
    resumed = Trainer.load(tmp_path / "run")
    resumed.run_tick(max_iterations=6)
    assert _rates(resumed) == pytest.approx(_rates(whole))
    for name, tensor in whole.learner.state_dict()["model"].items():
        assert torch.equal(tensor, resumed.learner.state_dict()["model"][name]), name


def test_json_round_trip_keeps_the_schedule():
    config = RunConfig(dataset="blobs", algo="protonet", lr_schedule="cosine", minutes=1.0)
    assert RunConfig.from_json(config.to_json()).lr_schedule == "cosine"
