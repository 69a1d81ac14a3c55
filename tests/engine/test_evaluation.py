"""Evaluation protocol: mean and 95% CI over episodes, checked against the formulas."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_core.algorithms.base import Adaptation, MetaLearner, StepResult
from metalearn_core.data import load_task_source
from metalearn_core.data.episodes import EpisodeSampler
from metalearn_core.engine import evaluate, mean_ci95
from metalearn_core.spec import ProblemSpec


class ConstantLearner(MetaLearner):
    """Predicts label 0 (classification) or 0.0 (regression) for every query."""

    name = "constant"
    title = "Constant"
    task_kinds = ("classification", "regression")

    def meta_train_step(self, batch):
        return StepResult(0.0, None, 0.0, len(batch))

    def adapt(self, episode, probe_x=None):
        if self.spec.task_kind == "regression":
            prediction = torch.zeros_like(episode.query_y)
            loss = float(((prediction - episode.query_y) ** 2).mean())
            return Adaptation(prediction, loss, None)
        logits = torch.zeros(len(episode.query_y), episode.n_way)
        logits[:, 0] = 1.0
        accuracy = float((logits.argmax(1) == episode.query_y).float().mean())
        return Adaptation(logits, 1.0, accuracy)

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def test_mean_ci95_formula():
    mean, ci95 = mean_ci95([0.0, 1.0, 1.0, 0.0])
    assert mean == 0.5
    assert ci95 == pytest.approx(1.96 * 0.5 / 2)  # population std 0.5, sqrt(4) = 2
    assert mean_ci95([0.7]) == (0.7, 0.0)
    with pytest.raises(ValueError, match="zero episodes"):
        mean_ci95([])


def test_classification_accuracy_of_always_label_zero_is_one_over_n():
    source = load_task_source("blobs", "test")
    learner = ConstantLearner(ProblemSpec("classification", tuple(source.input_shape), 4))
    result = evaluate(learner, source, n_way=4, k_shot=1, q_query=3, episodes=25, seed=1)
    assert result.accuracy == pytest.approx(0.25)  # one query class in four, every episode
    assert result.ci95 == pytest.approx(0.0, abs=1e-12)
    assert (result.episodes, result.n_way, result.k_shot, result.q_query) == (25, 4, 1, 3)
    assert result.mse is None and result.split == "test"


def test_regression_reports_mse_and_its_ci():
    source = load_task_source("sinusoid", "test")
    learner = ConstantLearner(ProblemSpec("regression", tuple(source.input_shape), 1))
    result = evaluate(learner, source, n_way=1, k_shot=5, q_query=4, episodes=30, seed=2)
    # the same episodes, drawn again: MSE of predicting 0 is the mean of y^2
    sampler = EpisodeSampler(source, 1, 5, 4, seed=2)
    per_episode = [float((sampler.sample().query_y ** 2).mean()) for _ in range(30)]
    mean = sum(per_episode) / 30
    std = math.sqrt(sum((v - mean) ** 2 for v in per_episode) / 30)
    assert result.accuracy is None
    assert result.mse == pytest.approx(mean, rel=1e-6)
    assert result.ci95 == pytest.approx(1.96 * std / math.sqrt(30), rel=1e-6)


def test_mismatched_input_shape_is_refused():
    source = load_task_source("blobs", "test")
    learner = ConstantLearner(ProblemSpec("classification", (1, 28, 28), 5))
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(1, 28, 28\)"):
        evaluate(learner, source, n_way=5, k_shot=1, q_query=1, episodes=1)


def test_episodes_must_be_positive():
    source = load_task_source("blobs", "test")
    learner = ConstantLearner(ProblemSpec("classification", tuple(source.input_shape), 5))
    with pytest.raises(ValueError, match="episodes must be a positive integer, got 0"):
        evaluate(learner, source, n_way=5, k_shot=1, q_query=1, episodes=0)


def test_evaluate_takes_a_learner_and_says_so_when_given_a_trainer():
    from metalearn_core.engine import RunConfig, Trainer

    trainer = Trainer(RunConfig(dataset="blobs", algo="protonet", n_way=2, k_shot=1, q_query=1))
    with pytest.raises(ValueError, match=r"takes a MetaLearner .*trainer\.learner.*Trainer"):
        evaluate(trainer, trainer.source("test"), n_way=2, k_shot=1, q_query=1, episodes=1)
    result = evaluate(trainer.learner, trainer.source("test"), 2, 1, 1, episodes=3)
    assert result.episodes == 3 and 0.0 <= result.accuracy <= 1.0
