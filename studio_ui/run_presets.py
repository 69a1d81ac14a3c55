"""What the settings forms offer: data sets and algorithms by name, their titles and
kinds of task, the papers' defaults, and the presets ("Quick demo", "Paper settings").

No widgets here: the Train and Compare forms (``studio_ui.settings_form``) and the links
a teacher hands out (``studio_ui.links``) read the same lookups, so that a form's
default, a preset and a link's default are one value.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import Any

from metalearn_core.algorithms import ALGORITHMS, algorithm_names, default_hparams
from metalearn_core.algorithms.base import Hyperparameters
from metalearn_core.data import DATASETS
from metalearn_core.engine import RunConfig
from metalearn_core.spec import ProblemSpec
from studio_ui.data import cached_task_source
from studio_ui.i18n import _

log = logging.getLogger("metalearn_studio.run_presets")

DEFAULT_DATASET, DEFAULT_ALGO = "glyphs", "protonet"
QUICK_DEMO, PAPER = "Quick demo", "Paper settings"
# Read from a folder the user names, when the registry does not say (needs_data_dir).
FOLDER_DATASETS = ("omniglot", "folder")


# ----------------------------------------------------------------------------- registry


def dataset_names() -> list[str]:
    """The data sets the page offers, the embedded default first."""
    names = list(DATASETS)
    return sorted(names, key=lambda name: (name != DEFAULT_DATASET, names.index(name)))


def dataset_kind(name: str) -> str:
    """``"classification"`` or ``"regression"`` as the data registry says."""
    from metalearn_core.data import dataset_info

    info = dataset_info(name)
    kind = info.get("task_kind") if isinstance(info, dict) else getattr(info, "task_kind", None)
    return kind or "classification"


def _info_field(name: str, field: str, default: Any) -> Any:
    from metalearn_core.data import dataset_info

    info = dataset_info(name)
    value = info.get(field) if isinstance(info, dict) else getattr(info, field, None)
    return default if value is None else value


def dataset_description(name: str) -> str:
    return _info_field(name, "description", "")


def dataset_title(name: str) -> str:
    return _info_field(name, "title", name)


def needs_folder(name: str) -> bool:
    """Data sets read from a folder the user names (Omniglot, your own images)."""
    return bool(_info_field(name, "needs_data_dir", name in FOLDER_DATASETS))


def algorithm_title(name: str) -> str:
    return getattr(ALGORITHMS[name], "title", name)


def run_summary(config: RunConfig, meta_batch: int) -> str:
    """One line naming the run: algorithm, data, episode shape, meta-batch and seed."""
    if dataset_kind(config.dataset) == "regression":
        shape = _("{k_shot} support and {q_query} query points per task").format(
            k_shot=config.k_shot, q_query=config.q_query
        )
    else:
        shape = _("{n_way}-way {k_shot}-shot, {q_query} queries per class").format(
            n_way=config.n_way, k_shot=config.k_shot, q_query=config.q_query
        )
    return _(
        "**{algorithm}** on **{dataset}**, {shape}, meta-batch {meta_batch}, seed {seed}"
    ).format(
        algorithm=_(algorithm_title(config.algo)),
        dataset=config.dataset,
        shape=shape,
        meta_batch=meta_batch,
        seed=config.seed,
    )


def _spec_for(dataset: str, n_way: int, data_dir: str | None) -> ProblemSpec:
    """The problem an algorithm would face on ``dataset``, for its task-specific defaults."""
    kind = dataset_kind(dataset)
    input_shape: tuple[int, ...] = (1, 28, 28) if kind == "classification" else (1,)
    try:
        data = RunConfig(
            dataset=dataset, algo=default_algorithm(dataset), data_dir=data_dir
        ).data_settings()
        input_shape = tuple(cached_task_source(data, "train").input_shape)
    except (ValueError, FileNotFoundError, OSError) as error:
        log.info("defaults for %s without its data: %s", dataset, error)
    return ProblemSpec(kind, input_shape, n_way)  # type: ignore[arg-type]


def algorithm_defaults(algo: str, dataset: str, n_way: int = 5) -> Hyperparameters:
    """The papers' defaults of ``algo`` for the kind of task ``dataset`` holds."""
    return default_hparams(algo, _spec_for(dataset, n_way, None))


