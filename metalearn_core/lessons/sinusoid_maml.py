r"""MAML, first-order MAML and Reptile on sinusoids, small enough to run while a page redraws.

The Learn pages show the article's formulas at work on a 1-40-40-1 MLP held as a dict of
tensors (no module, so an adapted copy is just another dict):

- the inner step :math:`\theta' = \theta - \alpha \nabla_\theta \mathcal{L}_S(\theta)`;
- MAML's meta-gradient :math:`\nabla_\theta \mathcal{L}_Q(\theta')`, through the inner step;
- first-order MAML's :math:`\nabla_{\theta'} \mathcal{L}_Q(\theta')`, which drops the
  second-derivative term :math:`-\alpha \nabla^2_\theta \mathcal{L}_S(\theta)`;
- Reptile's :math:`\theta - \phi` after plain SGD steps on the task
  (:math:`\theta \leftarrow \theta + \varepsilon(\phi - \theta)` with plain gradient descent).

>>> params, losses = meta_train("maml", steps=200, seed=0)
>>> task = sample_task(torch.Generator().manual_seed(1), k_shot=10, q_query=10)
>>> adapted = adapt(params, task.support_x, task.support_y, inner_lr=0.01, steps=5)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from metalearn_core.data.sinusoid import AMPLITUDE_RANGE, PHASE_RANGE, X_RANGE, sinusoid_function

Params = dict[str, torch.Tensor]

HIDDEN = 40  # the MAML paper's sinusoid network: 1-40-40-1, ReLU
METHODS = ("maml", "fomaml", "reptile")
# Limits on what a page (or any caller) may ask for: every one of these runs on a shared CPU.
MAX_INNER_LR = 2.0
MAX_INNER_STEPS = 20
MAX_META_STEPS = 3000
MAX_POINTS = 100
MAX_META_BATCH = 25


@dataclass(frozen=True)
class SineTask:
    """One sinusoid task: support points to adapt on, query points to score on."""

    amplitude: float
    phase: float
    support_x: torch.Tensor  # (K, 1)
    support_y: torch.Tensor  # (K, 1)
    query_x: torch.Tensor  # (Q, 1)
    query_y: torch.Tensor  # (Q, 1)

    def true_curve(self, x: torch.Tensor) -> torch.Tensor:
        return sinusoid_function(x, self.amplitude, self.phase)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")


def sample_task(generator: torch.Generator, k_shot: int = 10, q_query: int = 10) -> SineTask:
    """A random task ``A sin(x - φ)``, A ~ U[0.1, 5], φ ~ U[0, π], x ~ U[-5, 5]."""
    _check_range("k_shot", k_shot, 1, MAX_POINTS)
    _check_range("q_query", q_query, 1, MAX_POINTS)
    u = torch.rand(2 + k_shot + q_query, generator=generator, dtype=torch.float64)
    amplitude = AMPLITUDE_RANGE[0] + (AMPLITUDE_RANGE[1] - AMPLITUDE_RANGE[0]) * float(u[0])
    phase = PHASE_RANGE[0] + (PHASE_RANGE[1] - PHASE_RANGE[0]) * float(u[1])
    x = (X_RANGE[0] + (X_RANGE[1] - X_RANGE[0]) * u[2:]).float().unsqueeze(1)  # (K+Q, 1)
    y = sinusoid_function(x, amplitude, phase)
    return SineTask(amplitude, phase, x[:k_shot], y[:k_shot], x[k_shot:], y[k_shot:])


def task_with_support(task: SineTask, support_x: torch.Tensor) -> SineTask:
    """The same function with other support points (their targets from the true curve)."""
    support_x = torch.as_tensor(support_x, dtype=torch.float32).reshape(-1, 1)
    return SineTask(
        task.amplitude,
        task.phase,
        support_x,
        task.true_curve(support_x),
        task.query_x,
        task.query_y,
    )


def init_parameters(seed: int) -> Params:
    """θ of a 1-40-40-1 MLP, PyTorch's default (Kaiming-uniform) initialisation, seeded."""
    generator = torch.Generator().manual_seed(seed)
    params: Params = {}
    for name, fan_in, fan_out in (("0", 1, HIDDEN), ("1", HIDDEN, HIDDEN), ("2", HIDDEN, 1)):
        bound = 1.0 / math.sqrt(fan_in)
        params[f"w{name}"] = (torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * bound
        params[f"b{name}"] = (torch.rand(fan_out, generator=generator) * 2 - 1) * bound
    return params


def predict(params: Params, x: torch.Tensor) -> torch.Tensor:
    """f_θ(x): (M, 1) → (M, 1)."""
    h = torch.relu(x @ params["w0"].T + params["b0"])  # (M, 40)
    h = torch.relu(h @ params["w1"].T + params["b1"])  # (M, 40)
    return h @ params["w2"].T + params["b2"]  # (M, 1)


def mse(params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The task loss L(f_θ, D): mean squared error."""
    return ((predict(params, x) - y) ** 2).mean()


def inner_update(
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    inner_lr: float,
    *,
    create_graph: bool = False,
) -> Params:
    """One inner step θ' = θ − α ∇_θ L(f_θ, D); ``create_graph`` keeps θ' differentiable in θ."""
    _check_range("inner_lr", inner_lr, 0.0, MAX_INNER_LR)
    leaves = {k: v if v.requires_grad else v.detach().requires_grad_() for k, v in params.items()}
    with torch.enable_grad():
        loss = mse(leaves, x, y)
        grads = torch.autograd.grad(loss, list(leaves.values()), create_graph=create_graph)
    updated = {k: v - inner_lr * g for (k, v), g in zip(leaves.items(), grads, strict=True)}
    return updated if create_graph else {k: v.detach() for k, v in updated.items()}


def adapt(
    params: Params, x: torch.Tensor, y: torch.Tensor, inner_lr: float, steps: int
) -> list[Params]:
    """θ and the parameters after each of ``steps`` inner steps: [θ, θ'_1, ..., θ'_steps]."""
    _check_range("steps", steps, 0, MAX_INNER_STEPS)
    path = [{k: v.detach() for k, v in params.items()}]
    for _ in range(int(steps)):
        path.append(inner_update(path[-1], x, y, inner_lr))
    return path


def meta_gradient(
    params: Params, task: SineTask, method: str, inner_lr: float, inner_steps: int = 1
) -> tuple[Params, float]:
    """The direction each method moves θ for one task, and the query loss after adapting.

    maml:    ∇_θ L_Q(θ'), differentiating through the inner steps (second order).
    fomaml:  ∇_θ' L_Q(θ'), the inner steps treated as constants.
    reptile: θ − φ, φ after ``inner_steps`` SGD steps on support and query points together.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    _check_range("inner_steps", inner_steps, 1, MAX_INNER_STEPS)
    if method == "reptile":
        x = torch.cat([task.support_x, task.query_x])
        y = torch.cat([task.support_y, task.query_y])
        phi = adapt(params, x, y, inner_lr, inner_steps)[-1]
        with torch.no_grad():
            loss = mse(phi, task.query_x, task.query_y).item()
        return {k: params[k].detach() - phi[k] for k in params}, loss
    theta = {k: v.detach().requires_grad_() for k, v in params.items()}
    adapted = theta
    for _ in range(int(inner_steps)):
        adapted = inner_update(
            adapted, task.support_x, task.support_y, inner_lr, create_graph=method == "maml"
        )
        if method == "fomaml":
            adapted = {k: v.requires_grad_() for k, v in adapted.items()}
    with torch.enable_grad():
        loss = mse(adapted, task.query_x, task.query_y)
        wrt = theta if method == "maml" else adapted
        grads = torch.autograd.grad(loss, list(wrt.values()))
    return dict(zip(params, grads, strict=True)), loss.item()


def _task_stream(seed: int, k_shot: int, q_query: int) -> Iterator[SineTask]:
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield sample_task(generator, k_shot, q_query)


def meta_train(
    method: str,
    steps: int,
    seed: int,
    *,
    inner_lr: float = 0.01,
    inner_steps: int = 1,
    outer_lr: float = 0.01,
    meta_batch: int = 5,
    k_shot: int = 10,
    init: Params | None = None,
) -> tuple[Params, list[float]]:
    """``steps`` meta-updates with Adam; returns θ and the mean query loss of each step.

    Every method started from the same ``init`` and ``seed`` sees the same tasks in the same
    order, so that the three can be compared on equal terms.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    _check_range("steps", steps, 0, MAX_META_STEPS)
    _check_range("meta_batch", meta_batch, 1, MAX_META_BATCH)
    params = {k: v.clone().requires_grad_() for k, v in (init or init_parameters(seed)).items()}
    optimiser = torch.optim.Adam(params.values(), lr=outer_lr)
    tasks = _task_stream(seed + 1, k_shot, k_shot)
    losses: list[float] = []
    for _ in range(int(steps)):
        total = {k: torch.zeros_like(v) for k, v in params.items()}
        batch_loss = 0.0
        for _ in range(meta_batch):
            grads, loss = meta_gradient(params, next(tasks), method, inner_lr, inner_steps)
            for k in total:
                total[k] += grads[k] / meta_batch
            batch_loss += loss / meta_batch
        optimiser.zero_grad(set_to_none=True)
        for k, p in params.items():
            p.grad = total[k]
        optimiser.step()
        losses.append(batch_loss)
    return {k: v.detach() for k, v in params.items()}, losses


@dataclass(frozen=True)
class MamlWalkthrough:
    """Steps 1-6 of the article's MAML algorithm, run once on live tasks.

    theta: step 1's θ.  tasks: step 2's batch of tasks.  adapted: step 3b's θ'_i.
    query_losses: step 3c's L_Ti(f_θ'_i, D_i^val).  meta_loss: step 4's L_M(θ).
    updated: step 5's θ − β ∇_θ L_M(θ).  repeated_losses: L_M over further repetitions
    of steps 2-5 (step 6), starting from ``updated``.
    """

    theta: Params
    tasks: tuple[SineTask, ...]
    adapted: tuple[Params, ...]
    query_losses: tuple[float, ...]
    meta_loss: float
    updated: Params
    outer_lr: float
    repeated_losses: tuple[float, ...]


def maml_walkthrough(
    theta: Params,
    seed: int,
    *,
    inner_lr: float = 0.01,
    outer_lr: float = 0.001,
    meta_batch: int = 3,
    k_shot: int = 10,
    repeats: int = 30,
) -> MamlWalkthrough:
    """One pass of the article's six steps from ``theta``, with plain gradient descent in
    step 5 (L_M is the sum over tasks, as in the article), then ``repeats`` more passes."""
    _check_range("meta_batch", meta_batch, 1, MAX_META_BATCH)
    _check_range("outer_lr", outer_lr, 0.0, 1.0)
    _check_range("repeats", repeats, 0, MAX_META_STEPS)
    stream = _task_stream(seed, k_shot, k_shot)

    def one_pass(params: Params) -> tuple[tuple[SineTask, ...], tuple, tuple, float, Params]:
        tasks = tuple(next(stream) for _ in range(meta_batch))
        leaves = {k: v.detach().requires_grad_() for k, v in params.items()}
        adapted, losses = [], []
        meta_loss = torch.zeros(())
        with torch.enable_grad():
            for task in tasks:
                fast = inner_update(
                    leaves, task.support_x, task.support_y, inner_lr, create_graph=True
                )
                loss = mse(fast, task.query_x, task.query_y)
                adapted.append({k: v.detach() for k, v in fast.items()})
                losses.append(loss.item())
                meta_loss = meta_loss + loss
            grads = torch.autograd.grad(meta_loss, list(leaves.values()))
        updated = {
            k: (v - outer_lr * g).detach() for (k, v), g in zip(leaves.items(), grads, strict=True)
        }
        return tasks, tuple(adapted), tuple(losses), meta_loss.item(), updated

    tasks, adapted, losses, meta_loss, updated = one_pass(theta)
    repeated, params = [], updated
    for _ in range(int(repeats)):
        *_, loss, params = one_pass(params)
        repeated.append(loss)
    return MamlWalkthrough(
        {k: v.detach() for k, v in theta.items()},
        tasks,
        adapted,
        losses,
        meta_loss,
        updated,
        outer_lr,
        tuple(repeated),
    )
