"""Conditional Neural Process: likelihood formula, set invariance, uncertainty, learning."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_core.algorithms.cnp import (
    CNPHyperparameters,
    ConditionalNeuralProcess,
    gaussian_nll,
)
from metalearn_core.algorithms.internals import ContextCodes, RegressionFit
from metalearn_core.data import load_task_source
from metalearn_core.data.episodes import Episode, EpisodeBatch, EpisodeSampler
from metalearn_core.spec import ProblemSpec

SPEC = ProblemSpec("regression", (1,), 1, backbone="mlp")


def sine_episode(generator: torch.Generator, k_shot: int = 10, q_query: int = 10) -> Episode:
    """A sine task y = A sin(x − φ), A ∈ [0.1, 5], φ ∈ [0, π], x ∈ [−5, 5]."""
    amplitude = float(torch.empty(()).uniform_(0.1, 5.0, generator=generator))
    phase = float(torch.empty(()).uniform_(0.0, math.pi, generator=generator))
    x = torch.empty(k_shot + q_query, 1).uniform_(-5.0, 5.0, generator=generator)
    y = amplitude * torch.sin(x - phase)
    return Episode(
        x[:k_shot], y[:k_shot], x[k_shot:], y[k_shot:], 1, k_shot, q_query,
        task_params={"amplitude": amplitude, "phase": phase},
    )  # fmt: skip


def make_cnp(seed: int = 0, **changes) -> ConditionalNeuralProcess:
    torch.manual_seed(seed)
    return ConditionalNeuralProcess(SPEC, CNPHyperparameters(**changes))


def test_gaussian_nll_matches_the_normal_log_density():
    mean = torch.tensor([0.0, 1.0, -2.0])
    std = torch.tensor([1.0, 0.5, 2.0])
    target = torch.tensor([0.3, 1.0, 1.0])
    expected = [
        0.5 * math.log(2 * math.pi * s**2) + (y - m) ** 2 / (2 * s**2)
        for m, s, y in zip(mean.tolist(), std.tolist(), target.tolist(), strict=True)
    ]
    assert gaussian_nll(mean, std, target).tolist() == pytest.approx(expected, abs=1e-6)


def test_training_loss_is_the_gaussian_nll_of_all_targets():
    """The step's gradient must be that of mean −log N over support and query targets."""
    learner = make_cnp()
    batch = EpisodeBatch.stack([sine_episode(torch.Generator().manual_seed(i)) for i in range(3)])
    network = learner.network
    targets_x = torch.cat([batch.support_x, batch.query_x], 1)
    targets_y = torch.cat([batch.support_y, batch.query_y], 1)
    codes = network.encoder(torch.cat([batch.support_x, batch.support_y], -1))  # (B, K, h)
    r = codes.mean(1, keepdim=True).expand(-1, targets_x.shape[1], -1)
    out = network.decoder(torch.cat([targets_x, r], -1))
    mean, raw = out[..., :1], out[..., 1:]
    std = 0.1 + 0.9 * torch.log1p(torch.exp(raw))
    nll = (0.5 * math.log(2 * math.pi) + std.log() + (targets_y - mean) ** 2 / (2 * std**2)).mean()
    expected = torch.autograd.grad(nll, list(network.parameters()))
    before = [p.detach().clone() for p in network.parameters()]
    learner.optimizer = torch.optim.SGD(network.parameters(), lr=1.0)
    learner.meta_train_step(batch)
    for old, new, grad in zip(before, network.parameters(), expected, strict=True):
        torch.testing.assert_close(old - new.detach(), grad, atol=1e-5, rtol=1e-4)


def test_predictions_do_not_depend_on_the_order_of_the_support_set():
    learner = make_cnp()
    episode = sine_episode(torch.Generator().manual_seed(1))
    order = torch.randperm(episode.k_shot, generator=torch.Generator().manual_seed(2))
    shuffled = Episode(
        episode.support_x[order], episode.support_y[order], episode.query_x, episode.query_y,
        1, episode.k_shot, episode.q_query,
    )  # fmt: skip
    probe = torch.linspace(-5, 5, 7).unsqueeze(1)
    a, b = learner.adapt(episode, probe), learner.adapt(shuffled, probe)
    torch.testing.assert_close(a.query_prediction, b.query_prediction)
    torch.testing.assert_close(a.probe_prediction, b.probe_prediction)
    torch.testing.assert_close(a.find(RegressionFit).probe_std, b.find(RegressionFit).probe_std)


