r"""Matching Networks.

Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, "Matching Networks for One Shot
Learning", NeurIPS 2016. https://arxiv.org/abs/1606.04080

A query is labelled by attention over the support set:

.. math::
    \hat y = \sum_{i=1}^{NK} a(\hat x, x_i)\, y_i, \qquad
    a(\hat x, x_i) = \frac{\exp(c(f(\hat x), g(x_i)))}{\sum_j \exp(c(f(\hat x), g(x_j)))}

with y_i one-hot, c the cosine similarity (or, as an option, minus the squared
Euclidean distance), and f = g = the embedding network. Training maximises
log ŷ at the true query labels.

Attention scale: c is multiplied by ``attention_scale`` (1 in the paper) before the
softmax. The Conv4's features pass a ReLU, so their cosines lie in [0, 1] (FCE and a
2-D embedding layer can make them negative) and, at scale 1, a query can give one support
example at most e / (e + NK - 1) of its attention (0.40 for 5-way 1-shot): the attention
stays flat and the loss cannot fall below -log 0.40 = 0.91 however well the classes
separate. ``learn_attention_scale=True`` trains the scale with
the network (TADAM's metric scaling: Oreshkin, Rodríguez & Lacoste, NeurIPS 2018),
starting from ``attention_scale``; its logarithm learns at 10x the outer learning rate.
Measured on Omniglot after 5 CPU minutes: 97.6% 5-way 1-shot with the scale learned,
77.7% at scale 1 (BENCHMARKS.md). The default stays the paper's fixed 1.

Full-context embeddings (``full_context_embeddings=True``): g embeds each support
example in the context of the whole support set with a bidirectional LSTM,
g(x_i) = g'(x_i) + h_fwd_i + h_bwd_i, and f reads the support set with an attention
LSTM for ``fce_steps`` steps:
:math:`\hat h_k, c_k = \mathrm{LSTM}(f'(\hat x), [h_{k-1} + r_{k-1}], c_{k-1})`,
:math:`h_k = \hat h_k + f'(\hat x)`,
:math:`r_k = \sum_i \mathrm{softmax}_i(h_{k-1}^\top g(x_i))\, g(x_i)`
(the hidden state and the read-out are summed rather than concatenated, which keeps
the LSTM's state size D).

Example:
    >>> matching = MatchingNet(ProblemSpec("classification", (1, 28, 28), n_way=5))
    >>> adaptation = matching.adapt(episode)
    >>> adaptation.find(AttentionView).attention.sum(dim=1)   # ones, (NQ,)
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from metalearn_core.algorithms.base import (
    MAX_META_BATCH,
    Adaptation,
    Hyperparameters,
    MetaLearner,
    StepResult,
)
from metalearn_core.algorithms.functional import (
    Distance,
    accuracy,
    cosine_similarity,
    embed_episode,
    embed_without_side_effects,
    squared_euclidean,
)
from metalearn_core.algorithms.internals import AttentionView, EmbeddingView
from metalearn_core.data.episodes import Episode, EpisodeBatch
from metalearn_core.models import build_backbone
from metalearn_core.settings import setting
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_


@dataclass
class MatchingNetHyperparameters(Hyperparameters):
    """Matching Networks' settings (Vinyals et al., 2016: cosine attention, Adam)."""

    outer_lr: float = setting(1e-3, label="Learning rate", help="Adam's step size", above=0)
    meta_batch: int = setting(
        1, label="Episodes per step", help="episodes per step", low=1, high=MAX_META_BATCH
    )
    distance: Distance = setting(
        "cosine", label="Distance", help='"cosine" | "euclidean" (squared)'
    )
    full_context_embeddings: bool = setting(
        False,
        label="Full context embeddings",
        help="embed examples in the context of the support set",
    )
    fce_steps: int = setting(
        5,
        label="FCE read steps",
        help="read steps of the attention LSTM (FCE only)",
        low=1,
        high=50,
    )
    attention_scale: float = setting(
        1.0,
        label="Attention scale",
        help="similarities are multiplied by this before the softmax",
        above=0,
        high=1000.0,
    )
    learn_attention_scale: bool = setting(
        False,
        label="Learn the attention scale",
        help="train the scale, starting from attention_scale",
    )


