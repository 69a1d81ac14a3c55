r"""Reptile.

Nichol, Achiam & Schulman, "On First-Order Meta-Learning Algorithms", 2018.
https://arxiv.org/abs/1803.02999

For each task i of a meta-batch, train a copy of the weights for k steps on its support
set with an ordinary optimiser (SGD, or Adam with β1 = 0 as in the paper), giving
:math:`\phi_i = U^k_{S_i}(\theta)`; then move the meta-parameters towards the average:

.. math::
    \theta \leftarrow \theta + \epsilon \Big(\frac{1}{B}\sum_i \phi_i - \theta\Big)

No gradient flows through the inner loop. The outer move is made by handing
``theta - mean(phi)`` to an outer optimiser as a gradient: plain SGD with learning rate
epsilon gives exactly the rule above (``outer_optimizer="sgd"``, the default); Adam
(``"adam"``, with learning rate ``outer_lr``) is an option. ``epsilon`` is Reptile's
outer step size; ``outer_lr`` is used only by the Adam option.

Head and batch norm: as in ``MAML`` (see maml.py), every classification task starts
from a zero (N, D) head (so any N works at test time) that is thrown away after the
task, and batch norm uses each batch's own statistics.

Example:
    >>> reptile = Reptile(ProblemSpec("regression", (1,), n_way=1, backbone="mlp"))
    >>> reptile.meta_train_step(sampler.sample_batch(5))
    >>> reptile.adapt(episode, probe_x=xs).find(RegressionFit).step_predictions
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch.func import functional_call

from metalearn_core.algorithms.base import (
    MAX_META_BATCH,
    Adaptation,
    Hyperparameters,
    MetaLearner,
    StepResult,
)
from metalearn_core.algorithms.functional import accuracy, task_loss
from metalearn_core.algorithms.internals import InnerStepCurve, RegressionFit
from metalearn_core.algorithms.maml import (
    META_LEARNED_START,
    StepRecorder,
    build_maml_network,
    initial_task_weights,
)
from metalearn_core.data.episodes import Episode, EpisodeBatch, TaskKind
from metalearn_core.settings import setting
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_

Optimizer = Literal["sgd", "adam"]
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
Weights = dict[str, torch.Tensor]


@dataclass
class ReptileHyperparameters(Hyperparameters):
    """Reptile's settings; defaults from Nichol et al. (2018), Omniglot (``for_task``: sinusoid).

    Omniglot: Adam (beta1 = 0) with lr 1e-3, 5 inner steps in training and 50 at test,
    epsilon 1.0 (the paper anneals it to 0), 5 tasks per meta-batch.
    Sinusoid: SGD with lr 0.02, 32 inner steps, epsilon 0.1.
    """

    meta_batch: int = setting(
        5, label="Tasks per meta-batch", help="tasks per outer step", low=1, high=MAX_META_BATCH
    )
    inner_lr: float = setting(
        1e-3,
        label="Inner learning rate",
        help="step size of the inner optimiser on each task",
        above=0,
    )
    inner_steps: int = setting(
        5,
        label="Inner steps (training)",
        help="inner steps per task in meta-training",
        low=1,
        high=200,
    )
    inner_steps_test: int = setting(
        50, label="Inner steps (test)", help="inner steps on a test task", low=1, high=200
    )
    inner_optimizer: Optimizer = setting(
        "adam", label="Inner optimiser", help='"sgd" | "adam" (beta1 = 0)'
    )
    # beyond 1 the outer step overshoots the adapted weights
    epsilon: float = setting(
        1.0,
        label="Outer step size ε",
        help="ε: the outer step size, θ ← θ + ε(φ − θ)",
        above=0,
        high=10.0,
    )
    outer_optimizer: Optimizer = setting(
        "sgd", label="Outer optimiser", help='"sgd" gives theta += epsilon (phi - theta) exactly'
    )
    outer_lr: float = setting(
        1e-3,
        label="Outer Adam learning rate",
        help='Adam\'s learning rate, only with outer_optimizer="adam"',
        above=0,
    )

    @classmethod
    def for_task(cls, task_kind: TaskKind) -> ReptileHyperparameters:
        if task_kind == "regression":
            return cls(
                meta_batch=5,
                inner_lr=0.02,
                inner_steps=32,
                inner_steps_test=32,
                inner_optimizer="sgd",
                epsilon=0.1,
            )
        return cls()


class Reptile(MetaLearner):
    """Reptile; see the module docstring for the rule and an example."""

    name = "reptile"
    title = N_("Reptile")
    summary = N_(
        "Optimisation-based, first order: trains on each task for several steps, then "
        "moves θ a fraction ε of the way towards the adapted weights. At test it "
        "fine-tunes for more steps (see the inspector)."
    )
    task_kinds = ("classification", "regression")
    hparams_class = ReptileHyperparameters
    internals_records = (InnerStepCurve, RegressionFit)
    hparams: ReptileHyperparameters
    # adapt's InnerStepCurve stops after this step (None: every step; see StepRecorder)
    recorded_steps: int | None = None

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: ReptileHyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__(spec, hparams or self.default_hparams(spec), device)
        self.net = build_maml_network(spec).to(self.device)
        if self.hparams.outer_optimizer == "sgd":
            self.optimizer: torch.optim.Optimizer = torch.optim.SGD(
                self.net.parameters(), lr=self.hparams.epsilon
            )
        else:
            self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.hparams.outer_lr)

    @classmethod
    def default_hparams(cls, spec: ProblemSpec) -> ReptileHyperparameters:
        return cls.hparams_class.for_task(spec.task_kind)

    # ----- the functional model -----------------------------------------------------------

    def _n_out(self, n_way: int) -> int:
        return n_way if self.spec.task_kind == "classification" else 1

    def _task_weights(self, n_out: int) -> Weights:
        """Fresh leaf copies of theta for one task (plus a zero head for classification)."""
        params = {name: p.detach().clone() for name, p in self.net.named_parameters()}
        dim = self.net["body"].embedding_dim
        weights = initial_task_weights(params, self.spec.task_kind, n_out, dim)
        return {name: w.requires_grad_(True) for name, w in weights.items()}

    def _predict(self, weights: Weights, x: torch.Tensor) -> torch.Tensor:
        body = {name[5:]: w for name, w in weights.items() if name.startswith("body.")}
        features = functional_call(self.net["body"], body, (x,))
        return F.linear(features, weights["head.weight"], weights["head.bias"])

    def _inner_optimizer(self, weights: Weights) -> torch.optim.Optimizer:
        if self.hparams.inner_optimizer == "adam":
            return torch.optim.Adam(weights.values(), lr=self.hparams.inner_lr, betas=(0.0, 0.999))
        return torch.optim.SGD(weights.values(), lr=self.hparams.inner_lr)

    def _train_on_support(self, episode: Episode, steps: int, on_step=None) -> Weights:
        """phi = U^k(theta): ``steps`` optimiser steps on the support set (leaf tensors)."""
        weights = self._task_weights(self._n_out(episode.n_way))
        optimizer = self._inner_optimizer(weights)
        with torch.enable_grad():
            for step in range(steps):
                loss = task_loss(
                    self._predict(weights, episode.support_x),
                    episode.support_y,
                    self.spec.task_kind,
                )
                if on_step is not None:
                    on_step(step, weights, loss)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return weights

    # ----- meta-training ------------------------------------------------------------------

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        """theta <- theta + epsilon (mean_i phi_i - theta), via the outer optimiser."""
        start = time.perf_counter()
        batch = batch.to(self.device)
        self.net.train()
        theta = dict(self.net.named_parameters())
        phi_sum = {name: torch.zeros_like(p) for name, p in theta.items()}
        losses, accuracies = [], []
        for episode in batch.episodes():
            adapted = self._train_on_support(episode, self.hparams.inner_steps)
            with torch.no_grad():
                prediction = self._predict(adapted, episode.query_x)
                losses.append(task_loss(prediction, episode.query_y, self.spec.task_kind).item())
                if self.spec.task_kind == "classification":
                    accuracies.append(accuracy(prediction, episode.query_y).item())
                for name in phi_sum:  # the task's zero head is not a meta-parameter
                    phi_sum[name] += adapted[name]
        self.optimizer.zero_grad(set_to_none=True)
        for name, p in theta.items():
            # "gradient" theta - mean(phi): SGD with lr epsilon moves theta by epsilon (phi - theta)
            p.grad = p.detach() - phi_sum[name] / len(batch)
        self.optimizer.step()
        acc = sum(accuracies) / len(accuracies) if accuracies else None
        return StepResult(sum(losses) / len(losses), acc, time.perf_counter() - start, len(batch))

    # ----- adaptation ---------------------------------------------------------------------

    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        """``inner_steps_test`` optimiser steps on the support set, recording every step.

        internals: an ``InnerStepCurve`` (query loss/accuracy and support loss after steps
        0..k; no accuracies for regression) and, when ``probe_x`` is given, a
        ``RegressionFit`` (predictions at ``probe_x`` after steps 0..k).
        """
        episode = episode.to(self.device)
        probe = probe_x.to(self.device) if probe_x is not None else None
        record = StepRecorder(
            self._predict, self.spec.task_kind, episode, probe, self.recorded_steps
        )
        adapted = self._train_on_support(
            episode,
            self.hparams.inner_steps_test,
            on_step=lambda step, weights, support_loss: record(weights, support_loss),
        )
        record(adapted)
        with torch.no_grad():
            prediction = self._predict(adapted, episode.query_x)
        return record.adaptation(prediction, META_LEARNED_START)

    def adapted_weights(self, episode: Episode) -> Weights:
        """phi = U^k(theta) after the ``inner_steps_test`` steps on ``episode``'s support set,
        the weights ``adapt`` predicts the query set with (detached), named as in ``net``
        plus ``head.weight`` and ``head.bias``."""
        adapted = self._train_on_support(episode.to(self.device), self.hparams.inner_steps_test)
        return {name: w.detach() for name, w in adapted.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))  # see base

    def train(self) -> None:
        self.net.train()

    def eval(self) -> None:
        self.net.eval()
