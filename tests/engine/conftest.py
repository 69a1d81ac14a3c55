"""Small, fast runs shared by the engine tests: blobs + ProtoNet, sinusoid + MAML."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.engine import RunConfig, Trainer


def draw_from_learner_generator(trainer: Trainer) -> Trainer:
    """Make the learner's step draw random numbers (as dropout would), from its own
    generator as the learners' contract asks: the loss it reports gets a random term, so
    it depends on where the run's random stream stands."""
    original = trainer.learner.meta_train_step

    def noisy_step(batch):
        result = original(batch)
        result.loss += float(torch.rand((), generator=trainer.learner.generator))
        return result

    trainer.learner.meta_train_step = noisy_step
    return trainer


@pytest.fixture
def noisy():
    return draw_from_learner_generator


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