def attention_log_probabilities(
    attention_logits: torch.Tensor, support_y: torch.Tensor, n_way: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """log ŷ_n = log Σ_{i: y_i = n} a_i, computed stably.

    Args:
        attention_logits: (M, NK) similarities; support_y: (NK,) in 0..N-1.

    Returns:
        log class probabilities (M, N) and attention (M, NK), rows summing to 1.
    """
    log_attention = attention_logits.log_softmax(dim=-1)  # (M, NK)
    one_hot = F.one_hot(support_y, n_way).T.to(log_attention.dtype)  # (N, NK)
    # log of the one-hot mask: 0 where y_i = n, -inf elsewhere
    mask = torch.where(one_hot > 0, 0.0, float("-inf"))
    log_probabilities = torch.logsumexp(log_attention.unsqueeze(1) + mask, dim=-1)  # (M, N)
    return log_probabilities, log_attention.exp()


class FullContextEmbedding(nn.Module):
    """The FCE of Matching Networks over embeddings of size D (see the module docstring)."""

    def __init__(self, dim: int, steps: int):
        super().__init__()
        self.support_lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.query_cell = nn.LSTMCell(dim, dim)
        self.steps = steps

    def embed_support(self, support: torch.Tensor) -> torch.Tensor:
        """g: (NK, D) -> (NK, D), each example in the context of the whole set."""
        outputs, _ = self.support_lstm(support.unsqueeze(0))  # (1, NK, 2D)
        forward, backward = outputs[0].chunk(2, dim=-1)
        return support + forward + backward

    def embed_query(self, query: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
        """f: (M, D) -> (M, D), conditioned on the context-embedded support (NK, D)."""
        h = torch.zeros_like(query)
        c = torch.zeros_like(query)
        readout = torch.zeros_like(query)
        for _ in range(self.steps):
            h_hat, c = self.query_cell(query, (h + readout, c))
            h = h_hat + query
            readout = (h @ support.T).softmax(dim=-1) @ support
        return h


class LearnedScale(nn.Module):
    """A positive scalar trained with the network, kept as its logarithm."""

    constant_init = True  # starts at the given value: nothing to draw (models/init.py)

    def __init__(self, initial: float):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(initial)))

    def forward(self) -> torch.Tensor:
        return self.log_scale.exp()


ATTENTION_CAPTION = N_(
    "Each query's attention over the support examples; the class with the most attention in "
    "total is the prediction. Cosines of ReLU features lie in [0, 1], so at the paper's "
    "attention scale of 1 the attention stays nearly flat; a learned scale sharpens it."
)


