"""Recommended recipes: the best settings a benchmark found for training on a time budget.

``train`` and ``compare`` start from these unless told otherwise (a flag, a ``--set``,
``--no-recipe``, or a ``--config`` file, which is taken as it is). A recipe only fills what
the user left unset; each names the benchmark it comes from (BENCHMARKS.md).

>>> recipe_for("protonet", "classification").lr_schedule
'cosine'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metalearn_core.engine.config import RunConfig, dataset_task_kind


@dataclass(frozen=True)
class Recipe:
    """Settings for a learner trained on a budget; ``source`` says where they were measured."""

    lr_schedule: str = "constant"
    hparams: dict[str, Any] = field(default_factory=dict)
    source: str = "the papers' defaults (no benchmark found better)"
    # classes per training episode, by data set, where a benchmark found more ways train
    # better than the test's (a metric learner is scored at any way); used by ``train``
    # when the user gives no --n-way
    training_ways: dict[str, int] = field(default_factory=dict)


_OMNIGLOT_CPU = "BENCHMARKS.md, Omniglot on a 2-core CPU, 5 minutes"
# (algo, task kind) -> recipe; missing pairs keep the papers' defaults
RECIPES: dict[tuple[str, str], Recipe] = {
    ("protonet", "classification"): Recipe(
        "cosine",
        {"outer_lr": 3e-3, "lr_halve_every": 0},  # the cosine replaces the halving
        f"{_OMNIGLOT_CPU}: Adam 3e-3 annealed by a cosine, 20-way training episodes, "
        "97.2% 5-way 1-shot",
        {"omniglot": 20},
    ),
    ("matchingnet", "classification"): Recipe(
        "cosine",
        {"outer_lr": 3e-3, "learn_attention_scale": True},
        f"{_OMNIGLOT_CPU}: learned attention scale, Adam 3e-3, a cosine and 20-way training "
        "episodes, 97.6% 5-way 1-shot",
        {"omniglot": 20},
    ),
    ("maml", "classification"): Recipe(
        "cosine",
        {"meta_batch": 4, "outer_lr": 3e-3},
        f"{_OMNIGLOT_CPU}: meta-batch 4, Adam 3e-3 and a cosine, 89.7% 5-way 1-shot",
    ),
    ("fomaml", "classification"): Recipe(
        "cosine",
        {"meta_batch": 4, "outer_lr": 3e-3},
        "MAML's CPU recipe (BENCHMARKS.md), the same code path without second order",
    ),
}
DEFAULT_RECIPE = Recipe()


def recipe_for(algo: str, task_kind: str) -> Recipe:
    """The recommended recipe for ``algo`` on a ``task_kind`` task (the defaults if none)."""
    return RECIPES.get((algo, task_kind), DEFAULT_RECIPE)


def with_recipe(
    config: RunConfig, *, schedule_given: bool = False, way_given: bool = True
) -> RunConfig:
    """``config`` with its algorithm's recipe filled in where the user set nothing.

    ``config.hparams`` are the user's choices and win over the recipe's; ``schedule_given``
    says the user chose ``lr_schedule`` (kept). A run without a budget keeps its rate
    constant (a cosine needs the budget's end). ``way_given=False`` (``train`` without
    --n-way) lets the recipe choose the training episodes' ways for the data set; a
    comparison keeps its one shared episode shape (the default, True).
    """
    kind = dataset_task_kind(config.dataset) or "classification"
    recipe = recipe_for(config.algo, kind)
    hparams = {**recipe.hparams, **config.hparams}
    has_budget = config.episodes is not None or config.minutes is not None
    schedule = config.lr_schedule
    if not schedule_given and has_budget:
        schedule = recipe.lr_schedule
    n_way = config.n_way
    if not way_given:
        n_way = recipe.training_ways.get(config.dataset, n_way)
    return config.replace(hparams=hparams, lr_schedule=schedule, n_way=n_way)
