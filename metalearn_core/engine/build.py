"""From a ``RunConfig`` to what a run is made of: its device, its data, its learner.

Both the ``Trainer`` (a new run) and the checkpoint module (a saved one) build through
these, so a resumed or evaluated run is built exactly as it was trained.
"""

from __future__ import annotations

import torch

from metalearn_core.algorithms.base import MetaLearner
from metalearn_core.data.episodes import TaskSource
from metalearn_core.engine.config import ConfigError, RunConfig
from metalearn_core.engine.rng import derive_seed, seeded
from metalearn_core.spec import ProblemSpec


def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", name, "no CUDA device is available here; use 'cpu' or 'auto'")
    return torch.device(name)


def load_source(config: RunConfig, split: str) -> TaskSource:
    """Open one split of the config's data set."""
    return config.data_settings().open(split)


def build_learner(config: RunConfig, spec: ProblemSpec, device: torch.device) -> MetaLearner:
    """The config's algorithm, its weights initialised from the run's seed."""
    from metalearn_core.algorithms import make_learner

    seed = derive_seed(config.seed, "init")
    with seeded(seed, device):  # make_learner seeds torch too; the lock keeps threads apart
        # hparams are overrides of the algorithm's defaults for this kind of task
        return make_learner(config.algo, spec, dict(config.hparams), device, seed=seed)


def problem_spec(config: RunConfig, source: TaskSource) -> ProblemSpec:
    """The learner's problem: the source's task kind and input shape, the config's N and
    backbone."""
    backbone = config.resolved_backbone(tuple(source.input_shape))
    return ProblemSpec(
        task_kind=source.task_kind,
        input_shape=tuple(source.input_shape),
        n_way=config.n_way,
        backbone=backbone,
        width=config.resolved_width(backbone),
        embedding_2d=config.embedding_2d,
    )