# ----------------------------------------------------------------------------- presets


# By (algorithm, kind of task). Matching Networks: the paper's cosine attention at scale 1
# stays nearly flat over ReLU features and learns slowly (glyphs, 500 steps: 76% validation
# accuracy at scale 1, 90% with the scale learned, BENCHMARKS.md). Reptile: its 50 test
# steps made the quick demo's validation take longer than its training; 20 score as well
# (glyphs, two runs: 56-57% against 55-57%) in 0.41-0.44 s per episode, not 0.95-1.12 s.
# The sequence learner: 5 label slots, the quick demo's N, instead of 20 (each slot trains
# four times as often), leaves its plateau at chance sooner (glyphs, 4 seeds, after 30 CPU
# seconds: 74% against 61% validation accuracy; BENCHMARKS.md); a larger N then needs
# max_n_way raised to it.
QUICK_DEMO_HPARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("matchingnet", "classification"): {"learn_attention_scale": True},
    ("reptile", "classification"): {"inner_steps_test": 20},
    ("snail", "classification"): {"max_n_way": 5},
}


def algorithms_for(dataset: str) -> list[str]:
    """The algorithms offered for ``dataset``: those of its kind of task."""
    return algorithm_names(dataset_kind(dataset))


def default_algorithm(dataset: str) -> str:
    """The algorithm a form starts at for ``dataset``: Prototypical Networks where it
    applies, else the first of the data set's kind."""
    algos = algorithms_for(dataset)
    return DEFAULT_ALGO if DEFAULT_ALGO in algos else algos[0]


@functools.lru_cache(maxsize=256)  # asked for every field's default on every page run
def preset_config(preset: str, dataset: str, algo: str) -> RunConfig:
    """A preset's settings for the chosen data set and algorithm.

    The result is shared (cached): read it, do not change its ``hparams``.

    Quick demo: small episodes, a narrow backbone, small meta-batches and frequent
    validation, so the curves move within seconds on a CPU (and ``QUICK_DEMO_HPARAMS``:
    Matching Networks learn their attention scale, Reptile tests with 20 steps, the
    sequence learner has 5 label slots). Paper settings: 5-way 1-shot with 15 queries
    (10/10 points for the sinusoid), the backbone's default width and every
    hyperparameter at the paper's default.
    """
    if preset not in (QUICK_DEMO, PAPER):
        raise ValueError(f"preset={preset!r} is unknown: use {QUICK_DEMO!r} or {PAPER!r}")
    kind = dataset_kind(dataset)
    regression = kind == "regression"
    hparams = dataclasses.asdict(algorithm_defaults(algo, dataset))
    if preset == QUICK_DEMO:
        width, q_query = (40 if regression else 32), (10 if regression else 5)
        # validation stalls the redraws while it runs: 20 episodes every 50 steps
        val_episodes = 20
        if "meta_batch" in hparams:
            hparams["meta_batch"] = min(int(hparams["meta_batch"]), 8 if regression else 4)
        hparams.update(QUICK_DEMO_HPARAMS.get((algo, kind), {}))
    else:
        width, q_query, val_episodes = None, (10 if regression else 15), 100
    return RunConfig(
        dataset=dataset,
        algo=algo,
        n_way=1 if regression else 5,
        k_shot=10 if regression else 1,
        q_query=q_query,
        width=width if ALGORITHMS[algo].uses_backbone else None,
        embedding_2d=False,
        val_every=50,
        val_episodes=val_episodes,
        hparams=hparams,
        device="cpu",
    )
