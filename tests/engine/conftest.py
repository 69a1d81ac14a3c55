"""Small, fast runs shared by the engine tests: blobs + ProtoNet, sinusoid + MAML."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.engine import RunConfig, Trainer


def draw_from_global_rng(trainer: Trainer) -> Trainer:
    """Make the learner's step use the global torch RNG (as dropout would): the loss it
    reports gets a random term, so it depends on which random stream the step sees."""
    original = trainer.learner.meta_train_step

    def noisy_step(batch):
        result = original(batch)
        result.loss += float(torch.rand(()))
        return result

    trainer.learner.meta_train_step = noisy_step
    return trainer


@pytest.fixture
def noisy():
    return draw_from_global_rng


@pytest.fixture
def blobs_config() -> RunConfig:
    return RunConfig(
        dataset="blobs",
        algo="protonet",
        n_way=3,
        k_shot=2,
        q_query=3,
        width=16,
        seed=7,
        val_every=3,
        val_episodes=4,
        history_limit=10,
    )


@pytest.fixture
def sinusoid_config() -> RunConfig:
    return RunConfig(
        dataset="sinusoid",
        algo="maml",
        n_way=1,
        k_shot=5,
        q_query=5,
        width=16,
        seed=3,
        hparams={"meta_batch": 2, "inner_steps_test": 2},
        val_every=2,
        val_episodes=3,
    )
