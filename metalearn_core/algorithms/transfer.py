r"""Transfer learning: pretrain one network, then fine-tune on each support set.

The baseline every meta-learning paper must beat, and the student's first
question ("why not just pretrain and fine-tune?"). References: the pretrained
baseline of Finn et al. 2017 (MAML, §5.1: pretrain on all meta-training
classes, fine-tune on the support set); Chen et al. 2019, "A Closer Look at
Few-shot Classification" (Baseline: fresh linear head; Baseline++: cosine head);
Tian et al. 2020, "Rethinking Few-Shot Image Classification: a Good Embedding Is
All You Need?" (a frozen pretrained embedding plus a simple classifier on
L2-normalised features rivals meta-learning).

Pretraining is ordinary classification over all C classes of the training
split, one mini-batch b per training step (so the app can show it live):

.. math::
    (\theta, V) \leftarrow (\theta, V) - \beta \nabla \frac{1}{|b|}
    \sum_{(x, c) \in b} \mathrm{CE}\big(V f_\theta(x), c\big)

For an episode, a fresh cosine head W (N rows) is initialised at the class means of the
L2-normalised support features (weight imprinting), with scale s:

.. math::
    w_c^{(0)} = \frac{1}{K} \sum_{i:\, y_i = c} \frac{f_\theta(x_i)}{\lVert f_\theta(x_i) \rVert},
    \qquad \mathrm{logit}_c(x) = s \cos\big(w_c, f_\theta(x)\big)

Zero fine-tuning steps is therefore exactly the nearest-class-mean classifier
under cosine similarity. Each fine-tuning step is full-batch SGD on the support
cross-entropy, over W only (the default) or, with ``finetune_whole``, over W and a
copy of θ as well:

.. math::
    W \leftarrow W - \alpha \nabla_W \mathrm{CE}_S(W, \theta), \qquad
    \theta \leftarrow \theta - \alpha_\theta \nabla_\theta \mathrm{CE}_S(W, \theta)

Regression (the sinusoid) follows the paper's pretrained baseline: the network is the MLP
MAML and Reptile use (the body :math:`f_\theta` and a linear head :math:`w`, as MAML's),
pretrained by Adam on the squared error over mini-batches b of points drawn from many
training tasks at once, so that it regresses on all of them and learns roughly their
average function:

.. math::
    (\theta, w) \leftarrow (\theta, w) - \beta \nabla \frac{1}{|b|}
    \sum_{(x, y) \in b} \big(w^\top f_\theta(x) - y\big)^2

For a task, a copy of the whole network is fine-tuned by full-batch SGD on the MSE of its K
support points, the head at α and the body at :math:`\alpha_\theta` (equal by default:
plain SGD on every weight; without ``finetune_whole`` only the head moves):

.. math::
    w \leftarrow w - \alpha \nabla_w \mathrm{MSE}_S(w, \theta), \qquad
    \theta \leftarrow \theta - \alpha_\theta \nabla_\theta \mathrm{MSE}_S(w, \theta)

The learner's own θ is never changed by ``adapt``: it works on a copy.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from metalearn_core.algorithms.base import (
    MAX_META_BATCH,
    Adaptation,
    Hyperparameters,
    MetaLearner,
    StepResult,
    draw_seed,
)
from metalearn_core.algorithms.internals import (
    EmbeddingView,
    InnerStepCurve,
    Internals,
    RegressionFit,
)
from metalearn_core.data.episodes import (
    ClassificationSource,
    Episode,
    EpisodeBatch,
    TaskKind,
    TaskSource,
)
from metalearn_core.models import build_backbone, embedding_dim
from metalearn_core.models.init import reset_parameters
from metalearn_core.settings import setting
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_

logger = logging.getLogger(__name__)

# regression pretraining: points drawn from each task (a task draw costs far more than a
# point, and a few points per task still mix many functions in a batch)
PRETRAIN_POINTS_PER_TASK = 8


@dataclass
class TransferHyperparameters(Hyperparameters):
    """Pretraining with Adam, fine-tuning with plain full-batch SGD.

    Defaults: classification's are Chen et al.'s kind of baseline (a cosine head, imprinted,
    then fine-tuned alone); ``for_task("regression")`` gives the MAML paper's pretrained
    sinusoid baseline: the whole network fine-tuned by SGD at step 0.02 (its figures' step
    size for K = 10), for 10 steps (the steps MAML is shown and scored with).
    """

    outer_lr: float = setting(
        1e-3, label="Pretraining learning rate β", help="Adam step size β of pretraining", above=0
    )
    meta_batch: int = setting(
        1,
        label="Episodes per step",
        help="episodes the trainer draws per step; pretraining does not read them",
        low=1,
        high=MAX_META_BATCH,
    )
    pretrain_batch: int = setting(
        64, label="Pretraining batch size", help="examples per pretraining step", low=1, high=1024
    )
    finetune_steps: int = setting(
        20,
        label="Fine-tuning steps",
        help="SGD steps per support set; 0 = nearest class mean (regression: pretrained net)",
        low=0,
        high=500,
    )
    finetune_lr: float = setting(
        0.5, label="Fine-tuning learning rate α", help="α, for the head W", above=0
    )
    finetune_whole: bool = setting(
        False, label="Fine-tune the backbone too", help="also fine-tune (a copy of) the backbone θ"
    )
    finetune_backbone_lr: float = setting(
        0.01,
        label="Backbone learning rate α_θ",
        help="α_θ: the backbone moves far less than a fresh head",
        above=0,
    )
    cosine_scale: float = setting(
        10.0,
        label="Cosine scale s",
        help="s, the inverse temperature of the cosine head (classification only)",
        above=0,
        high=1000.0,
    )

    @classmethod
    def for_task(cls, task_kind: TaskKind) -> TransferHyperparameters:
        """Classification's defaults, or the paper's sinusoid fine-tuning for regression."""
        if task_kind == "regression":
            return cls(
                finetune_steps=10,
                finetune_lr=0.02,
                finetune_whole=True,
                finetune_backbone_lr=0.02,
            )
        return cls()


def normalized_class_means(
    features: torch.Tensor, labels: torch.Tensor, n_way: int
) -> torch.Tensor:
    """Mean of the L2-normalised features of each class: (M, F), (M,) -> (N, F)."""
    one_hot = F.one_hot(labels, n_way).to(features.dtype)  # (M, N)
    return one_hot.T @ F.normalize(features, dim=-1) / one_hot.sum(0).unsqueeze(1)


def cosine_logits(features: torch.Tensor, weight: torch.Tensor, scale: float) -> torch.Tensor:
    """s · cos(w_c, f): (M, F), (N, F) -> (M, N)."""
    return scale * F.normalize(features, dim=-1) @ F.normalize(weight, dim=-1).T


STEP_ZERO_CAPTION = N_(
    "Query loss after each fine-tuning step: step 0 is the pretrained network with a head "
    "imprinted from the support set's class means (nearest class mean); later steps "
    "fine-tune it."
)
REGRESSION_STEP_ZERO_CAPTION = N_(
    "Query MSE after each fine-tuning step: step 0 is the pretrained network, which fits "
    "all training tasks at once (roughly their average function); later steps fine-tune "
    "a copy of it on the support points by SGD."
)


class TransferLearner(MetaLearner):
    """Pretrain-and-fine-tune baseline (``--algo transfer``), for classification and regression.

    ``prepare(train_source)`` must be called first with the training split. For
    classification, a ``ClassificationSource``: its ``num_classes`` sizes the pretraining
    head. For regression, any regression source: its head is ``Linear(D, 1)`` from the start
    (the MLP and head MAML uses, so their parameter counts match). Each ``meta_train_step`` is one
    pretraining mini-batch of ``pretrain_batch`` examples drawn from all training
    classes by the learner's own generator (seeded through ``make_learner``'s seed,
    checkpointed); the episodes of the batch are not read. ``StepResult.accuracy``
    is the mini-batch accuracy over all C classes.

    ``adapt`` internals: an ``EmbeddingView`` (support (NK, F), query (NQ, F) and
    prototypes (N, F), all from the pretrained backbone before fine-tuning) and an
    ``InnerStepCurve`` (query loss/accuracy after fine-tuning steps 0..k, step 0 being
    the nearest class mean; support cross-entropy before steps 1..k; the names of the
    fine-tuned parameters).

    Regression: each step is one mini-batch of ``pretrain_batch`` points drawn from many
    training tasks (``PRETRAIN_POINTS_PER_TASK`` each) by the same generator (``StepResult.accuracy`` is None); ``adapt``
    fine-tunes a copy of the network on the support MSE and gives an ``InnerStepCurve``
    (query MSE after steps 0..k, support MSE before steps 1..k) and, with ``probe_x``, a
    ``RegressionFit`` (the copy's predictions at ``probe_x`` after steps 0..k).

    >>> learner = TransferLearner(spec, TransferHyperparameters(finetune_steps=0))
    >>> learner.prepare(train_source)
    >>> for _ in range(1000): learner.meta_train_step(batch)
    >>> learner.adapt(episode).query_accuracy
    """

    name: ClassVar[str] = "transfer"
    title: ClassVar[str] = N_("Transfer learning (pretrain + fine-tune)")
    summary: ClassVar[str] = N_(
        "The baseline: pretrains one network on all training classes or tasks, without "
        "episodes, then fine-tunes it on each new support set (images: a head imprinted "
        "from the class means). A strong reference for every meta-learner."
    )
    # its steps fit mini-batches of all training classes (or tasks), not N-way queries
    train_metric_name: ClassVar[str] = N_("pretraining batch")
    task_kinds: ClassVar[tuple[TaskKind, ...]] = ("classification", "regression")
    hparams_class: ClassVar[type[Hyperparameters]] = TransferHyperparameters
    internals_records = (EmbeddingView, InnerStepCurve, RegressionFit)
    hparams: TransferHyperparameters

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: TransferHyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__(spec, hparams or self.default_hparams(spec), device)
        self.backbone = build_backbone(spec, None).to(self.device)
        # The pretraining mini-batches' own checkpointed stream, and the seed of the head
        # built later (prepare or load): both set by initialise.
        self.pretrain_generator = torch.Generator()
        self._classifier_seed = 0
        # Both exist once the number of training classes is known (prepare or load); for
        # regression (one output) at once.
        self.classifier: nn.Linear | None = None
        self.optimizer: torch.optim.Adam | None = None
        self._train_source: TaskSource | None = None
        if spec.task_kind == "regression":
            # one output from the start, built like the backbone (also on the "meta"
            # device of a parameter count) and drawn again by ``initialise`` with it
            head = nn.Linear(embedding_dim(self.backbone), 1).to(self.device)
            self._set_classifier(head)

    @classmethod
    def default_hparams(cls, spec: ProblemSpec) -> TransferHyperparameters:
        return TransferHyperparameters.for_task(spec.task_kind)

    # ----- pretraining ---------------------------------------------------------------

    def prepare(self, train_source: TaskSource) -> None:
        """Keep the training split to draw pretraining mini-batches from all its classes
        (regression: from all its tasks)."""
        if self.spec.task_kind == "regression":
            if train_source.task_kind != "regression":
                raise ValueError(
                    f"the transfer baseline for regression pretrains on a regression source, "
                    f"got {train_source.describe()} ({train_source.task_kind})"
                )
            train_source.check_episode_shape(
                1, PRETRAIN_POINTS_PER_TASK // 2, PRETRAIN_POINTS_PER_TASK // 2
            )
            self._train_source = train_source
            return
        if not isinstance(train_source, ClassificationSource):
            raise ValueError(
                f"the transfer baseline pretrains on a classification source with "
                f"labelled classes, got {train_source.describe()} "
                f"({type(train_source).__name__})"
            )
        if self.classifier is None:
            self._build_classifier(train_source.num_classes)
        elif self.classifier.out_features != train_source.num_classes:
            raise ValueError(
                f"{train_source.describe()} has {train_source.num_classes} classes but the "
                f"pretrained head has {self.classifier.out_features}"
            )
        self._train_source = train_source

    def initialise(self, generator: torch.Generator) -> None:
        super().initialise(generator)
        self.pretrain_generator.manual_seed(draw_seed(generator))
        self._classifier_seed = draw_seed(generator)

    def _build_classifier(self, num_classes: int) -> None:
        # built without torch's own (global-generator) draws, then drawn from the seed
        head = nn.utils.skip_init(nn.Linear, embedding_dim(self.backbone), num_classes)
        reset_parameters(head, torch.Generator().manual_seed(self._classifier_seed))
        self._set_classifier(head.to(self.device))

    def _set_classifier(self, head: nn.Linear) -> None:
        """Pretrain ``head`` with the backbone: one Adam over both."""
        self.classifier = head
        parameters = list(self.backbone.parameters()) + list(self.classifier.parameters())
        self.optimizer = torch.optim.Adam(parameters, lr=self.hparams.outer_lr)

    def _pretraining_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Uniform classes, then a uniform example of each: (b, *X) float, (b,) int64."""
        source = self._train_source
        size = self.hparams.pretrain_batch
        classes = torch.randint(source.num_classes, (size,), generator=self.pretrain_generator)
        positions = torch.rand(size, generator=self.pretrain_generator)
        examples = []
        for c, u in zip(classes.tolist(), positions.tolist(), strict=True):
            tensor = source.class_tensor(c)
            examples.append(tensor[int(u * len(tensor))])
        return torch.stack(examples).to(self.device), classes.to(self.device)

    def _pretraining_points(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``pretrain_batch`` points from tasks of the training split: (b, *X), (b, 1).

        Each task drawn gives ``PRETRAIN_POINTS_PER_TASK`` points (its support and query
        points pooled), so a batch of 64 mixes 8 functions and the squared error is
        minimised by the tasks' average function (the paper's pretraining on all the tasks).
        Tasks and points come from the learner's pretraining generator.
        """
        source = self._train_source
        size = self.hparams.pretrain_batch
        half = PRETRAIN_POINTS_PER_TASK // 2
        tasks = -(-size // PRETRAIN_POINTS_PER_TASK)  # ceil
        episodes = [
            source.sample_episode(1, half, half, self.pretrain_generator) for _ in range(tasks)
        ]
        inputs = torch.cat([torch.cat([e.support_x, e.query_x]) for e in episodes])[:size]
        targets = torch.cat([torch.cat([e.support_y, e.query_y]) for e in episodes])[:size]
        return inputs.to(self.device), targets.to(self.device)

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        """One pretraining mini-batch over all training classes or tasks (``batch`` is not
        read)."""
        if self._train_source is None or self.classifier is None:
            raise RuntimeError(
                "call prepare(train_source) before meta_train_step: the transfer baseline "
                "pretrains on all classes (or tasks) of the training split"
            )
        start = time.perf_counter()
        self.train()  # a learner loaded for evaluation is in eval mode
        if self.spec.task_kind == "regression":
            inputs, targets = self._pretraining_points()
            loss = F.mse_loss(self.classifier(self.backbone(inputs).flatten(1)), targets)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            return StepResult(
                loss=float(loss.detach()),
                accuracy=None,
                seconds=time.perf_counter() - start,
                episodes=len(batch),
            )
        inputs, labels = self._pretraining_batch()
        logits = self.classifier(self.backbone(inputs).flatten(1))  # (b, C)
        loss = F.cross_entropy(logits, labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return StepResult(
            loss=float(loss.detach()),
            accuracy=float((logits.argmax(-1) == labels).float().mean()),
            seconds=time.perf_counter() - start,
            episodes=len(batch),
        )

    # ----- fine-tuning -----------------------------------------------------------------

    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        if self.spec.task_kind == "regression":
            return self._adapt_regression(episode, probe_x)
        hp = self.hparams
        episode = episode.to(self.device)
        # A copy: fine-tuning (and a training-mode BatchNorm) must leave θ untouched.
        backbone = copy.deepcopy(self.backbone)
        backbone.requires_grad_(hp.finetune_whole)
        with torch.no_grad():
            support_features = backbone(episode.support_x).flatten(1)  # (NK, F)
            query_features = backbone(episode.query_x).flatten(1)  # (NQ, F)
        pretrained_query_features = query_features
        prototypes = normalized_class_means(support_features, episode.support_y, episode.n_way)
        weight = prototypes.clone().requires_grad_(True)  # (N, F), imprinted fresh head
        groups = [{"params": [weight], "lr": hp.finetune_lr}]
        if hp.finetune_whole:
            groups.append({"params": list(backbone.parameters()), "lr": hp.finetune_backbone_lr})
        optimizer = torch.optim.SGD(groups)

        def score(features: torch.Tensor) -> tuple[torch.Tensor, float, float]:
            logits = cosine_logits(features, weight.detach(), hp.cosine_scale)
            accuracy = (logits.argmax(-1) == episode.query_y).float().mean()
            return logits, float(F.cross_entropy(logits, episode.query_y)), float(accuracy)

        logits, loss, accuracy = score(query_features)
        inner_losses, inner_accuracies, support_losses = [loss], [accuracy], []
        for _ in range(hp.finetune_steps):
            if hp.finetune_whole:
                features = backbone(episode.support_x).flatten(1)
            else:
                features = support_features
            support_loss = F.cross_entropy(
                cosine_logits(features, weight, hp.cosine_scale), episode.support_y
            )
            optimizer.zero_grad(set_to_none=True)
            support_loss.backward()
            optimizer.step()
            support_losses.append(float(support_loss.detach()))
            if hp.finetune_whole:
                with torch.no_grad():
                    query_features = backbone(episode.query_x).flatten(1)
            logits, loss, accuracy = score(query_features)
            inner_losses.append(loss)
            inner_accuracies.append(accuracy)

        finetuned = ["head.weight"]
        if hp.finetune_whole:
            finetuned += [f"backbone.{name}" for name, _ in backbone.named_parameters()]
        return Adaptation(
            query_prediction=logits,
            query_loss=inner_losses[-1],
            query_accuracy=inner_accuracies[-1],
            probe_prediction=None,
            internals=(
                EmbeddingView(
                    support=support_features,
                    query=pretrained_query_features,
                    prototypes=prototypes,
                ),
                InnerStepCurve(
                    query_losses=tuple(inner_losses),
                    query_accuracies=tuple(inner_accuracies),
                    support_losses=tuple(support_losses),
                    trained_parameters=tuple(finetuned),
                    caption=STEP_ZERO_CAPTION,
                ),
            ),
        )

    def _adapt_regression(self, episode: Episode, probe_x: torch.Tensor | None) -> Adaptation:
        """SGD on the support MSE over a copy of the network, recording every step."""
        hp = self.hparams
        episode = episode.to(self.device)
        probe = probe_x.to(self.device) if probe_x is not None else None
        # Copies: fine-tuning must leave the learner's own θ and head untouched.
        backbone, head = copy.deepcopy(self.backbone), copy.deepcopy(self.classifier)
        backbone.requires_grad_(hp.finetune_whole)
        head.requires_grad_(True)
        groups = [{"params": list(head.parameters()), "lr": hp.finetune_lr}]
        if hp.finetune_whole:
            groups.append({"params": list(backbone.parameters()), "lr": hp.finetune_backbone_lr})
        optimizer = torch.optim.SGD(groups)

        def predict(x: torch.Tensor) -> torch.Tensor:
            return head(backbone(x).flatten(1))  # (M, 1)

        def score() -> tuple[torch.Tensor, float, torch.Tensor | None]:
            with torch.no_grad():
                prediction = predict(episode.query_x)
                fit = predict(probe) if probe is not None else None
            return prediction, float(F.mse_loss(prediction, episode.query_y)), fit

        prediction, loss, fit = score()
        query_losses, support_losses, fits = [loss], [], [fit]
        with torch.enable_grad():
            for _ in range(hp.finetune_steps):
                support_loss = F.mse_loss(predict(episode.support_x), episode.support_y)
                optimizer.zero_grad(set_to_none=True)
                support_loss.backward()
                optimizer.step()
                support_losses.append(float(support_loss.detach()))
                prediction, loss, fit = score()
                query_losses.append(loss)
                fits.append(fit)

        finetuned = ["head.weight", "head.bias"]
        if hp.finetune_whole:
            finetuned += [f"backbone.{name}" for name, _ in backbone.named_parameters()]
        internals: list[Internals] = [
            InnerStepCurve(
                query_losses=tuple(query_losses),
                support_losses=tuple(support_losses),
                trained_parameters=tuple(finetuned),
                caption=REGRESSION_STEP_ZERO_CAPTION,
            )
        ]
        if probe is not None:
            internals.append(RegressionFit(probe_x=probe, step_predictions=tuple(fits)))
        return Adaptation(
            query_prediction=prediction,
            query_loss=query_losses[-1],
            query_accuracy=None,
            probe_prediction=fits[-1],
            internals=tuple(internals),
        )

    # ----- checkpoints -----------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone.state_dict(),
            "classifier": self.classifier.state_dict() if self.classifier is not None else {},
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else {},
            "pretrain_generator": self.pretrain_generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.backbone.load_state_dict(state["backbone"])
        if state["classifier"]:
            shape = tuple(state["classifier"]["weight"].shape)
            features = embedding_dim(self.backbone)
            if len(shape) != 2 or shape[1] != features:  # checked before a head is built
                raise ValueError(
                    f"the saved head's weight has shape {shape}; this backbone's needs "
                    f"(classes, {features})"
                )
            num_classes = shape[0]
            if self.classifier is None or self.classifier.out_features != num_classes:
                self._build_classifier(num_classes)
            self.classifier.load_state_dict(state["classifier"])
            # a copy: Adam keeps the given moment tensors, which the caller still owns
            self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))
        self.pretrain_generator.set_state(state["pretrain_generator"])

    def train(self) -> None:
        self.backbone.train()
        if self.classifier is not None:
            self.classifier.train()

    def eval(self) -> None:
        self.backbone.eval()
        if self.classifier is not None:
            self.classifier.eval()
