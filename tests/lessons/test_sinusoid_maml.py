"""The sinusoid lessons' math, checked against the formulas (not against the code's own output)."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.lessons import sinusoid_maml as sm


@pytest.fixture
def task() -> sm.SineTask:
    return sm.sample_task(torch.Generator().manual_seed(7), k_shot=5, q_query=6)


def _double(params: sm.Params) -> sm.Params:
    return {k: v.double() for k, v in params.items()}


def _double_task(task: sm.SineTask) -> sm.SineTask:
    return sm.SineTask(
        task.amplitude, task.phase, task.support_x.double(), task.support_y.double(),
        task.query_x.double(), task.query_y.double(),
    )  # fmt: skip


def test_a_task_is_a_sine_wave_in_the_papers_ranges(task):
    assert 0.1 <= task.amplitude <= 5.0 and 0.0 <= task.phase <= torch.pi
    assert task.support_x.shape == (5, 1) and task.query_x.shape == (6, 1)
    assert torch.allclose(task.support_y, task.amplitude * torch.sin(task.support_x - task.phase))
    assert (task.support_x.abs() <= 5).all()


def test_the_inner_step_moves_the_output_bias_by_alpha_times_its_gradient(task):
    # For the output bias b, dMSE/db = 2 mean(f(x) - y): θ' = θ − α ∇L moves b by −α times that.
    params = sm.init_parameters(0)
    alpha = 0.05
    updated = sm.inner_update(params, task.support_x, task.support_y, alpha)
    residual = (sm.predict(params, task.support_x) - task.support_y).mean()
    assert torch.allclose(updated["b2"], params["b2"] - alpha * 2 * residual, atol=1e-6)
    assert sm.inner_update(params, task.support_x, task.support_y, 0.0)["w1"].equal(params["w1"])


def test_mamls_meta_gradient_is_the_derivative_through_the_inner_step(task):
    # d/dε L_Q(θ_ε − α∇L_S(θ_ε)) at ε = 0, θ_ε = θ + ε v, by central differences in float64.
    params, t, alpha = _double(sm.init_parameters(1)), _double_task(task), 0.05
    grads, _loss = sm.meta_gradient(params, t, "maml", alpha)
    direction = {k: torch.randn(v.shape, generator=torch.Generator().manual_seed(3),
                                dtype=torch.float64) for k, v in params.items()}  # fmt: skip

    def objective(eps: float) -> float:
        moved = {k: params[k] + eps * direction[k] for k in params}
        adapted = sm.inner_update(moved, t.support_x, t.support_y, alpha)
        return sm.mse(adapted, t.query_x, t.query_y).item()

    numeric = (objective(1e-6) - objective(-1e-6)) / 2e-6
    analytic = sum((grads[k] * direction[k]).sum().item() for k in params)
    assert analytic == pytest.approx(numeric, rel=1e-4)


def test_first_order_maml_takes_the_query_gradient_at_the_adapted_weights(task):
    params, alpha = sm.init_parameters(2), 0.05
    grads, loss = sm.meta_gradient(params, task, "fomaml", alpha)
    adapted = {
        k: v.requires_grad_()
        for k, v in sm.inner_update(params, task.support_x, task.support_y, alpha).items()
    }
    expected = torch.autograd.grad(
        sm.mse(adapted, task.query_x, task.query_y), list(adapted.values())
    )
    for key, value in zip(adapted, expected, strict=True):
        assert torch.allclose(grads[key], value, atol=1e-6)
    # with α = 0 the dropped second-order term vanishes: both gradients agree
    maml_zero, _ = sm.meta_gradient(params, task, "maml", 0.0)
    first_zero, _ = sm.meta_gradient(params, task, "fomaml", 0.0)
    assert all(torch.allclose(maml_zero[k], first_zero[k], atol=1e-6) for k in params)
    assert loss == pytest.approx(sm.mse(adapted, task.query_x, task.query_y).item(), rel=1e-6)


def test_reptiles_direction_is_theta_minus_phi(task):
    params, alpha = sm.init_parameters(3), 0.02
    direction, _ = sm.meta_gradient(params, task, "reptile", alpha, inner_steps=1)
    x = torch.cat([task.support_x, task.query_x])
    y = torch.cat([task.support_y, task.query_y])
    phi = sm.inner_update(params, x, y, alpha)  # one SGD step: θ − φ = α ∇L(θ)
    assert all(torch.allclose(direction[k], params[k] - phi[k], atol=1e-7) for k in params)


def test_meta_training_lowers_the_query_loss_after_adaptation():
    params, losses = sm.meta_train("maml", 40, seed=0, meta_batch=3)
    start = sm.init_parameters(0)
    tasks = [sm.sample_task(torch.Generator().manual_seed(100 + i)) for i in range(8)]

    def after_adapting(theta: sm.Params) -> float:
        return sum(
            sm.mse(sm.adapt(theta, t.support_x, t.support_y, 0.01, 1)[-1], t.query_x, t.query_y)
            for t in tasks
        ).item()

    assert len(losses) == 40
    assert after_adapting(params) < after_adapting(start)


def test_the_methods_see_the_same_tasks_from_the_same_start():
    maml, _ = sm.meta_train("maml", 0, seed=4)
    reptile, _ = sm.meta_train("reptile", 0, seed=4)
    assert all(maml[k].equal(reptile[k]) for k in maml)
    _a, first = sm.meta_train("fomaml", 2, seed=4, meta_batch=2)
    _b, again = sm.meta_train("fomaml", 2, seed=4, meta_batch=2)
    assert first == again


def test_the_walkthrough_sums_the_query_losses_and_descends_the_meta_loss():
    walk = sm.maml_walkthrough(sm.init_parameters(0), seed=5, meta_batch=3, repeats=2,
                               outer_lr=0.001)  # fmt: skip
    assert walk.meta_loss == pytest.approx(sum(walk.query_losses), rel=1e-5)
    assert len(walk.tasks) == len(walk.adapted) == 3 and len(walk.repeated_losses) == 2

    def meta_loss(theta: sm.Params) -> float:
        return sum(
            sm.mse(sm.inner_update(theta, t.support_x, t.support_y, 0.01), t.query_x, t.query_y)
            for t in walk.tasks
        ).item()

    assert meta_loss(walk.updated) < meta_loss(walk.theta)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sm.meta_train("adam", 1, 0), "unknown method"),
        (lambda: sm.meta_train("maml", sm.MAX_META_STEPS + 1, 0), "steps"),
        (lambda: sm.sample_task(torch.Generator(), k_shot=0), "k_shot"),
        (lambda: sm.adapt(sm.init_parameters(0), torch.zeros(1, 1), torch.zeros(1, 1), 0.1, 99),
         "steps"),
        (lambda: sm.inner_update(sm.init_parameters(0), torch.zeros(1, 1), torch.zeros(1, 1),
                                 float("nan")), "inner_lr"),
    ],
)  # fmt: skip
def test_limits_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_placed_support_points_move_the_adapted_curve_towards_them():
    params = sm.init_parameters(0)
    probe = torch.linspace(-5, 5, 50).unsqueeze(1)
    low_x = torch.tensor([[-2.0], [0.0], [2.0]])
    low_y = torch.full((3, 1), -3.0)
    high_y = torch.full((3, 1), 3.0)
    low = sm.adapt(params, low_x, low_y, inner_lr=0.05, steps=5)
    high = sm.adapt(params, low_x, high_y, inner_lr=0.05, steps=5)
    with torch.no_grad():
        assert sm.mse(low[-1], low_x, low_y) < sm.mse(low[0], low_x, low_y)
        low_curve = sm.predict(low[-1], probe)
        high_curve = sm.predict(high[-1], probe)
    # the same start, other points: the curve placed higher ends higher where the points are
    assert (high_curve[20:30] > low_curve[20:30]).all()
