r"""Model-Agnostic Meta-Learning (MAML) and first-order MAML, one code path.

Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
Networks", ICML 2017. https://arxiv.org/abs/1703.03400

Inner loop (per task i, k steps of SGD on its support set :math:`S_i`, from the
meta-parameters θ):

.. math::
    \phi_i^{(0)} = \theta, \qquad
    \phi_i^{(s+1)} = \phi_i^{(s)} - \alpha \nabla_{\phi} \mathcal{L}_{S_i}(\phi_i^{(s)})

Outer loop (Adam with step size β on the mean query loss over a meta-batch of B tasks):

.. math::
    \theta \leftarrow \theta - \beta \nabla_\theta \frac{1}{B}\sum_i
    \mathcal{L}_{Q_i}(\phi_i^{(k)}(\theta))

The meta-gradient differentiates *through* the inner loop. With one inner step it holds
the Hessian of the support loss; first-order MAML drops that term (it treats every inner
gradient as a constant) and uses the query gradient at the adapted weights:

.. math::
    \begin{aligned}
    \text{MAML:}\quad & \nabla_\theta \mathcal{L}_{Q_i}(\phi_i) = \big(I - \alpha
    \nabla^2_\theta \mathcal{L}_{S_i}(\theta)\big)\, \nabla_\phi \mathcal{L}_{Q_i}(\phi_i) \\
    \text{first-order MAML:}\quad & \nabla_\phi \mathcal{L}_{Q_i}(\phi_i)
    \end{aligned}

Implementation notes
- Parameters are a dict of tensors run through ``torch.func.functional_call``; the
  module's own parameters are never rebound and no per-task state lives on ``self``.
- Two strategies compute the same meta-gradient: ``"vmap"`` batches the tasks of a
  meta-batch with ``torch.func.vmap`` (inner gradients by ``torch.func.grad``);
  ``"loop"`` is the plain per-task reference with ``torch.autograd.grad``
  (``create_graph=True`` for second order). ``"auto"`` picks what measured fastest
  (BENCHMARKS.md): vmap on CUDA and for the MLP, the loop for convolutions on CPU.
- Batch norm uses each task's batch statistics, as in the paper (the backbone is built
  with ``track_running_stats=False``, which gives ``models.backbones.BatchStatNorm2d``):
  the support set is normalised by its own statistics, the query set by its own, in
  training and at test time alike.
- Head for any N (the zeroing trick: Kao et al., "MAML is a Noisy Contrastive Learner",
  ICLR 2022; Ye & Chao, "How to Train Your MAML to Excel in Few-Shot Classification",
  ICLR 2022): for classification every task starts from a zero (N, D) linear head
  and the inner loop adapts it with the body. Starting all classes equal makes the
  learner invariant to label permutations and lets it adapt to episodes of any N
  (train 5-way, test 3- or 10-way). A meta-learned initial row shared by the N classes
  (Unicorn-MAML) would get an exactly zero meta-gradient here (the softmax ignores a
  shift common to all logits), so the head is not a meta-parameter at all. With K shots
  per class, one inner step makes row n equal to (alpha / N)(c_n - c), c_n the mean
  support feature of class n and c the mean over all classes: a prototype-like
  classifier. Regression uses an ordinary meta-learned ``Linear(D, 1)`` head.
- At the zero head the body's inner gradient is exactly zero for every theta, so the first
  inner step differentiates the head alone (``_weights_to_step``): the same
  meta-gradient as differentiating every weight (a test checks it against that textbook
  computation), without a double backward through the convolutions, and with the body
  still shared by all tasks after the step.

Example:
    >>> spec = ProblemSpec("regression", (1,), n_way=1, backbone="mlp")
    >>> maml = MAML(spec)                                  # sinusoid defaults
    >>> result = maml.meta_train_step(sampler.sample_batch(25))
    >>> adaptation = maml.adapt(episode, probe_x=torch.linspace(-5, 5, 100)[:, None])
    >>> adaptation.find(RegressionFit).step_predictions   # curve after steps 0..k
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from metalearn_core.algorithms.base import (
    MAX_META_BATCH,
    Adaptation,
    Hyperparameters,
    MetaLearner,
    StepResult,
)
from metalearn_core.algorithms.functional import accuracy, task_loss
from metalearn_core.algorithms.internals import InnerStepCurve, Internals, RegressionFit
from metalearn_core.data.episodes import Episode, EpisodeBatch, TaskKind
from metalearn_core.models import build_backbone
from metalearn_core.settings import setting
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_

logger = logging.getLogger(__name__)

Strategy = Literal["auto", "vmap", "loop"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
FIRST_ORDER_HELP = "drop the second-order terms (first-order MAML)"
HEAD_NAMES = ("head.weight", "head.bias")
Weights = dict[str, torch.Tensor]


@dataclass
class MAMLHyperparameters(Hyperparameters):
    """MAML's settings; defaults are the paper's Omniglot ones (``for_task`` gives sinusoid's).

    Omniglot 5-way (Finn et al., 2017): alpha 0.4, 1 inner step in training, Adam 1e-3,
    32 tasks per meta-batch. Sinusoid: alpha 0.01, 1 step, 25 tasks, 10 at test.

    One departure: for classification the test steps default to 1, not the paper's 3.
    The paper meta-learns its head; here every task starts from a zero head (see the
    module docstring), and at a zero head the loss has no gradient for the body, so the
    first inner step moves only the head. Trained with one step, the body has never been
    adapted during meta-training, and the body updates of steps 2, 3... are untrained
    and large (alpha 0.4): measured on Omniglot, accuracy falls with each extra step
    (99.2% after 1 step, 96.2% after 2, 87.3% after 3, 5-way 5-shot; BENCHMARKS.md).
    Train with ``inner_steps`` >= 2 to use more steps at test: two steps in training and
    at test, where the second moves the body, gave the best 5-way 5-shot figure on a GPU
    (99.64% after 8.5 minutes against 99.46% with one step; BENCHMARKS.md).
    """

    outer_lr: float = setting(
        1e-3,
        label="Meta learning rate β",
        help="β: Adam's step size on the meta-parameters θ",
        above=0,
    )
    meta_batch: int = setting(
        32, label="Tasks per meta-batch", help="tasks per outer step", low=1, high=MAX_META_BATCH
    )
    inner_lr: float = setting(
        0.4,
        label="Inner learning rate α",
        help="α: the inner SGD step size on each task's support set",
        above=0,
    )
    # second order keeps every inner step's graph for the outer gradient: memory grows
    # with the steps, so training takes fewer than a test
    inner_steps: int = setting(
        1, label="Inner steps (training)", help="inner SGD steps in meta-training", low=1, high=20
    )
    inner_steps_test: int = setting(
        1,
        label="Inner steps (test)",
        help="test-time inner steps (images: more than inner_steps overshoot)",
        low=1,
        high=100,
    )
    first_order: bool = setting(False, label="First-order approximation", help=FIRST_ORDER_HELP)
    strategy: Strategy = setting(
        "auto",
        label="Task batching strategy",
        help='tasks all at once ("vmap"), one by one ("loop"), or by device',
    )

    @classmethod
    def for_task(cls, task_kind: TaskKind) -> MAMLHyperparameters:
        """The paper's defaults for classification (Omniglot) or regression (sinusoid)."""
        if task_kind == "regression":
            return cls(meta_batch=25, inner_lr=0.01, inner_steps=1, inner_steps_test=10)
        return cls()


@dataclass
class FOMAMLHyperparameters(MAMLHyperparameters):
    """First-order MAML: MAML's settings with ``first_order=True``."""

    first_order: bool = setting(True, label="First-order approximation", help=FIRST_ORDER_HELP)


def build_maml_network(spec: ProblemSpec) -> nn.ModuleDict:
    """The meta-parameters: the body (batch statistics only) and, for regression, a head."""
    body = build_backbone(spec, None, track_running_stats=False)
    modules: dict[str, nn.Module] = {"body": body}
    if spec.task_kind == "regression":
        modules["head"] = nn.Linear(body.embedding_dim, 1)
    return nn.ModuleDict(modules)


def initial_task_weights(
    params: Weights, task_kind: TaskKind, n_out: int, embedding_dim: int
) -> Weights:
    """phi^(0): the meta-parameters plus, for classification, a zero head (N, D), (N,)."""
    weights = dict(params)
    if task_kind == "classification":
        reference = next(iter(params.values()))
        weights["head.weight"] = reference.new_zeros(n_out, embedding_dim)
        weights["head.bias"] = reference.new_zeros(n_out)
    return weights


class MAML(MetaLearner):
    """Second-order MAML (first-order with ``hparams.first_order``); see the module docstring."""

    name = "maml"
    title = N_("MAML")
    summary = N_(
        "Optimisation-based: learns a starting point θ from which one gradient step on "
        "the support set fits a new task, differentiating through that step (second "
        "order). The inspector shows the query loss before and after the inner step."
    )
    task_kinds = ("classification", "regression")
    hparams_class = MAMLHyperparameters
    internals_records = (InnerStepCurve, RegressionFit)
    hparams: MAMLHyperparameters
    # adapt's InnerStepCurve stops after this step (None: every step; see StepRecorder)
    recorded_steps: int | None = None

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: MAMLHyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__(spec, hparams or self.default_hparams(spec), device)
        self.net = build_maml_network(spec).to(self.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.hparams.outer_lr)

    @classmethod
    def default_hparams(cls, spec: ProblemSpec) -> MAMLHyperparameters:
        defaults = MAMLHyperparameters.for_task(spec.task_kind)
        return cls.hparams_class(**dataclasses.asdict(defaults) | cls._forced_defaults())

    @classmethod
    def _forced_defaults(cls) -> dict[str, Any]:
        return {}

    # ----- the functional model: weights dict in, predictions out --------------------------

    def _meta_parameters(self) -> Weights:
        return dict(self.net.named_parameters())

    def _task_weights(self, params: Weights, n_out: int) -> Weights:
        """theta -> phi^(0) for a task of ``n_out`` classes (a zero head), or regression."""
        dim = self.net["body"].embedding_dim
        return initial_task_weights(params, self.spec.task_kind, n_out, dim)

    def _predict(self, weights: Weights, x: torch.Tensor) -> torch.Tensor:
        """(M, *X) -> logits (M, N) or values (M, 1) under ``weights``."""
        body = {name[5:]: w for name, w in weights.items() if name.startswith("body.")}
        features = functional_call(self.net["body"], body, (x,))  # (M, D)
        return F.linear(features, weights["head.weight"], weights["head.bias"])

    def _loss(self, weights: Weights, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return task_loss(self._predict(weights, x), y, self.spec.task_kind)

    def _split_loss(
        self, moving: Weights, fixed: Weights, x: torch.Tensor, y: torch.Tensor
    ) -> torch.Tensor:
        """``_loss`` with the weights in two parts, for ``grad`` w.r.t. the first alone."""
        return self._loss(fixed | moving, x, y)

    def _weights_to_step(self, weights: Weights, step: int) -> Weights:
        """The weights that inner step ``step`` can move, by name.

        From the zero head (classification, step 0) the logits are 0 whatever the features,
        so the loss's gradient for every body weight is exactly zero for every theta, and so
        is its derivative: the step moves the head alone. Differentiating the head alone
        gives the same meta-gradient without differentiating the convolutions twice, and
        keeps the body shared by all tasks (one batched convolution under vmap, not one per
        task). Later steps move everything.
        """
        if step == 0 and self.spec.task_kind == "classification":
            return {name: weights[name] for name in HEAD_NAMES}
        return weights

    def _sgd_step(self, weights: Weights, grads: Weights) -> Weights:
        """phi <- phi - alpha * g; first order treats g as a constant (no second-order terms)."""
        alpha = self.hparams.inner_lr
        if self.hparams.first_order:
            grads = {name: g.detach() for name, g in grads.items()}
        return {name: weights[name] - alpha * grads[name] for name in weights}

    def _n_out(self, n_way: int) -> int:
        return n_way if self.spec.task_kind == "classification" else 1

    # ----- strategy "vmap": all tasks at once ---------------------------------------------

    def _functional_task(
        self,
        params: Weights,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        query_x: torch.Tensor,
        query_y: torch.Tensor,
        n_out: int,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One task, pure (vmap-able): query loss () and query predictions (M, N)."""
        weights = self._task_weights(params, n_out)
        for step in range(self.hparams.inner_steps):
            moving = self._weights_to_step(weights, step)
            fixed = {name: w for name, w in weights.items() if name not in moving}
            grads = grad(self._split_loss)(moving, fixed, support_x, support_y)
            weights = fixed | self._sgd_step(moving, grads)
        prediction = self._predict(weights, query_x)
        return task_loss(prediction, query_y, self.spec.task_kind), prediction

    def _vmap_tasks(
        self, params: Weights, batch: EpisodeBatch
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Query losses (B,) and predictions (B, M, N) of every task, batched by vmap."""
        n_out = self._n_out(batch.n_way)

        def one_task(sx, sy, qx, qy):
            return self._functional_task(params, sx, sy, qx, qy, n_out)

        return vmap(one_task)(batch.support_x, batch.support_y, batch.query_x, batch.query_y)

    # ----- strategy "loop": the readable per-task reference -------------------------------

    def _adapt_autograd(
        self,
        params: Weights,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        n_out: int,
        steps: int,
        create_graph: bool,
    ) -> Weights:
        """k SGD steps on the support set with ``torch.autograd.grad``."""
        weights = self._task_weights(params, n_out)
        weights = {
            name: w if w.requires_grad else w.requires_grad_(True) for name, w in weights.items()
        }
        for step in range(steps):
            # Fresh graph nodes: a step wants the partial derivative for each weight, not
            # the total one through an earlier step's head, which depends on the body.
            weights = {name: w.view_as(w) for name, w in weights.items()}
            moving = self._weights_to_step(weights, step)
            loss = self._loss(weights, support_x, support_y)
            grads = torch.autograd.grad(loss, list(moving.values()), create_graph=create_graph)
            weights = weights | self._sgd_step(moving, dict(zip(moving, grads, strict=True)))
        return weights

    def _loop_task(self, params: Weights, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self._adapt_autograd(
            params,
            episode.support_x,
            episode.support_y,
            self._n_out(episode.n_way),
            self.hparams.inner_steps,
            create_graph=not self.hparams.first_order,
        )
        prediction = self._predict(weights, episode.query_x)
        return task_loss(prediction, episode.query_y, self.spec.task_kind), prediction

    # ----- meta-training ------------------------------------------------------------------

    def resolved_strategy(self) -> str:
        """ "vmap" or "loop": "auto" is vmap on CUDA and for the MLP, else the loop (measured)."""
        if self.hparams.strategy != "auto":
            return self.hparams.strategy
        if self.device.type == "cuda" or self.spec.backbone == "mlp":
            return "vmap"
        return "loop"

    def meta_loss(self, batch: EpisodeBatch, strategy: str | None = None) -> torch.Tensor:
        """Mean query loss after adaptation, differentiable w.r.t. the meta-parameters: ()."""
        batch = batch.to(self.device)
        params = self._meta_parameters()
        with torch.enable_grad():
            if (strategy or self.resolved_strategy()) == "vmap":
                return self._vmap_tasks(params, batch)[0].mean()
            return torch.stack([self._loop_task(params, e)[0] for e in batch.episodes()]).mean()

    def _backward(self, batch: EpisodeBatch, strategy: str) -> tuple[float, float | None]:
        """Accumulate the meta-gradient in ``.grad``; return mean query loss and accuracy."""
        params = self._meta_parameters()
        if strategy == "vmap":
            losses, predictions = self._vmap_tasks(params, batch)
            losses.mean().backward()
        else:
            losses_list, predictions_list = [], []
            for episode in batch.episodes():
                loss, prediction = self._loop_task(params, episode)
                # One backward per task keeps one task's graph in memory at a time.
                (loss / len(batch)).backward()
                losses_list.append(loss.detach())
                predictions_list.append(prediction.detach())
            losses, predictions = torch.stack(losses_list), torch.stack(predictions_list)
        if self.spec.task_kind == "regression":
            return losses.mean().item(), None
        return losses.mean().item(), accuracy(predictions.detach(), batch.query_y).item()

    def meta_gradients(self, batch: EpisodeBatch, strategy: str | None = None) -> Weights:
        """The meta-gradient d(meta_loss)/d(theta) as a dict of tensors (no update made)."""
        batch = batch.to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        with torch.enable_grad():
            self._backward(batch, strategy or self.resolved_strategy())
        grads = {name: p.grad.detach().clone() for name, p in self.net.named_parameters()}
        self.optimizer.zero_grad(set_to_none=True)
        return grads

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        start = time.perf_counter()
        batch = batch.to(self.device)
        self.net.train()
        self.optimizer.zero_grad(set_to_none=True)
        with torch.enable_grad():
            loss, acc = self._backward(batch, self.resolved_strategy())
        self.optimizer.step()
        return StepResult(loss, acc, time.perf_counter() - start, len(batch))

    # ----- adaptation for inspection and evaluation ---------------------------------------

    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        """``inner_steps_test`` SGD steps on the support set, recording every step.

        internals: an ``InnerStepCurve`` (query loss/accuracy and support loss after steps
        0..k; no accuracies for regression) and, when ``probe_x`` is given, a
        ``RegressionFit`` (predictions at ``probe_x`` after steps 0..k).
        """
        episode = episode.to(self.device)
        probe = probe_x.to(self.device) if probe_x is not None else None
        weights = self._task_weights(self._meta_parameters(), self._n_out(episode.n_way))
        weights = {name: w.detach().requires_grad_(True) for name, w in weights.items()}
        record = StepRecorder(
            self._predict, self.spec.task_kind, episode, probe, self.recorded_steps
        )
        steps = self.hparams.inner_steps_test
        with torch.enable_grad():
            for step in range(steps + 1):
                support_loss = self._loss(weights, episode.support_x, episode.support_y)
                record(weights, support_loss)
                if step == steps:
                    break
                moving = self._weights_to_step(weights, step)
                grads = torch.autograd.grad(support_loss, list(moving.values()))
                weights = weights | self._sgd_step(moving, dict(zip(moving, grads, strict=True)))
                weights = {name: w.detach().requires_grad_(True) for name, w in weights.items()}
        with torch.no_grad():
            prediction = self._predict(weights, episode.query_x)
        return record.adaptation(prediction.detach(), META_LEARNED_START)

    def adapted_weights(self, episode: Episode) -> Weights:
        """phi^(k): the weights after the ``inner_steps_test`` inner steps on ``episode``'s
        support set, the ones ``adapt`` predicts the query set with (detached), named as in
        ``net`` plus ``head.weight`` and ``head.bias``. The embedding-space page reads the
        adapted body's features from them."""
        episode = episode.to(self.device)
        weights = self._task_weights(self._meta_parameters(), self._n_out(episode.n_way))
        weights = {name: w.detach().requires_grad_(True) for name, w in weights.items()}
        with torch.enable_grad():
            for step in range(self.hparams.inner_steps_test):
                support_loss = self._loss(weights, episode.support_x, episode.support_y)
                moving = self._weights_to_step(weights, step)
                grads = torch.autograd.grad(support_loss, list(moving.values()))
                weights = weights | self._sgd_step(moving, dict(zip(moving, grads, strict=True)))
                weights = {name: w.detach().requires_grad_(True) for name, w in weights.items()}
        return {name: w.detach() for name, w in weights.items()}

    # ----- checkpoints and modes ----------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))  # see base

    def train(self) -> None:
        self.net.train()

    def eval(self) -> None:
        self.net.eval()


# What step 0 of the inner-step chart is, for the learners that start from a meta-learned θ.
META_LEARNED_START = N_(
    "Query loss after each inner step: step 0 is the meta-learned initialisation, before it "
    "has seen the support set (for classification its head starts at zero: chance)."
)


class StepRecorder:
    """Scores the weights after each inner step on the query set (and the probe grid),
    then builds the ``Adaptation`` with its ``InnerStepCurve`` and ``RegressionFit``.

    Shared by MAML, first-order MAML and Reptile: ``predict(weights, x)`` is the learner's.
    ``curve_steps``: record only the weights after steps 0..curve_steps (None: every step).
    Scoring sets it: the query forward pass at every one of Reptile's 50 test steps costs
    more than the step itself, and a score reads only the final prediction (and the
    inner-step sweep its first steps). Recording never changes the adapted weights.
    """

    def __init__(
        self,
        predict: Callable[[Weights, torch.Tensor], torch.Tensor],
        task_kind: TaskKind,
        episode: Episode,
        probe: torch.Tensor | None,
        curve_steps: int | None = None,
    ):
        if curve_steps is not None and probe is not None:
            raise ValueError("a probe is recorded at every step: curve_steps must be None")
        self.predict, self.task_kind, self.episode, self.probe = predict, task_kind, episode, probe
        self.curve_steps = curve_steps
        self.calls = 0
        self.classification = task_kind == "classification"
        self.query_losses: list[float] = []
        self.query_accuracies: list[float] = []
        self.support_losses: list[float] = []
        self.probe_predictions: list[torch.Tensor] = []

    def __call__(self, weights: Weights, support_loss: torch.Tensor | None = None) -> None:
        self.calls += 1
        if self.curve_steps is not None and self.calls > self.curve_steps + 1:
            return
        episode, predict = self.episode, self.predict
        with torch.no_grad():
            if support_loss is None:
                support_loss = task_loss(
                    predict(weights, episode.support_x), episode.support_y, self.task_kind
                )
            prediction = predict(weights, episode.query_x)
            self.support_losses.append(support_loss.item())
            self.query_losses.append(task_loss(prediction, episode.query_y, self.task_kind).item())
            if self.classification:
                self.query_accuracies.append(accuracy(prediction, episode.query_y).item())
            if self.probe is not None:
                self.probe_predictions.append(predict(weights, self.probe).detach())

    def adaptation(self, query_prediction: torch.Tensor, caption: str) -> Adaptation:
        records: list[Internals] = [
            InnerStepCurve(
                query_losses=tuple(self.query_losses),
                query_accuracies=tuple(self.query_accuracies) if self.classification else None,
                support_losses=tuple(self.support_losses),
                caption=caption,
            )
        ]
        if self.probe is not None:
            records.append(
                RegressionFit(probe_x=self.probe, step_predictions=tuple(self.probe_predictions))
            )
        query_loss, query_accuracy = self._final_scores(query_prediction)
        return Adaptation(
            query_prediction=query_prediction,
            query_loss=query_loss,
            query_accuracy=query_accuracy,
            probe_prediction=self.probe_predictions[-1] if self.probe is not None else None,
            internals=tuple(records),
        )

    def _final_scores(self, query_prediction: torch.Tensor) -> tuple[float, float | None]:
        """Query loss and accuracy after the last step: the last recorded ones, or (when
        the curve stops earlier) those of ``query_prediction``, the same weights' output."""
        if self.curve_steps is None or self.calls <= self.curve_steps + 1:
            return self.query_losses[-1], self.query_accuracies[-1] if self.classification else None
        episode = self.episode
        with torch.no_grad():
            loss = task_loss(query_prediction, episode.query_y, self.task_kind).item()
            if not self.classification:
                return loss, None
            return loss, accuracy(query_prediction, episode.query_y).item()


class FOMAML(MAML):
    """First-order MAML: the meta-gradient is the query gradient at the adapted weights.

    .. math::
        \\theta \\leftarrow \\theta - \\beta \\frac{1}{B}\\sum_i
        \\nabla_\\phi \\mathcal{L}_{Q_i}(\\phi)\\big|_{\\phi = \\phi_i^{(k)}}

    Same code path as ``MAML`` (see there) with ``first_order=True`` by default.
    """

    name = "fomaml"
    title = N_("First-order MAML")
    summary = N_(
        "MAML without the second-order terms: the meta-gradient is the query gradient at "
        "the adapted weights. Cheaper per step, often about as accurate."
    )
    hparams_class = FOMAMLHyperparameters

    @classmethod
    def _forced_defaults(cls) -> dict[str, Any]:
        return {"first_order": True}