class MatchingNet(MetaLearner):
    """Matching Networks; see the module docstring for the rule and an example."""

    name = "matchingnet"
    title = N_("Matching Networks")
    summary = N_(
        "Metric-based: a query's label is the attention-weighted vote of the support "
        "labels, the attention a softmax over cosine similarities of embeddings. No "
        "gradient steps at test time."
    )
    hparams_class = MatchingNetHyperparameters
    internals_records = (EmbeddingView, AttentionView)
    hparams: MatchingNetHyperparameters

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: MatchingNetHyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__(spec, hparams, device)
        self.model = build_backbone(spec, None, channels_last=True)
        modules: dict[str, nn.Module] = {"embedding": self.model}
        self.fce: FullContextEmbedding | None = None
        if self.hparams.full_context_embeddings:
            self.fce = FullContextEmbedding(self.model.embedding_dim, self.hparams.fce_steps)
            modules["fce"] = self.fce
        self.learned_scale: LearnedScale | None = None
        if self.hparams.learn_attention_scale:
            self.learned_scale = LearnedScale(self.hparams.attention_scale)
            modules["attention_scale"] = self.learned_scale
        self.networks = nn.ModuleDict(modules).to(self.device)
        self.optimizer = torch.optim.Adam(self._parameter_groups(), lr=self.hparams.outer_lr)

    # Adam moves a parameter by about its learning rate per step, so at the network's rate
    # the one log-scale would need thousands of steps to grow by a factor of e.
    SCALE_LR_FACTOR = 10.0

    def _parameter_groups(self) -> list[dict[str, Any]]:
        if self.learned_scale is None:
            return [{"params": list(self.networks.parameters())}]
        scale = self.learned_scale.log_scale
        rest = [p for p in self.networks.parameters() if p is not scale]
        return [{"params": rest},
                {"params": [scale], "lr": self.SCALE_LR_FACTOR * self.hparams.outer_lr}]  # fmt: skip

    def _attention_logits(
        self, support: torch.Tensor, query: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Context embeddings g(S) (NK, D), f(Q) (M, D) and similarities (M, NK)."""
        if self.fce is not None:
            support = self.fce.embed_support(support)
            query = self.fce.embed_query(query, support)
        if self.hparams.distance == "cosine":
            similarity = cosine_similarity(query, support)
        else:
            similarity = -squared_euclidean(query, support)
        return support, query, self.attention_scale() * similarity

    def attention_scale(self) -> torch.Tensor | float:
        """The factor on the similarities: learned, or the fixed hyperparameter."""
        if self.learned_scale is not None:
            return self.learned_scale()
        return self.hparams.attention_scale

    def _episode_log_probabilities(
        self, support: torch.Tensor, support_y: torch.Tensor, query: torch.Tensor, n_way: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        support, query, logits = self._attention_logits(support, query)
        log_probabilities, attention = attention_log_probabilities(logits, support_y, n_way)
        return log_probabilities, attention, support, query

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        start = time.perf_counter()
        batch = batch.to(self.device)
        self.networks.train()
        b, nk, nq = len(batch), batch.support_x.shape[1], batch.query_x.shape[1]
        x = torch.cat([batch.support_x.flatten(0, 1), batch.query_x.flatten(0, 1)])
        embeddings = self.model(x)
        support = embeddings[: b * nk].view(b, nk, -1)
        query = embeddings[b * nk :].view(b, nq, -1)
        log_probabilities = torch.stack(
            [
                self._episode_log_probabilities(s, y, q, batch.n_way)[0]
                for s, y, q in zip(support, batch.support_y, query, strict=True)
            ]
        )  # (B, NQ, N)
        loss = F.nll_loss(log_probabilities.flatten(0, 1), batch.query_y.flatten())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        acc = accuracy(log_probabilities.detach(), batch.query_y).item()
        return StepResult(loss.item(), acc, time.perf_counter() - start, len(batch))

    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        """Attention of each query over the support set.

        ``query_prediction`` is log ŷ (NQ, N): its softmax is the attention-weighted
        one-hot labels; ``probe_prediction`` is the same for ``probe_x`` (P, N).
        internals: an ``EmbeddingView`` (support (NK, D) and query (NQ, D) embeddings,
        after FCE when enabled) and an ``AttentionView`` (NQ, NK) with its scale (the
        factor on the similarities, learned or fixed).
        """
        episode = episode.to(self.device)
        with torch.no_grad():
            support_raw, query = embed_episode(self.model, episode)
            log_probabilities, attention, support, query = self._episode_log_probabilities(
                support_raw, episode.support_y, query, episode.n_way
            )
            scale = float(self.attention_scale())
            probe_prediction = None
            if probe_x is not None:
                probe = embed_without_side_effects(self.model, probe_x.to(self.device))
                probe_prediction = self._episode_log_probabilities(
                    support_raw, episode.support_y, probe, episode.n_way
                )[0]
        return Adaptation(
            query_prediction=log_probabilities,
            query_loss=F.nll_loss(log_probabilities, episode.query_y).item(),
            query_accuracy=accuracy(log_probabilities, episode.query_y).item(),
            probe_prediction=probe_prediction,
            internals=(
                EmbeddingView(support=support, query=query),
                AttentionView(attention=attention, scale=scale, caption=ATTENTION_CAPTION),
            ),
        )

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.networks.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.networks.load_state_dict(state["model"])
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))  # see base

    def train(self) -> None:
        self.networks.train()

    def eval(self) -> None:
        self.networks.eval()
