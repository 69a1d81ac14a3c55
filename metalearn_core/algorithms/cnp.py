r"""Conditional Neural Process: model-based meta-learning for regression.

Garnelo et al. 2018, "Conditional Neural Processes" (ICML). The support set is
read by a network, never trained on: each labelled pair (x_i, y_i) is encoded,
the codes are averaged into one task representation r, and a decoder predicts
a Gaussian over y for any x given r. Adapting to a new function is one forward
pass, with no gradient step, and the predictive standard deviation says where
the model is unsure (wide between and beyond the support points).

Each support pair is encoded, the codes averaged (so the order of the support set does
not matter), and the decoder reads any x with that average:

.. math::
    \begin{aligned}
    r_i &= h_\theta(x_i, y_i), \qquad r = \frac{1}{K}\sum_{i=1}^{K} r_i \\
    (\mu(x), s(x)) &= g_\theta(x, r), \qquad
    \sigma(x) = \sigma_{\min} + (1 - \sigma_{\min})\,\mathrm{softplus}(s(x))
    \end{aligned}

Training maximises the Gaussian log-likelihood of the targets (the query set,
and by default the support points too, as in the paper; M of them) over tasks
:math:`\mathcal{T}`:

.. math::
    \begin{aligned}
    \theta &\leftarrow \theta - \beta \nabla_\theta\, \mathbb{E}_{\mathcal{T}} \Big[\frac{1}{M}
    \sum_{t=1}^{M} -\log \mathcal{N}\big(y_t;\, \mu(x_t), \sigma(x_t)^2\big)\Big] \\
    -\log \mathcal{N}(y; \mu, \sigma^2) &= \tfrac{1}{2}\log 2\pi + \log\sigma
    + \frac{(y - \mu)^2}{2\sigma^2}
    \end{aligned}
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from metalearn_core.algorithms.base import (
    MAX_META_BATCH,
    Adaptation,
    Hyperparameters,
    MetaLearner,
    StepResult,
)
from metalearn_core.algorithms.internals import ContextCodes, Internals, RegressionFit
from metalearn_core.data.episodes import Episode, EpisodeBatch, TaskKind
from metalearn_core.settings import setting
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_

logger = logging.getLogger(__name__)


@dataclass
class CNPHyperparameters(Hyperparameters):
    """Defaults follow the paper's 1-D regression setting (128-unit MLPs, Adam 1e-3)."""

    outer_lr: float = setting(1e-3, label="Meta learning rate β", help="Adam step size β", above=0)
    meta_batch: int = setting(
        16, label="Tasks per meta-batch", help="tasks per outer step", low=1, high=MAX_META_BATCH
    )
    hidden: int = setting(
        128,
        label="Hidden width",
        help="width of every encoder / decoder layer, and of r",
        low=1,
        high=1024,
    )
    encoder_layers: int = setting(
        3, label="Encoder layers", help="linear layers in h_θ", low=1, high=12
    )
    decoder_layers: int = setting(
        3,
        label="Decoder layers",
        help="linear layers in g_θ (the last outputs μ and s)",
        low=1,
        high=12,
    )
    min_std: float = setting(
        0.1,
        label="Minimum standard deviation σ_min",
        help="σ_min: keeps the likelihood bounded early in training",
        above=0,
        high=0.99,
    )
    targets_include_support: bool = setting(
        True,
        label="Context points are also targets",
        help="paper: the context points are also targets",
    )


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def gaussian_nll(mean: torch.Tensor, std: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Elementwise −log 𝒩(target; mean, std²) = ½ log 2π + log σ + (y − μ)² / (2σ²)."""
    return 0.5 * math.log(2 * math.pi) + std.log() + (target - mean) ** 2 / (2 * std**2)


class CNPNetwork(nn.Module):
    """Encoder h_θ, mean aggregation and Gaussian decoder g_θ.

    Args:
        x_dim: flattened input size (1 for the sinusoid).
        y_dim: target size (1).
        hparams: layer sizes and σ_min.
    """

    def __init__(self, x_dim: int, y_dim: int, hparams: CNPHyperparameters):
        super().__init__()
        h = hparams.hidden
        self.min_std = hparams.min_std
        self.encoder = mlp([x_dim + y_dim] + [h] * hparams.encoder_layers)
        self.decoder = mlp([x_dim + h] + [h] * (hparams.decoder_layers - 1) + [2 * y_dim])

    def encode(self, support_x: torch.Tensor, support_y: torch.Tensor) -> torch.Tensor:
        """Per-pair codes r_i: (B, K, x_dim), (B, K, y_dim) -> (B, K, hidden)."""
        return self.encoder(torch.cat([support_x, support_y], dim=-1))

    def decode(
        self, representation: torch.Tensor, target_x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictive mean and std: r (B, hidden), x (B, T, x_dim) -> μ, σ each (B, T, y_dim)."""
        r = representation.unsqueeze(1).expand(-1, target_x.shape[1], -1)  # (B, T, hidden)
        mean, raw_std = self.decoder(torch.cat([target_x, r], dim=-1)).chunk(2, dim=-1)
        std = self.min_std + (1 - self.min_std) * nn.functional.softplus(raw_std)
        return mean, std

    def forward(
        self, support_x: torch.Tensor, support_y: torch.Tensor, target_x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns μ (B, T, y_dim), σ (B, T, y_dim) and r (B, hidden)."""
        representation = self.encode(support_x, support_y).mean(dim=1)  # (B, hidden)
        mean, std = self.decode(representation, target_x)
        return mean, std, representation


def _flatten_inputs(x: torch.Tensor, leading: int) -> torch.Tensor:
    """(…leading dims…, *X) -> (…leading dims…, prod X): inputs of any shape become vectors."""
    return x.reshape(*x.shape[:leading], -1)


CODES_CAPTION = N_(
    "The encoder's code r_i of each support point (x_i, y_i), and their mean r (last row): the "
    "decoder sees only r, so the order of the support points never matters, and more points "
    "refine one fixed-size summary."
)


class ConditionalNeuralProcess(MetaLearner):
    """CNP for regression tasks (``--algo cnp``).

    ``adapt`` internals: ``ContextCodes`` (``representation`` (hidden,) the task code r;
    ``support_codes`` (K, hidden) the per-pair codes r_i; ``query_std`` (Q, 1);
    ``query_nll``, the mean Gaussian NLL of the query targets); and when ``probe_x`` is
    given, a ``RegressionFit`` with μ (P, 1) (also ``probe_prediction``) and ``probe_std``
    (P, 1).

    ``StepResult.loss`` and ``Adaptation.query_loss`` are the query mean squared
    error of μ, comparable with the other algorithms; the training objective is the
    Gaussian NLL above.

    >>> learner = ConditionalNeuralProcess(ProblemSpec("regression", (1,), 1))
    >>> learner.meta_train_step(batch)          # batch.support_x: (B, K, 1)
    >>> out = learner.adapt(episode, probe_x=torch.linspace(-5, 5, 200)[:, None])
    >>> out.probe_prediction, out.find(RegressionFit).probe_std   # (200, 1), (200, 1)
    """

    name: ClassVar[str] = "cnp"
    title: ClassVar[str] = N_("Conditional Neural Process")
    summary: ClassVar[str] = N_(
        "Model-based (regression): an encoder turns each support point into a code, their "
        "mean r summarises the task, and a decoder predicts a mean and an uncertainty at "
        "any x. No gradient steps at test time."
    )
    task_kinds: ClassVar[tuple[TaskKind, ...]] = ("regression",)
    hparams_class: ClassVar[type[Hyperparameters]] = CNPHyperparameters
    uses_backbone: ClassVar[bool] = False  # its MLPs are sized by hidden and the layer counts
    internals_records = (ContextCodes, RegressionFit)
    hparams: CNPHyperparameters

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: CNPHyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__(spec, hparams, device)
        # Weights come from the global generator, which make_learner seeds.
        self.network = CNPNetwork(math.prod(spec.input_shape), 1, self.hparams).to(self.device)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=self.hparams.outer_lr)

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        start = time.perf_counter()
        batch = batch.to(self.device)
        support_x = _flatten_inputs(batch.support_x, 2)  # (B, K, x_dim)
        query_x = _flatten_inputs(batch.query_x, 2)  # (B, Q, x_dim)
        if self.hparams.targets_include_support:
            target_x = torch.cat([support_x, query_x], dim=1)  # (B, K+Q, x_dim)
            target_y = torch.cat([batch.support_y, batch.query_y], dim=1)
        else:
            target_x, target_y = query_x, batch.query_y
        mean, std, _ = self.network(support_x, batch.support_y, target_x)
        loss = gaussian_nll(mean, std, target_y).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        query_count = query_x.shape[1]
        query_mse = ((mean[:, -query_count:] - batch.query_y) ** 2).mean()
        return StepResult(
            loss=float(query_mse.detach()),
            accuracy=None,
            seconds=time.perf_counter() - start,
            episodes=len(batch),
        )

    @torch.no_grad()
    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        episode = episode.to(self.device)
        support_x = _flatten_inputs(episode.support_x, 1).unsqueeze(0)  # (1, K, x_dim)
        support_y = episode.support_y.unsqueeze(0)  # (1, K, 1)
        codes = self.network.encode(support_x, support_y)  # (1, K, hidden)
        representation = codes.mean(dim=1)  # (1, hidden)
        query_x = _flatten_inputs(episode.query_x, 1).unsqueeze(0)
        mean, std = self.network.decode(representation, query_x)  # (1, Q, 1) each
        mean, std = mean[0], std[0]
        records: list[Internals] = [
            ContextCodes(
                support_codes=codes[0],
                representation=representation[0],
                query_std=std,
                query_nll=float(gaussian_nll(mean, std, episode.query_y).mean()),
                caption=CODES_CAPTION,
            )
        ]
        probe_prediction = None
        if probe_x is not None:
            probe = _flatten_inputs(probe_x.to(self.device), 1).unsqueeze(0)  # (1, P, x_dim)
            probe_mean, probe_std = self.network.decode(representation, probe)
            probe_prediction = probe_mean[0]
            records.append(
                RegressionFit(
                    probe_x=probe_x.to(self.device),
                    step_predictions=(probe_prediction,),
                    probe_std=probe_std[0],
                )
            )
        return Adaptation(
            query_prediction=mean,
            query_loss=float(((mean - episode.query_y) ** 2).mean()),
            query_accuracy=None,
            probe_prediction=probe_prediction,
            internals=tuple(records),
        )

    def state_dict(self) -> dict[str, Any]:
        return {"network": self.network.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.network.load_state_dict(state["network"])
        # a copy: Adam keeps the given moment tensors, which the caller still owns
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))

    def train(self) -> None:
        self.network.train()

    def eval(self) -> None:
        self.network.eval()
