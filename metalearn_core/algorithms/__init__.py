"""Meta-learning algorithms behind one interface (``base.MetaLearner``), one file each.

``ALGORITHMS`` maps the ``--algo`` name to the class; add a learner with one line.

>>> spec = ProblemSpec("classification", (1, 28, 28), n_way=5)
>>> learner = make_learner("protonet", spec, {"outer_lr": 5e-4}, seed=0)
>>> algorithm_names("regression")
['maml', 'fomaml', 'reptile', 'cnp', 'transfer']
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from metalearn_core.algorithms.base import Hyperparameters, MetaLearner
from metalearn_core.algorithms.cnp import ConditionalNeuralProcess
from metalearn_core.algorithms.maml import FOMAML, MAML
from metalearn_core.algorithms.matchingnet import MatchingNet
from metalearn_core.algorithms.protonet import ProtoNet
from metalearn_core.algorithms.reptile import Reptile
from metalearn_core.algorithms.snail import SNAILLearner
from metalearn_core.algorithms.transfer import TransferLearner
from metalearn_core.data.episodes import TaskKind
from metalearn_core.spec import ProblemSpec

ALGORITHMS: dict[str, type[MetaLearner]] = {
    "maml": MAML,
    "fomaml": FOMAML,
    "reptile": Reptile,
    "protonet": ProtoNet,
    "matchingnet": MatchingNet,
    "cnp": ConditionalNeuralProcess,
    "snail": SNAILLearner,
    "transfer": TransferLearner,
}

__all__ = ["ALGORITHMS", "algorithm_names", "default_hparams", "make_learner"]


def _learner_class(name: str) -> type[MetaLearner]:
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[name]


def algorithm_names(task_kind: TaskKind | None = None) -> list[str]:
    """Registered names, in registry order; only those supporting ``task_kind`` if given."""
    return [
        name for name, cls in ALGORITHMS.items() if task_kind is None or task_kind in cls.task_kinds
    ]


def default_hparams(name: str, spec: ProblemSpec) -> Hyperparameters:
    """The papers' defaults for algorithm ``name`` on ``spec``'s kind of task."""
    return _learner_class(name).default_hparams(spec)


def _resolve_hparams(
    name: str, spec: ProblemSpec, hparams: dict[str, Any] | Hyperparameters | None
) -> Hyperparameters:
    cls = _learner_class(name)
    if hparams is None:
        return default_hparams(name, spec)
    if isinstance(hparams, Hyperparameters):
        if not isinstance(hparams, cls.hparams_class):
            raise ValueError(
                f"{name} takes {cls.hparams_class.__name__}, got {type(hparams).__name__}"
            )
        return hparams
    allowed = [f.name for f in dataclasses.fields(cls.hparams_class)]
    unknown = sorted(set(hparams) - set(allowed))
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {unknown} for {name}; allowed: {allowed}")
    return default_hparams(name, spec).replace(**hparams)


def make_learner(
    name: str,
    spec: ProblemSpec,
    hparams: dict[str, Any] | Hyperparameters | None = None,
    device: torch.device | str = "cpu",
    *,
    seed: int = 0,
) -> MetaLearner:
    """Build learner ``name`` for ``spec``.

    Args:
        name: a key of ``ALGORITHMS``.
        hparams: None (the papers' defaults for the task kind), a dict of changes to
            those defaults, or a ready ``<Algo>Hyperparameters``.
        device: where the model lives ("cpu", "cuda").
        seed: the weights' initialisation and the learner's own random streams are
            drawn from this seed (``MetaLearner.initialise``), never from torch's global
            generator.

    Raises:
        ValueError: an unknown name, or a hyperparameter that the algorithm does not have.
    """
    cls = _learner_class(name)
    resolved = _resolve_hparams(name, spec, hparams)
    learner = cls(spec, resolved, device)  # torch's own initialisation, redrawn next
    learner.initialise(torch.Generator().manual_seed(int(seed)))
    return learner
