"""Reptile: one outer step is exactly epsilon * (mean phi - theta); adaptation records."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from metalearn_core.algorithms import make_learner
from metalearn_core.algorithms.internals import InnerStepCurve, RegressionFit
from metalearn_core.algorithms.reptile import ReptileHyperparameters
from metalearn_core.data import EpisodeSampler
from metalearn_core.spec import ProblemSpec

SINE = ProblemSpec("regression", (1,), n_way=1, backbone="mlp")


def sgd_by_hand(net, episode, inner_lr: float, steps: int) -> dict[str, torch.Tensor]:
    """phi: ``steps`` plain gradient steps on the support MSE, written out independently."""
    phi = {n: p.detach().clone().requires_grad_(True) for n, p in net.named_parameters()}
    for _ in range(steps):
        body = {n[5:]: v for n, v in phi.items() if n.startswith("body.")}
        features = functional_call(net["body"], body, (episode.support_x,))
        prediction = features @ phi["head.weight"].T + phi["head.bias"]
        loss = ((prediction - episode.support_y) ** 2).mean()
        grads = torch.autograd.grad(loss, list(phi.values()))
        phi = {
            n: (v - inner_lr * g).detach().requires_grad_(True)
            for (n, v), g in zip(phi.items(), grads, strict=True)
        }
    return {n: v.detach() for n, v in phi.items()}


def test_one_outer_step_moves_theta_by_epsilon_times_phi_minus_theta(tiny):
    hparams = {"inner_optimizer": "sgd", "inner_lr": 0.02, "inner_steps": 3, "epsilon": 0.25}
    learner = make_learner("reptile", SINE, hparams, seed=0)
    batch = tiny.sinusoid_batch(3)
    theta = {n: p.detach().clone() for n, p in learner.net.named_parameters()}
    phis = [sgd_by_hand(learner.net, e, 0.02, 3) for e in batch.episodes()]
    learner.meta_train_step(batch)
    for name, p in learner.net.named_parameters():
        mean_phi = sum(phi[name] for phi in phis) / len(phis)
        expected = theta[name] + 0.25 * (mean_phi - theta[name])
        torch.testing.assert_close(p.detach(), expected, rtol=1e-5, atol=1e-6)
        assert not torch.equal(p.detach(), theta[name])


def test_adapt_records_losses_and_probe_curves_and_keeps_theta(tiny):
    learner = make_learner("reptile", SINE, {"inner_steps_test": 6}, seed=0)
    episode = tiny.sinusoid_batch(1).episode(0)
    theta = [p.detach().clone() for p in learner.net.parameters()]
    adaptation = learner.adapt(episode, probe_x=torch.linspace(-5, 5, 11).unsqueeze(1))
    curve, fit = adaptation.find(InnerStepCurve), adaptation.find(RegressionFit)
    assert len(curve.query_losses) == len(fit.step_predictions) == len(curve.support_losses) == 7
    assert curve.support_losses[-1] < curve.support_losses[0]
    assert adaptation.probe_prediction.shape == (11, 1)
    mse = ((adaptation.query_prediction - episode.query_y) ** 2).mean().item()
    assert adaptation.query_loss == pytest.approx(mse, rel=1e-5)
    for before, p in zip(theta, learner.net.parameters(), strict=True):
        assert torch.equal(before, p)


def test_classification_adapts_to_any_n_with_adam_inner_loop(tiny):
    spec = ProblemSpec("classification", (1, 8, 8), n_way=5, width=8)
    learner = make_learner("reptile", spec, {"inner_steps_test": 10, "inner_lr": 1e-2}, seed=0)
    sampler = EpisodeSampler(tiny.image_source(), 5, 1, 2, seed=0)
    learner.meta_train_step(sampler.sample_batch(2))
    for n_way in (3, 7):
        episode = EpisodeSampler(tiny.image_source(), n_way, 2, 3, seed=n_way).sample()
        adaptation = learner.adapt(episode)
        assert adaptation.query_prediction.shape == (3 * n_way, n_way)
        accuracies = adaptation.find(InnerStepCurve).query_accuracies
        assert accuracies[0] == pytest.approx(1 / n_way)  # zero head: uniform logits
        assert accuracies[-1] > accuracies[0]


def test_adam_outer_optimiser_uses_outer_lr_and_round_trips(tiny):
    learner = make_learner("reptile", SINE, {"outer_optimizer": "adam", "outer_lr": 1e-3}, seed=0)
    assert isinstance(learner.optimizer, torch.optim.Adam)
    assert learner.optimizer.param_groups[0]["lr"] == 1e-3
    learner.meta_train_step(tiny.sinusoid_batch(2))
    copy = make_learner("reptile", SINE, {"outer_optimizer": "adam", "outer_lr": 1e-3}, seed=4)
    copy.load_state_dict(learner.state_dict())
    batch = tiny.sinusoid_batch(2, seed=7)
    copy.meta_train_step(batch)
    learner.meta_train_step(batch)
    for a, b in zip(copy.net.parameters(), learner.net.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"epsilon": 0}, "epsilon"), ({"inner_optimizer": "rmsprop"}, "inner_optimizer")],
)
def test_bad_hyperparameters_raise(changes, message):
    with pytest.raises(ValueError, match=message):
        ReptileHyperparameters(**changes)
