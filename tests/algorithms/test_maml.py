"""MAML and first-order MAML: meta-gradients against an independent loop and finite
differences, the first-order rule, adaptation to other N, sinusoid learning, statelessness."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from metalearn_core.algorithms import make_learner
from metalearn_core.algorithms.internals import InnerStepCurve, RegressionFit
from metalearn_core.algorithms.maml import MAML, MAMLHyperparameters
from metalearn_core.data.episodes import EpisodeSampler
from metalearn_core.spec import ProblemSpec

SINE = ProblemSpec("regression", (1,), n_way=1, backbone="mlp")


def flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.flatten() for g in grads.values()])


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


def float64_learner(name: str, spec: ProblemSpec, **hparams) -> MAML:
    learner = make_learner(name, spec, hparams, seed=0)
    learner.net.double()
    return learner


def directional_finite_difference(learner: MAML, batch, direction, eps: float = 1e-6) -> float:
    """(L(theta + eps v) - L(theta - eps v)) / (2 eps), the meta-loss recomputed from scratch."""
    params = list(learner.net.parameters())
    with torch.no_grad():
        for p, v in zip(params, direction, strict=True):
            p.add_(eps * v)
    plus = learner.meta_loss(batch, "loop").item()
    with torch.no_grad():
        for p, v in zip(params, direction, strict=True):
            p.sub_(2 * eps * v)
    minus = learner.meta_loss(batch, "loop").item()
    with torch.no_grad():
        for p, v in zip(params, direction, strict=True):
            p.add_(eps * v)
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_second_order_meta_gradient_vmap_equals_loop_equals_finite_differences(task, tiny):
    if task == "regression":
        spec, batch, inner_lr = SINE, tiny.sinusoid_batch(4, dtype=torch.float64), 0.01
    else:
        spec = ProblemSpec("classification", (1, 4, 4), n_way=3, backbone="mlp", width=12)
        source = tiny.image_source(size=4, dtype=torch.float64)
        batch, inner_lr = EpisodeSampler(source, 3, 2, 2, seed=0).sample_batch(3), 0.1
    # eps must not step across a ReLU kink: small steps and a modest inner_lr keep it smooth
    learner = float64_learner("maml", spec, inner_steps=2, inner_lr=inner_lr)
    vmapped = flat(learner.meta_gradients(batch, "vmap"))
    looped = flat(learner.meta_gradients(batch, "loop"))
    assert relative_error(vmapped, looped) < 1e-4
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        direction = [
            torch.randn(p.shape, generator=g, dtype=p.dtype) for p in learner.net.parameters()
        ]
        analytic = (looped * torch.cat([v.flatten() for v in direction])).sum().item()
        numeric = directional_finite_difference(learner, batch, direction)
        assert abs(numeric - analytic) <= 1e-4 * abs(analytic)


@pytest.mark.parametrize("first_order", [False, True])
def test_conv4_with_batch_statistics_vmap_equals_loop(first_order, tiny):
    # The native batch-norm kernel gives a wrong vmapped second-order gradient; this
    # test fails if the Conv4 goes back to it.
    spec = ProblemSpec("classification", (1, 8, 8), n_way=3, width=4)
    batch = EpisodeSampler(tiny.image_source(dtype=torch.float64), 3, 2, 2, seed=1).sample_batch(2)
    learner = float64_learner("maml", spec, inner_steps=2, first_order=first_order)
    vmapped = flat(learner.meta_gradients(batch, "vmap"))
    looped = flat(learner.meta_gradients(batch, "loop"))
    assert relative_error(vmapped, looped) < 1e-4


def first_order_oracle(learner: MAML, batch, inner_lr: float, steps: int) -> torch.Tensor:
    """Mean over tasks of grad_phi L_Q(phi) at phi = k SGD steps, all by hand (regression net)."""
    net = learner.net
    total = None
    for episode in batch.episodes():
        phi = {n: p.detach().clone().requires_grad_(True) for n, p in net.named_parameters()}
        for _ in range(steps):
            prediction = functional_call(
                net["head"],
                {"weight": phi["head.weight"], "bias": phi["head.bias"]},
                (
                    functional_call(
                        net["body"],
                        {n[5:]: v for n, v in phi.items() if n.startswith("body.")},
                        (episode.support_x,),
                    ),
                ),
            )
            loss = ((prediction - episode.support_y) ** 2).mean()
            grads = torch.autograd.grad(loss, list(phi.values()))
            phi = {
                n: (v - inner_lr * g).detach().requires_grad_(True)
                for (n, v), g in zip(phi.items(), grads, strict=True)
            }
        features = functional_call(
            net["body"],
            {n[5:]: v for n, v in phi.items() if n.startswith("body.")},
            (episode.query_x,),
        )
        prediction = features @ phi["head.weight"].T + phi["head.bias"]
        loss = ((prediction - episode.query_y) ** 2).mean()
        grads = flat(dict(zip(phi, torch.autograd.grad(loss, list(phi.values())), strict=True)))
        total = grads if total is None else total + grads
    return total / len(batch)


def test_first_order_is_maml_without_second_order_terms_and_differs_where_they_matter(tiny):
    batch = tiny.sinusoid_batch(3, dtype=torch.float64)
    fomaml = float64_learner("fomaml", SINE, inner_steps=2, inner_lr=0.05)
    assert fomaml.hparams.first_order
    oracle = first_order_oracle(fomaml, batch, inner_lr=0.05, steps=2)
    for strategy in ("vmap", "loop"):
        assert relative_error(flat(fomaml.meta_gradients(batch, strategy)), oracle) < 1e-6
    maml = float64_learner("maml", SINE, inner_steps=2, inner_lr=0.05)
    second_order = flat(maml.meta_gradients(batch, "loop"))
    # Same weights (same seed): only the Hessian terms tell the two apart.
    assert relative_error(oracle, second_order) > 1e-2


def test_meta_train_step_moves_the_loss_and_reports_timing(tiny):
    learner = make_learner("maml", SINE, {"outer_lr": 3e-3}, seed=0)
    batch = tiny.sinusoid_batch(25)
    before = learner.meta_loss(batch).item()
    result = learner.meta_train_step(batch)
    assert result.episodes == 25 and result.seconds > 0 and result.accuracy is None
    assert result.loss == pytest.approx(before, rel=1e-5)
    assert learner.meta_loss(batch).item() < before


def test_maml_halves_the_sinusoid_mse_after_five_inner_steps(tiny):
    torch.manual_seed(0)  # nothing below should depend on it: everything is seeded
    learner = make_learner("maml", SINE, {"outer_lr": 3e-3, "inner_steps_test": 5}, seed=0)
    for step in range(400):
        learner.meta_train_step(tiny.sinusoid_batch(25, seed=step + 1))
    before, after = [], []
    for episode in tiny.sinusoid_batch(40, seed=10_000, q_query=50).episodes():
        losses = learner.adapt(episode).find(InnerStepCurve).query_losses
        before.append(losses[0])
        after.append(losses[5])
    assert sum(after) <= 0.5 * sum(before)


def test_adapt_records_every_inner_step_and_the_probe_curve(tiny):
    learner = make_learner("maml", SINE, {"inner_steps_test": 4}, seed=0)
    episode = tiny.sinusoid_batch(1).episode(0)
    probe = torch.linspace(-5, 5, 30).unsqueeze(1)
    adaptation = learner.adapt(episode, probe_x=probe)
    curve, fit = adaptation.find(InnerStepCurve), adaptation.find(RegressionFit)
    assert len(curve.query_losses) == len(fit.step_predictions) == 5
    assert curve.query_accuracies is None and adaptation.query_accuracy is None
    assert all(p.shape == (30, 1) for p in fit.step_predictions)
    torch.testing.assert_close(adaptation.probe_prediction, fit.step_predictions[-1])
    torch.testing.assert_close(fit.probe_x, probe)
    # the recorded query loss after step k is the MSE of the returned prediction
    mse = ((adaptation.query_prediction - episode.query_y) ** 2).mean().item()
    assert adaptation.query_loss == pytest.approx(mse, rel=1e-5)
    assert curve.support_losses[-1] < curve.support_losses[0]


@pytest.fixture(scope="module")
def trained_5_way_maml(tiny):
    spec = ProblemSpec("classification", (1, 8, 8), n_way=5, width=8)
    learner = make_learner("maml", spec, {"meta_batch": 4, "inner_lr": 0.4}, seed=0)
    sampler = EpisodeSampler(tiny.image_source(num_classes=12), 5, 1, 3, seed=0)
    for _ in range(15):
        learner.meta_train_step(sampler.sample_batch(4))
    return learner


@pytest.mark.parametrize("n_way", [3, 10])
def test_trained_5_way_maml_adapts_to_other_n(trained_5_way_maml, n_way, tiny):
    sampler = EpisodeSampler(tiny.image_source(num_classes=12), n_way, 2, 3, seed=5)
    accuracies = []
    for _ in range(10):
        adaptation = trained_5_way_maml.adapt(sampler.sample())
        assert adaptation.query_prediction.shape == (n_way * 3, n_way)
        # step 0: the zero head predicts uniformly, argmax is class 0, accuracy exactly 1/N
        assert adaptation.find(InnerStepCurve).query_accuracies[0] == pytest.approx(1 / n_way)
        accuracies.append(adaptation.query_accuracy)
    assert sum(accuracies) / len(accuracies) > 1.5 / n_way  # well above chance


def test_adapt_keeps_no_state_between_episodes(trained_5_way_maml, tiny):
    sampler = EpisodeSampler(tiny.image_source(), 5, 1, 3, seed=9)
    episode_a, episode_b = sampler.sample(), sampler.sample()
    weights = [p.detach().clone() for p in trained_5_way_maml.net.parameters()]
    alone = trained_5_way_maml.adapt(episode_b)
    trained_5_way_maml.adapt(episode_a)
    after_a = trained_5_way_maml.adapt(episode_b)
    torch.testing.assert_close(after_a.query_prediction, alone.query_prediction, rtol=0, atol=0)
    for before, p in zip(weights, trained_5_way_maml.net.parameters(), strict=True):
        assert torch.equal(before, p)


def test_state_dict_round_trip_gives_the_same_learner(tiny):
    batch = tiny.sinusoid_batch(5)
    first = make_learner("maml", SINE, {"meta_batch": 5}, seed=0)
    first.meta_train_step(batch)
    second = make_learner("maml", SINE, {"meta_batch": 5}, seed=1)
    second.load_state_dict(first.state_dict())
    next_batch = tiny.sinusoid_batch(5, seed=1)
    assert first.meta_train_step(next_batch).loss == second.meta_train_step(next_batch).loss
    for a, b in zip(first.net.parameters(), second.net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_auto_strategy_is_vmap_for_the_mlp_and_loop_for_conv_on_cpu():
    assert make_learner("maml", SINE).resolved_strategy() == "vmap"
    conv = make_learner("maml", ProblemSpec("classification", (1, 8, 8), 5, width=4))
    assert conv.resolved_strategy() == "loop"


def test_regression_and_classification_defaults_follow_the_paper():
    assert make_learner("maml", SINE).hparams.inner_lr == 0.01
    assert make_learner("maml", SINE).hparams.meta_batch == 25
    assert make_learner("maml", SINE).hparams.inner_steps_test == 10
    conv = make_learner("maml", ProblemSpec("classification", (1, 8, 8), 5, width=4))
    # Test steps: 1, not the paper's 3 (the zero head; see MAMLHyperparameters).
    assert (conv.hparams.inner_lr, conv.hparams.inner_steps, conv.hparams.inner_steps_test) == (
        0.4,
        1,
        1,
    )


def test_the_first_step_from_the_zero_head_moves_only_the_head(tiny):
    """Why classification tests with as many steps as it trains with: see the hparams."""
    learner = make_learner("maml", ProblemSpec("classification", (1, 8, 8), 3, width=4), seed=0)
    episode = EpisodeSampler(tiny.image_source(), 3, 2, 2, seed=0).sample()
    start = {
        name: weight.detach().requires_grad_()
        for name, weight in learner._task_weights(learner._meta_parameters(), 3).items()
    }
    loss = learner._loss(start, episode.support_x, episode.support_y)
    grads = torch.autograd.grad(loss, list(start.values()))
    moved = {name for name, grad in zip(start, grads, strict=True) if grad.abs().max() > 0}
    assert moved == {"head.weight", "head.bias"}


def every_weight_meta_gradient(learner: MAML, batch, steps: int) -> torch.Tensor:
    """The textbook computation: each inner step differentiates every weight, twice."""
    params = learner._meta_parameters()
    total = 0
    for episode in batch.episodes():
        phi = learner._task_weights(params, batch.n_way)
        phi = {name: w if w.requires_grad else w.requires_grad_() for name, w in phi.items()}
        for _ in range(steps):
            loss = learner._loss(phi, episode.support_x, episode.support_y)
            grads = torch.autograd.grad(loss, list(phi.values()), create_graph=True)
            phi = {
                name: w - learner.hparams.inner_lr * g
                for (name, w), g in zip(phi.items(), grads, strict=True)
            }
        total = total + learner._loss(phi, episode.query_x, episode.query_y) / len(batch)
    return flat(dict(zip(params, torch.autograd.grad(total, list(params.values())), strict=True)))


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_the_head_only_first_step_gives_the_textbook_meta_gradient(steps, tiny):
    spec = ProblemSpec("classification", (1, 8, 8), n_way=3, width=4)
    batch = EpisodeSampler(tiny.image_source(dtype=torch.float64), 3, 2, 2, seed=2).sample_batch(2)
    learner = float64_learner("maml", spec, inner_steps=steps, inner_lr=0.2)
    oracle = every_weight_meta_gradient(learner, batch, steps)
    for strategy in ("vmap", "loop"):
        assert relative_error(flat(learner.meta_gradients(batch, strategy)), oracle) < 1e-10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"inner_lr": 0.0}, "inner_lr"),
        ({"inner_steps": 0}, "inner_steps"),
        ({"inner_steps": 1.5}, "inner_steps"),
        ({"strategy": "fast"}, "strategy"),
        ({"meta_batch": -1}, "meta_batch"),
    ],
)
def test_bad_hyperparameters_raise(changes, message):
    with pytest.raises(ValueError, match=message):
        MAMLHyperparameters(**changes)
