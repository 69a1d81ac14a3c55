r"""Prototypical Networks.

Snell, Swersky & Zemel, "Prototypical Networks for Few-shot Learning", NeurIPS 2017.
https://arxiv.org/abs/1703.05175

Each class n is represented by the mean of its embedded support examples, and a
query is classified by a softmax over negative distances to these prototypes:

.. math::
    c_n = \frac{1}{K}\sum_{(x_i, y_i) \in S,\, y_i = n} f_\theta(x_i), \qquad
    p(y = n \mid x) = \frac{\exp(-d(f_\theta(x), c_n))}{\sum_{n'} \exp(-d(f_\theta(x), c_{n'}))}

with d the squared Euclidean distance (or, as an option, the cosine distance 1 - cos).
Training minimises the query cross-entropy with Adam (the paper: 1e-3, halved every
2,000 episodes). Nothing is adapted per task, so any N and K work at test time.
Batch norm keeps running statistics: ``eval()`` uses them.

Example:
    >>> spec = ProblemSpec("classification", (1, 28, 28), n_way=5)
    >>> protonet = ProtoNet(spec)
    >>> protonet.meta_train_step(sampler.sample_batch(1))
    >>> adaptation = protonet.adapt(episode)
    >>> adaptation.find(EmbeddingView).prototypes.shape    # (N, D)
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

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
    class_means,
    embed_episode,
    embed_without_side_effects,
    pairwise_distance,
)
from metalearn_core.algorithms.internals import EmbeddingView, PrototypeDistances
from metalearn_core.data.episodes import Episode, EpisodeBatch
from metalearn_core.models import build_backbone
from metalearn_core.settings import setting
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_


@dataclass
class ProtoNetHyperparameters(Hyperparameters):
    """Prototypical Networks' settings; defaults from Snell et al. (2017)."""

    outer_lr: float = setting(1e-3, label="Learning rate", help="Adam's step size", above=0)
    meta_batch: int = setting(
        1, label="Episodes per step", help="episodes per step", low=1, high=MAX_META_BATCH
    )
    distance: Distance = setting(
        "euclidean", label="Distance", help='"euclidean" (squared) | "cosine"'
    )
    lr_halve_every: int = setting(
        2000,
        label="Halve the learning rate every (steps)",
        help="steps between halvings of outer_lr; 0 keeps it constant",
        low=0,
        high=10_000_000,
        step=100,
    )


def prototype_logits(
    support_embeddings: torch.Tensor,
    support_y: torch.Tensor,
    query_embeddings: torch.Tensor,
    n_way: int,
    distance: str = "euclidean",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits = -d(query, prototype).

    Args:
        support_embeddings: (N*K, D); support_y: (N*K,) in 0..N-1.
        query_embeddings: (M, D).

    Returns:
        logits (M, N), prototypes (N, D), distances (M, N).
    """
    prototypes = class_means(support_embeddings, support_y, n_way)  # (N, D)
    distances = pairwise_distance(query_embeddings, prototypes, distance)  # (M, N)
    return -distances, prototypes, distances


# The inspector's caption per distance, whole sentences so that a translation can reorder them
DISTANCES_CAPTIONS = {
    "euclidean": N_(
        "Each query's squared Euclidean distance to each class prototype (the mean embedding "
        "of its support examples); the nearest prototype is the prediction."
    ),
    "cosine": N_(
        "Each query's cosine distance (1 − cos) to each class prototype (the mean embedding "
        "of its support examples); the nearest prototype is the prediction."
    ),
}


class ProtoNet(MetaLearner):
    """Prototypical Networks; see the module docstring for the rule and an example."""

    name = "protonet"
    title = N_("Prototypical Networks")
    summary = N_(
        "Metric-based: embeds every example; a class's prototype is the mean embedding of "
        "its support examples and a query takes the class of the nearest prototype. Tick "
        "the 2-D embedding layer to see the space and each prototype's region."
    )
    hparams_class = ProtoNetHyperparameters
    internals_records = (EmbeddingView, PrototypeDistances)
    hparams: ProtoNetHyperparameters

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: ProtoNetHyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__(spec, hparams, device)
        self.model = build_backbone(spec, None, channels_last=True).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.hparams.outer_lr)
        self.scheduler = torch.optim.lr_scheduler.StepLR(
            self.optimizer, step_size=self.hparams.lr_halve_every or 1, gamma=0.5
        )

    def _embed_batch(self, batch: EpisodeBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """One forward pass over every image of the batch: (B, NK, D), (B, NQ, D)."""
        b, nk, nq = len(batch), batch.support_x.shape[1], batch.query_x.shape[1]
        x = torch.cat([batch.support_x.flatten(0, 1), batch.query_x.flatten(0, 1)])
        embeddings = self.model(x)
        return embeddings[: b * nk].view(b, nk, -1), embeddings[b * nk :].view(b, nq, -1)

    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        start = time.perf_counter()
        batch = batch.to(self.device)
        self.model.train()
        support, query = self._embed_batch(batch)
        logits = torch.stack(
            [
                prototype_logits(s, y, q, batch.n_way, self.hparams.distance)[0]
                for s, y, q in zip(support, batch.support_y, query, strict=True)
            ]
        )  # (B, NQ, N)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.query_y.flatten())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.hparams.lr_halve_every:
            self.scheduler.step()
        acc = accuracy(logits.detach(), batch.query_y).item()
        return StepResult(loss.item(), acc, time.perf_counter() - start, len(batch))

    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        """Prototypes from the support set; internals: an ``EmbeddingView`` (support (NK, D),
        query (NQ, D), prototypes (N, D)) and the ``PrototypeDistances`` (NQ, N)."""
        episode = episode.to(self.device)
        with torch.no_grad():
            support, query = embed_episode(self.model, episode)
            logits, prototypes, distances = prototype_logits(
                support, episode.support_y, query, episode.n_way, self.hparams.distance
            )
            probe_prediction = None
            if probe_x is not None:
                probe = embed_without_side_effects(self.model, probe_x.to(self.device))
                probe_prediction = -pairwise_distance(probe, prototypes, self.hparams.distance)
        return Adaptation(
            query_prediction=logits,
            query_loss=F.cross_entropy(logits, episode.query_y).item(),
            query_accuracy=accuracy(logits, episode.query_y).item(),
            probe_prediction=probe_prediction,
            internals=(
                EmbeddingView(
                    support=support,
                    query=query,
                    prototypes=prototypes,
                    region_distance=self.hparams.distance,
                ),
                PrototypeDistances(
                    distances=distances,
                    distance=self.hparams.distance,
                    caption=DISTANCES_CAPTIONS[self.hparams.distance],
                ),
            ),
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))  # see base
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])

    def train(self) -> None:
        self.model.train()

    def eval(self) -> None:
        self.model.eval()
