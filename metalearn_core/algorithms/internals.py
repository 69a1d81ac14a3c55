"""What a learner shows of its adaptation to one episode: a few small typed records.

``MetaLearner.adapt`` returns an ``Adaptation`` whose ``internals`` hold the records the
learner has (each learner declares their types in ``internals_records``); the Train page's
inspector draws each record through one registry of record type -> figure builder
(``metalearn_core.figures.internals``), never by the algorithm's name. A learner adds its
own words to a picture through a record's ``caption``.

=====================  =========================================  ===========================
record                 what it holds                              filled by
=====================  =========================================  ===========================
``InnerStepCurve``     query loss/accuracy after inner steps 0..k  MAML, FOMAML, Reptile,
                                                                   transfer (fine-tuning)
``RegressionFit``      predictions on a probe grid per step        MAML, FOMAML, Reptile, CNP,
                                                                   transfer (fine-tuning)
``EmbeddingView``      support/query embeddings, prototypes        ProtoNet, Matching
                                                                   Networks, SNAIL, transfer
``PrototypeDistances`` each query's distance to each prototype     ProtoNet
``AttentionView``      each query's attention over the support     Matching Networks, SNAIL
``ContextCodes``       a neural process's support codes and r      CNP
=====================  =========================================  ===========================

>>> adaptation = learner.adapt(episode)
>>> curve = adaptation.find(InnerStepCurve)      # None for a learner without inner steps
>>> curve.query_losses                           # (k + 1) floats
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from metalearn_core.words import N_


@dataclass(frozen=True, kw_only=True)
class Internals:
    """Base of the records. ``caption``: the learner's own words on what the picture
    means for it; empty leaves the figure's general caption."""

    caption: str = ""

    def scalars(self) -> dict[str, float]:
        """Numbers worth printing beside the figures, by readable name."""
        return {}

    def tensors(self) -> list[torch.Tensor]:
        """Every tensor the record holds (to check that a run is still finite)."""
        found: list[torch.Tensor] = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            values = value if isinstance(value, tuple) else (value,)
            found += [v for v in values if isinstance(v, torch.Tensor)]
        return found


@dataclass(frozen=True, kw_only=True)
class InnerStepCurve(Internals):
    """Adaptation by steps on the support set, scored on the query set after each.

    Step 0 is the starting point before any step (what it is differs by learner: the
    caption says).
    """

    query_losses: tuple[float, ...]  # query loss after steps 0..k
    query_accuracies: tuple[float, ...] | None = None  # after steps 0..k; None: regression
    support_losses: tuple[float, ...] = ()  # support loss at the steps taken
    trained_parameters: tuple[str, ...] = ()  # what the steps change, where it is a choice

    def __post_init__(self) -> None:
        if not self.query_losses:
            raise ValueError("an inner-step curve needs the query loss after step 0 at least")
        if self.query_accuracies is not None and len(self.query_accuracies) != len(
            self.query_losses
        ):
            raise ValueError(
                f"{len(self.query_accuracies)} query accuracies for "
                f"{len(self.query_losses)} query losses"
            )


@dataclass(frozen=True, kw_only=True)
class RegressionFit(Internals):
    """A regression learner's function on a grid of probe inputs.

    Drawn in the episode's own picture (with the true function), not as a picture apart.
    """

    probe_x: torch.Tensor  # (P, 1) the probe grid
    step_predictions: tuple[torch.Tensor, ...]  # (P, 1) after steps 0..k; one: no steps
    probe_std: torch.Tensor | None = None  # (P, 1) predictive std of the last prediction


@dataclass(frozen=True, kw_only=True)
class EmbeddingView(Internals):
    """The episode in the learner's embedding space."""

    support: torch.Tensor  # (N*K, D) support embeddings
    query: torch.Tensor  # (N*Q, D) query embeddings
    prototypes: torch.Tensor | None = None  # (N, D) class prototypes, if the learner has them
    # the rule by which the nearest prototype predicts ("euclidean" | "cosine"): its
    # regions are shaded in a 2-D embedding; None when the prediction is not that rule
    region_distance: str | None = None


@dataclass(frozen=True, kw_only=True)
class PrototypeDistances(Internals):
    """Each query's distance to each class prototype; the nearest one is the prediction."""

    distances: torch.Tensor  # (N*Q, N)
    distance: str  # "euclidean" (squared) | "cosine"


@dataclass(frozen=True, kw_only=True)
class AttentionView(Internals):
    """Each query's attention over the support examples (rows sum to 1)."""

    attention: torch.Tensor  # (N*Q, N*K)
    per_layer: torch.Tensor | None = None  # (L, N*Q, N*K) for several attention layers
    class_attention: torch.Tensor | None = None  # (N*Q, N) attention mass on each class
    scale: float | None = None  # the factor on the similarities before the softmax

    def scalars(self) -> dict[str, float]:
        if self.scale is None:
            return {}
        return {N_("attention scale (similarities × scale before the softmax)"): self.scale}


@dataclass(frozen=True, kw_only=True)
class ContextCodes(Internals):
    """A neural process's summary of the support set."""

    support_codes: torch.Tensor  # (K, H) the encoder's code r_i of each support pair
    representation: torch.Tensor  # (H,) r = mean_i r_i, all the decoder sees
    query_std: torch.Tensor  # (Q, 1) predictive standard deviation at the queries
    query_nll: float  # mean Gaussian negative log-likelihood of the query targets

    def scalars(self) -> dict[str, float]:
        return {N_("query negative log-likelihood"): self.query_nll}
