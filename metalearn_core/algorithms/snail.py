r"""An attentive sequence learner: model-based meta-learning for classification.

In the spirit of memory-augmented networks (Santoro et al. 2016, "Meta-Learning
with Memory-Augmented Neural Networks") and SNAIL (Mishra et al. 2018, "A Simple
Neural Attentive Meta-Learner"): the network is *given* the labelled support set
as a sequence of (example, label) tokens and predicts each query's label in one
forward pass. Nothing is trained at test time; all learning happened in the
outer loop, which taught the network how to read a support set.

Each token is an embedded example plus an embedded label slot (π maps the episode's
labels to slots; a query gets a learned "label unknown" slot ?):

.. math::
    s_i = W f_\theta(x_i) + E[\pi(y_i)], \qquad q_j = W f_\theta(x_j) + E[?]

Then L pre-norm attention blocks in which every token t (support or query) attends to
the support tokens only, so queries never see one another (per head h):

.. math::
    a = \mathrm{softmax}\Big(\frac{Q_h K_{h,S}^\top}{\sqrt{d_h}}\Big) V_{h,S}, \qquad
    t \leftarrow t + W_o a, \qquad t \leftarrow t + \mathrm{MLP}(\mathrm{LN}(t))

with Q, K, V = LN(t) W_q, LN(t) W_k, LN(t) W_v. The query's final token is read out
over the slots, and training minimises the query cross-entropy:

.. math::
    \mathrm{logit}_c = w_{\pi(c)}^\top \mathrm{LN}(q_j) + b_{\pi(c)}, \qquad
    \theta \leftarrow \theta - \beta \nabla_\theta\,
    \mathbb{E}_{\mathcal{T}} \big[\mathrm{CE}(\mathrm{logits}, y_Q)\big]

Differences from SNAIL, chosen for a classroom: no temporal convolutions and no
positional encodings, so the support set is a *set*: predictions are invariant to
its order (a tested property), and the attention of each query over the support
items is directly the thing to show ("this query looked at these examples").
During training π is a fresh random injection of the N labels into the
``max_n_way`` slots for every episode, so the network must read the labels off
the support tokens, and every slot is trained: evaluation may use any N up to
``max_n_way`` (default 20), whatever N it was trained with.
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
from torch.func import functional_call
from torch.nn import functional as F

from metalearn_core.algorithms.base import (
    MAX_META_BATCH,
    MAX_N_WAY,
    Adaptation,
    Hyperparameters,
    MetaLearner,
    StepResult,
    draw_seed,
)
from metalearn_core.algorithms.internals import AttentionView, EmbeddingView
from metalearn_core.data.episodes import Episode, EpisodeBatch, TaskKind
from metalearn_core.models import build_backbone, embedding_dim
from metalearn_core.settings import setting
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_

logger = logging.getLogger(__name__)


@dataclass
class SNAILHyperparameters(Hyperparameters):
    """A small Transformer reader; Adam as in SNAIL (they used 1e-3 for Omniglot)."""

    outer_lr: float = setting(1e-3, label="Meta learning rate β", help="Adam step size β", above=0)
    meta_batch: int = setting(
        16,
        label="Episodes per meta-batch",
        help="episodes per outer step",
        low=1,
        high=MAX_META_BATCH,
    )
    d_model: int = setting(128, label="Token width", help="token width", low=1, high=512)
    heads: int = setting(
        4, label="Attention heads", help="attention heads (must divide d_model)", low=1, high=16
    )
    layers: int = setting(2, label="Attention blocks", help="attention blocks", low=1, high=8)
    max_n_way: int = setting(
        20,
        label="Label slots (largest N)",
        help="label slots: the largest N this learner can read",
        low=1,
        high=MAX_N_WAY,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.d_model % self.heads:
            raise ValueError(f"heads={self.heads} must divide d_model={self.d_model}")


class SupportAttention(nn.Module):
    """Multi-head attention in which every token reads the first ``support_count`` tokens."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(
        self, tokens: torch.Tensor, support_count: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, S, d) -> mixed (B, S, d) and weights (B, heads, S, support_count)."""
        batch, length, width = tokens.shape
        head_size = width // self.heads
        q, k, v = self.qkv(tokens).split(width, dim=-1)  # (B, S, d) each
        q = q.view(batch, length, self.heads, head_size).transpose(1, 2)  # (B, h, S, hs)
        k = k[:, :support_count].reshape(batch, support_count, self.heads, head_size)
        v = v[:, :support_count].reshape(batch, support_count, self.heads, head_size)
        k, v = k.transpose(1, 2), v.transpose(1, 2)  # (B, h, NK, hs)
        weights = (q @ k.transpose(-2, -1) / math.sqrt(head_size)).softmax(dim=-1)  # (B,h,S,NK)
        mixed = (weights @ v).transpose(1, 2).reshape(batch, length, width)  # (B, S, d)
        return self.out(mixed), weights


class Block(nn.Module):
    """Pre-norm Transformer block whose attention reads the support tokens."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.attention_norm = nn.LayerNorm(d_model)
        self.attention = SupportAttention(d_model, heads)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
        )

    def forward(
        self, tokens: torch.Tensor, support_count: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mixed, weights = self.attention(self.attention_norm(tokens), support_count)
        tokens = tokens + mixed
        return tokens + self.mlp(self.mlp_norm(tokens)), weights


class SequenceNetwork(nn.Module):
    """Backbone f_θ, token projection W, label slots E, attention blocks and slot readout."""

    def __init__(self, spec: ProblemSpec, hparams: SNAILHyperparameters):
        super().__init__()
        self.max_n_way = hparams.max_n_way
        self.backbone = build_backbone(spec, None)
        self.project = nn.Linear(embedding_dim(self.backbone), hparams.d_model)
        # slot max_n_way is the "label unknown" embedding that every query token carries
        self.label_slots = nn.Embedding(hparams.max_n_way + 1, hparams.d_model)
        self.blocks = nn.ModuleList(
            Block(hparams.d_model, hparams.heads) for _ in range(hparams.layers)
        )
        self.final_norm = nn.LayerNorm(hparams.d_model)
        self.readout = nn.Linear(hparams.d_model, hparams.max_n_way)

    def forward(
        self,
        support_x: torch.Tensor,
        support_slots: torch.Tensor,
        query_x: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Slot logits for the queries.

        Args:
            support_x: (B, NK, *X) support examples.
            support_slots: (B, NK) int64 slot of each support label, in 0..max_n_way-1.
            query_x: (B, NQ, *X) query examples.
        Returns:
            slot logits (B, NQ, max_n_way), backbone features (B, NK+NQ, F) and, per
            block, attention weights (B, heads, NK+NQ, NK).
        """
        batch, support_count = support_slots.shape
        query_count = query_x.shape[1]
        images = torch.cat([support_x, query_x], dim=1).flatten(0, 1)  # (B*(NK+NQ), *X)
        features = self.backbone(images).flatten(1).view(batch, support_count + query_count, -1)
        unknown = support_slots.new_full((batch, query_count), self.max_n_way)
        slots = torch.cat([support_slots, unknown], dim=1)  # (B, NK+NQ)
        tokens = self.project(features) + self.label_slots(slots)  # (B, NK+NQ, d)
        attention = []
        for block in self.blocks:
            tokens, weights = block(tokens, support_count)
            attention.append(weights)
        logits = self.readout(self.final_norm(tokens[:, support_count:]))  # (B, NQ, max_n_way)
        return logits, features, attention


def episode_logits(slot_logits: torch.Tensor, label_slots: torch.Tensor) -> torch.Tensor:
    """Pick each label's slot: (B, NQ, max_n_way), (B, N) -> (B, NQ, N)."""
    index = label_slots.unsqueeze(1).expand(-1, slot_logits.shape[1], -1)
    return slot_logits.gather(2, index)


ATTENTION_CAPTION = N_(
    "Each query's attention over the support examples in the last attention layer (mean over "
    "heads). The network reads what it attends to through further layers, so the prediction "
    "(✓/✗, row labels) need not be the most attended class."
)


class SNAILLearner(MetaLearner):
    """Attentive sequence learner for classification (``--algo snail``).

    ``adapt`` internals: an ``AttentionView`` (``attention`` (NQ, NK) the last block's
    attention of each query over the support items, averaged over heads (rows sum to 1);
    ``per_layer`` (L, NQ, NK); ``class_attention`` (NQ, N) the attention mass each query
    puts on each class's support items) and an ``EmbeddingView`` of the backbone features
    (support (NK, F), query (NQ, F)).

    Episodes may have any K and any N up to ``max_n_way``.

    >>> learner = SNAILLearner(ProblemSpec("classification", (1, 28, 28), 5))
    >>> learner.meta_train_step(batch)
    >>> learner.adapt(episode).find(AttentionView).attention.shape   # (N*Q, N*K)
    """

    name: ClassVar[str] = "snail"
    title: ClassVar[str] = N_("Attentive sequence learner (SNAIL-style)")
    summary: ClassVar[str] = N_(
        "Model-based: a network reads the labelled support set as a sequence and answers "
        "each query in one forward pass. It first has to learn to read labels at all: "
        "expect chance for several hundred episodes (more with more label slots), then a "
        "steep climb."
    )
    task_kinds: ClassVar[tuple[TaskKind, ...]] = ("classification",)
    hparams_class: ClassVar[type[Hyperparameters]] = SNAILHyperparameters
    internals_records = (EmbeddingView, AttentionView)
    hparams: SNAILHyperparameters

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: SNAILHyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__(spec, hparams, device)
        self._check_n_way(spec.n_way)
        self.network = SequenceNetwork(spec, self.hparams).to(self.device)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=self.hparams.outer_lr)
        # the slot shuffle's own checkpointed stream, seeded by initialise
        self.slot_generator = torch.Generator()

    def initialise(self, generator: torch.Generator) -> None:
        super().initialise(generator)
        self.slot_generator.manual_seed(draw_seed(generator))

    def _check_n_way(self, n_way: int) -> None:
        if n_way > self.hparams.max_n_way:
            raise ValueError(
                f"n_way={n_way} is larger than max_n_way={self.hparams.max_n_way}, the "
                f"number of label slots of this {self.name} learner: train one with "
                f"max_n_way >= {n_way} to read {n_way}-way episodes"
            )

    def _random_label_slots(self, batch_size: int, n_way: int) -> torch.Tensor:
        """A fresh random injection of labels 0..N-1 into the slots, per episode: (B, N)."""
        draws = [
            torch.randperm(self.hparams.max_n_way, generator=self.slot_generator)[:n_way]
            for _ in range(batch_size)
        ]
        return torch.stack(draws).to(self.device)

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        start = time.perf_counter()
        self._check_n_way(batch.n_way)
        self.network.train()  # a learner loaded for evaluation is in eval mode
        batch = batch.to(self.device)
        label_slots = self._random_label_slots(len(batch), batch.n_way)  # (B, N)
        support_slots = label_slots.gather(1, batch.support_y)  # (B, NK)
        slot_logits, _, _ = self.network(batch.support_x, support_slots, batch.query_x)
        logits = episode_logits(slot_logits, label_slots)  # (B, NQ, N)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.query_y.flatten())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        accuracy = (logits.argmax(-1) == batch.query_y).float().mean()
        return StepResult(
            loss=float(loss.detach()),
            accuracy=float(accuracy),
            seconds=time.perf_counter() - start,
            episodes=len(batch),
        )

    @torch.no_grad()
    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        self._check_n_way(episode.n_way)
        episode = episode.to(self.device)
        label_slots = torch.arange(episode.n_way, device=self.device).unsqueeze(0)  # (1, N)
        inputs = (
            episode.support_x.unsqueeze(0),
            episode.support_y.unsqueeze(0),  # identity slots: label c reads slot c
            episode.query_x.unsqueeze(0),
        )
        # Fresh copies of the buffers: a training-mode BatchNorm must not move the
        # learner's running statistics while it merely answers an episode.
        state = dict(self.network.named_parameters())
        state |= {name: b.clone() for name, b in self.network.named_buffers()}
        slot_logits, features, attention = functional_call(self.network, state, inputs)
        logits = episode_logits(slot_logits, label_slots)[0]  # (NQ, N)
        support_count = episode.support_x.shape[0]
        # weights (1, h, NK+NQ, NK): keep the query rows, average the heads -> (NQ, NK)
        per_layer = torch.stack([w[0, :, support_count:].mean(0) for w in attention])
        one_hot = F.one_hot(episode.support_y, episode.n_way).float()  # (NK, N)
        return Adaptation(
            query_prediction=logits,
            query_loss=float(F.cross_entropy(logits, episode.query_y)),
            query_accuracy=float((logits.argmax(-1) == episode.query_y).float().mean()),
            probe_prediction=None,
            internals=(
                EmbeddingView(
                    support=features[0, :support_count], query=features[0, support_count:]
                ),
                AttentionView(
                    attention=per_layer[-1],  # (NQ, NK)
                    per_layer=per_layer,  # (L, NQ, NK)
                    class_attention=per_layer[-1] @ one_hot,  # (NQ, N)
                    caption=ATTENTION_CAPTION,
                ),
            ),
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "network": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "slot_generator": self.slot_generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.network.load_state_dict(state["network"])
        # a copy: Adam keeps the given moment tensors, which the caller still owns
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))
        self.slot_generator.set_state(state["slot_generator"])

    def train(self) -> None:
        self.network.train()

    def eval(self) -> None:
        self.network.eval()