def test_representation_is_the_mean_of_the_per_pair_codes():
    learner = make_cnp()
    episode = sine_episode(torch.Generator().manual_seed(3), k_shot=4)
    codes_record = learner.adapt(episode).find(ContextCodes)
    with torch.no_grad():
        codes = [
            learner.network.encoder(torch.cat([x, y])) for x, y in zip(
                episode.support_x, episode.support_y, strict=True
            )
        ]  # fmt: skip
    torch.testing.assert_close(codes_record.representation, sum(codes) / 4)


def test_predictive_std_is_positive_with_shapes_for_probes_and_queries():
    learner = make_cnp(min_std=0.05)
    episode = sine_episode(torch.Generator().manual_seed(4), k_shot=5, q_query=6)
    out = learner.adapt(episode, torch.linspace(-5, 5, 50).unsqueeze(1))
    assert out.probe_prediction.shape == (50, 1)
    assert out.find(RegressionFit).probe_std.shape == (50, 1)
    assert out.query_prediction.shape == (6, 1)
    assert bool((out.find(RegressionFit).probe_std >= 0.05).all())
    assert bool((out.find(ContextCodes).query_std >= 0.05).all())
    mse = float(((out.query_prediction - episode.query_y) ** 2).mean())
    assert out.query_loss == pytest.approx(mse, rel=1e-5)


def test_learns_sine_tasks_and_is_less_sure_far_from_the_support_points():
    """400 steps: query MSE well under predicting zero (E[A²]/2 ≈ 4.2 for A ~ U[0.1, 5])."""
    learner = make_cnp(meta_batch=16, outer_lr=3e-3)
    train = EpisodeSampler(load_task_source("sinusoid", "train", seed=0), 1, 10, 10, seed=0)
    for _ in range(400):
        learner.meta_train_step(train.sample_batch(16))
    learner.eval()
    held_out = EpisodeSampler(load_task_source("sinusoid", "val", seed=0), 1, 10, 10, seed=1)
    episodes = [held_out.sample() for _ in range(50)]
    zero_mse = sum(float((e.query_y**2).mean()) for e in episodes) / 50
    cnp_mse = sum(learner.adapt(e).query_loss for e in episodes) / 50
    assert cnp_mse < 0.5 * zero_mse
    # Support points only in [−5, 0]: the band should be wider over (2, 5] than over them.
    x = torch.linspace(-5, 0, 10).unsqueeze(1)
    left = Episode(x, 2 * torch.sin(x), x, 2 * torch.sin(x), 1, 10, 10)
    std = learner.adapt(left, torch.linspace(-5, 5, 101).unsqueeze(1)).find(RegressionFit).probe_std
    assert float(std[-30:].mean()) > float(std[:50].mean())


def test_state_dict_round_trip_continues_identically():
    first, second = make_cnp(seed=0), make_cnp(seed=1)
    generator = torch.Generator().manual_seed(5)
    batches = [EpisodeBatch.stack([sine_episode(generator) for _ in range(4)]) for _ in range(3)]
    first.meta_train_step(batches[0])
    second.load_state_dict(first.state_dict())  # live tensors: nothing may stay shared
    for batch in batches[1:]:
        assert first.meta_train_step(batch).loss == second.meta_train_step(batch).loss
    probe = torch.zeros(3, 1)
    episode = sine_episode(generator)
    torch.testing.assert_close(
        first.adapt(episode, probe).probe_prediction, second.adapt(episode, probe).probe_prediction
    )


def test_rejects_classification_and_bad_hyperparameters():
    with pytest.raises(ValueError, match="regression"):
        ConditionalNeuralProcess(ProblemSpec("classification", (2,), 5, backbone="mlp"))
    with pytest.raises(ValueError, match="min_std"):
        CNPHyperparameters(min_std=1.5)
    with pytest.raises(ValueError, match="hidden"):
        CNPHyperparameters(hidden=0)
