"""The Train page's run settings: widgets in, a ``RunConfig`` candidate out.

Every widget keeps its value across page changes (``persist_state="session"``), and
the hyperparameter widgets are built from the algorithm's hyperparameter dataclass,
so a newly registered algorithm gets its widgets with no change here.
"""

from __future__ import annotations

import dataclasses
import logging
import typing
from collections.abc import Callable
from typing import Any

import streamlit as st

from metalearn_core.algorithms import ALGORITHMS, algorithm_names, default_hparams
from metalearn_core.algorithms.base import Hyperparameters
from metalearn_core.data import DATASETS
from metalearn_core.data.omniglot import DATA_DIR_ENV, default_data_dir
from metalearn_core.engine import RunConfig
from metalearn_core.spec import ProblemSpec
from studio_ui.data import cached_task_source, stored_upload
from studio_ui.train_session import remember_upload_name

log = logging.getLogger("metalearn_studio.train_settings")

KEY = "train_w_"  # widget keys of this page start with this
DEFAULT_DATASET, DEFAULT_ALGO = "glyphs", "protonet"
QUICK_DEMO, PAPER = "Quick demo", "Paper settings"
PRESET_KEY = "train_preset"  # the last preset chosen: new algorithms start from it
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
        shape = f"{config.k_shot} support and {config.q_query} query points per task"
    else:
        shape = f"{config.n_way}-way {config.k_shot}-shot, {config.q_query} queries per class"
    return (
        f"**{algorithm_title(config.algo)}** on **{config.dataset}**, {shape}, "
        f"meta-batch {meta_batch}, seed {config.seed}"
    )


def _spec_for(dataset: str, n_way: int, data_dir: str | None) -> ProblemSpec:
    """The problem an algorithm would face on ``dataset``, for its task-specific defaults."""
    kind = dataset_kind(dataset)
    input_shape: tuple[int, ...] = (1, 28, 28) if kind == "classification" else (1,)
    try:
        input_shape = tuple(cached_task_source(dataset, "train", data_dir).input_shape)
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


def preset_values(preset: str, dataset: str, algo: str) -> dict[str, Any]:
    """Widget values of a preset for the chosen data set and algorithm.

    Quick demo: small episodes, a narrow backbone, small meta-batches and frequent
    validation, so the curves move within seconds on a CPU (and ``QUICK_DEMO_HPARAMS``:
    Matching Networks learn their attention scale, Reptile tests with 20 steps, the
    sequence learner has 5 label slots). Paper
    settings: 5-way
    1-shot with 15 queries (10/10 points for the sinusoid), the backbone's default
    width and every hyperparameter at the paper's default.
    """
    if preset not in (QUICK_DEMO, PAPER):
        raise ValueError(f"preset={preset!r} is unknown: use {QUICK_DEMO!r} or {PAPER!r}")
    regression = dataset_kind(dataset) == "regression"
    defaults = algorithm_defaults(algo, dataset)
    hparams = dataclasses.asdict(defaults)
    if preset == QUICK_DEMO:
        values = {
            "n_way": 1 if regression else 5,
            "k_shot": 10 if regression else 1,
            "q_query": 10 if regression else 5,
            "width": 40 if regression else 32,
            # validation stalls the redraws while it runs: 20 episodes every 50 steps
            "embedding_2d": False,
            "val_every": 50,
            "val_episodes": 20,
        }
        if "meta_batch" in hparams:
            hparams["meta_batch"] = min(int(hparams["meta_batch"]), 8 if regression else 4)
        hparams.update(QUICK_DEMO_HPARAMS.get((algo, dataset_kind(dataset)), {}))
    else:
        values = {
            "n_way": 1 if regression else 5,
            "k_shot": 10 if regression else 1,
            "q_query": 10 if regression else 15,
            "width": 0,  # 0: the backbone's default (64 filters, 40 hidden units)
            "embedding_2d": False,
            "val_every": 50,
            "val_episodes": 100,
        }
    values["hparams"] = hparams
    return values


def apply_values(values: dict[str, Any], dataset: str, algo: str) -> None:
    """Write setting values into the widgets' session state (call from a callback)."""
    st.session_state[KEY + "dataset"] = dataset
    st.session_state[KEY + "algo"] = algo
    for name, value in values.items():
        if name == "hparams":
            for field, field_value in value.items():
                st.session_state[_hparam_key(algo, dataset, field)] = field_value
        else:
            st.session_state[KEY + name] = value


def apply_preset(preset: str) -> None:
    """Button callback: load a preset for the currently chosen data set and algorithm.

    The preset also becomes the starting point of every algorithm chosen afterwards
    (``hparams_widgets``), so switching to MAML after "Quick demo" stays quick.
    """
    dataset = st.session_state.get(KEY + "dataset", DEFAULT_DATASET)
    algo = st.session_state.get(KEY + "algo", DEFAULT_ALGO)
    st.session_state[PRESET_KEY] = preset
    for key in [k for k in st.session_state if str(k).startswith(KEY + "hp_")]:
        del st.session_state[key]  # other algorithms restart from this preset too
    apply_values(preset_values(preset, dataset, algo), dataset, algo)


def apply_config(config: RunConfig, full_hparams: dict[str, Any]) -> None:
    """Show a loaded run's settings in the widgets (call from a callback)."""
    values = {
        "n_way": config.n_way,
        "k_shot": config.k_shot,
        "q_query": config.q_query,
        "width": config.width or 0,
        "embedding_2d": config.embedding_2d,
        "seed": config.seed,
        "val_every": config.val_every,
        "val_episodes": config.val_episodes,
        "data_dir": config.data_dir or "",
        "hparams": full_hparams,
    }
    apply_values(values, config.dataset, config.algo)


def initialise_defaults() -> None:
    """First visit: the quick demo of ProtoNet on glyphs."""
    if KEY + "dataset" not in st.session_state:
        st.session_state[PRESET_KEY] = QUICK_DEMO
        values = preset_values(QUICK_DEMO, DEFAULT_DATASET, DEFAULT_ALGO)
        apply_values({**values, "seed": 0, "data_dir": ""}, DEFAULT_DATASET, DEFAULT_ALGO)


EPISODE_SHAPE = ("n_way", "k_shot", "q_query", "width")


def dataset_changed() -> None:
    """Selectbox callback: a data set of another kind of task (images or points vs a
    1-D function) takes the last preset's episode shape for that kind, so choosing the
    sinusoid after glyphs gives K=10 points, not one."""
    dataset = st.session_state[KEY + "dataset"]
    previous = st.session_state.get(KEY + "task_kind")
    kind = dataset_kind(dataset)
    st.session_state[KEY + "task_kind"] = kind
    if previous is None or previous == kind:
        return
    algos = algorithm_names(kind)
    algo = st.session_state.get(KEY + "algo")
    algo = algo if algo in algos else algos[0]
    values = preset_values(st.session_state.get(PRESET_KEY, QUICK_DEMO), dataset, algo)
    for name in EPISODE_SHAPE:
        st.session_state[KEY + name] = values[name]


# ----------------------------------------------------------------------------- widgets


def _hparam_key(algo: str, dataset: str, field: str) -> str:
    # per algorithm and kind of task: MAML's sinusoid defaults differ from its image ones
    return f"{KEY}hp_{algo}_{dataset_kind(dataset)}_{field}"


def _choices(hparams_class: type, field: dataclasses.Field) -> tuple[Any, ...] | None:
    """Allowed values of a field: a ``Literal`` hint or ``metadata["choices"]``."""
    if "choices" in field.metadata:
        return tuple(field.metadata["choices"])
    hint = typing.get_type_hints(hparams_class).get(field.name)
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    return None


def _hparam_widget(
    key: str, field: dataclasses.Field, default: Any, choices: Any, note: str | None
) -> Any:
    """One widget for one hyperparameter, chosen by the default's type; ``note`` (the
    field's comment in the core) is its help text."""
    label = field.name
    if key not in st.session_state:
        st.session_state[key] = default
    common: dict[str, Any] = {"key": key, "persist_state": "session", "help": note}
    if choices:
        return st.selectbox(label, list(choices), **common)
    if isinstance(default, bool):
        return st.checkbox(label, **common)
    if isinstance(default, int):
        return st.number_input(label, min_value=0, step=1, **common)
    if isinstance(default, float):
        # a step a tenth of the default: +/- moves a learning rate of 1e-3 by 1e-4
        step = abs(default) / 10 if default else 0.01
        return st.number_input(label, min_value=0.0, step=step, format="%g", **common)
    if isinstance(default, str):
        return st.text_input(label, **common)
    st.caption(f"{label} = {default!r} (fixed)")
    return default


def hparams_widgets(algo: str, dataset: str, n_way: int) -> dict[str, Any]:
    """Widgets for every field of ``algo``'s hyperparameters; returns their values.

    A widget shown for the first time starts at the last preset's value (the papers'
    defaults, with smaller meta-batches under "Quick demo").
    """
    defaults = algorithm_defaults(algo, dataset, n_way)
    preset = st.session_state.get(PRESET_KEY, PAPER)
    starting = preset_values(preset, dataset, algo)["hparams"]
    notes = type(defaults).notes()
    departures = st.empty()  # filled once the values are known, above the widgets
    values: dict[str, Any] = {}
    for field in dataclasses.fields(defaults):
        key = _hparam_key(algo, dataset, field.name)
        default = starting.get(field.name, getattr(defaults, field.name))
        choices = _choices(type(defaults), field)
        values[field.name] = _hparam_widget(key, field, default, choices, notes.get(field.name))
    departures.caption(papers_departures(values, defaults))
    return values


def papers_departures(values: dict[str, Any], defaults: Hyperparameters) -> str:
    """One line for students: the papers' defaults, or which values differ from them."""
    changed = [
        f"{name} = {value!r} (paper: {getattr(defaults, name)!r})"
        for name, value in values.items()
        if value != getattr(defaults, name)
    ]
    if not changed:
        return "The papers' defaults."
    return "Changed from the papers' defaults: " + "; ".join(changed) + "."


def _int_input(label: str, name: str, low: int, high: int, **extra: Any) -> int:
    return int(
        st.number_input(
            label,
            min_value=low,
            max_value=high,
            step=1,
            key=KEY + name,
            persist_state="session",
            **extra,
        )
    )


def _data_folder_widgets(dataset: str) -> str | None:
    """The folder of a data set read from files (or an uploaded zip's copy); None: the
    machine's default (Omniglot: ``$METALEARN_OMNIGLOT_DIR``) or nothing yet."""
    machine_default = default_data_dir() if dataset == "omniglot" else None
    typed = st.text_input(
        "Data folder",
        key=KEY + "data_dir",
        persist_state="session",
        placeholder=machine_default,
        help="The folder holding images_background.zip / images_evaluation.zip "
        "(or a folder of class sub-folders)",
    ).strip()
    if machine_default and not typed:
        st.caption(f"Empty: this machine's Omniglot folder ({DATA_DIR_ENV}), {machine_default}")
    if dataset == "folder":
        upload = st.file_uploader(
            "…or upload a zip of class folders", type=["zip"], key=KEY + "folder_zip"
        )
        if upload is not None:
            st.caption(f"Using the uploaded {upload.name}.")
            stored = stored_upload(upload.getvalue())
            remember_upload_name(stored, upload.name)
            return str(stored)
    return typed or machine_default


def settings_widgets(on_preset: Callable[[str], None] = apply_preset) -> dict[str, Any]:
    """The settings panel; returns the chosen values (not yet validated).

    Returns a dict with the ``RunConfig`` fields the page sets: dataset, algo, n_way,
    k_shot, q_query, width (None for the default), seed, val_every, val_episodes,
    data_dir and hparams (every field of the algorithm's dataclass).
    """
    initialise_defaults()
    left, right = st.columns(2)
    left.button("Quick demo", on_click=on_preset, args=(QUICK_DEMO,), width="stretch",
                help="Small, fast settings: learns visibly within seconds")  # fmt: skip
    right.button("Paper settings", on_click=on_preset, args=(PAPER,), width="stretch",
                 help="The papers' episode shape, width and hyperparameters")  # fmt: skip

    datasets = dataset_names()
    if st.session_state.get(KEY + "dataset") not in datasets:
        st.session_state[KEY + "dataset"] = datasets[0]
    st.session_state.setdefault(KEY + "task_kind", dataset_kind(st.session_state[KEY + "dataset"]))
    dataset = st.selectbox(
        "Data set", datasets, format_func=dataset_title, key=KEY + "dataset",
        persist_state="session", on_change=dataset_changed,
    )  # fmt: skip
    description = dataset_description(dataset)
    if description:
        st.caption(description)
    data_dir = _data_folder_widgets(dataset) if needs_folder(dataset) else None
    kind = dataset_kind(dataset)
    algos = algorithm_names(kind)
    if st.session_state.get(KEY + "algo") not in algos:
        st.session_state[KEY + "algo"] = algos[0]
    algo = st.selectbox(
        "Algorithm",
        algos,
        format_func=algorithm_title,
        key=KEY + "algo",
        persist_state="session",
    )
    st.caption(getattr(ALGORITHMS[algo], "summary", ""))
    regression = kind == "regression"
    if regression:
        st.session_state[KEY + "n_way"] = 1
    c1, c2, c3 = st.columns(3)
    with c1:
        n_way = _int_input("N-way", "n_way", 1, 100, disabled=regression)
    with c2:
        k_shot = _int_input("K-shot", "k_shot", 1, 100)
    with c3:
        q_query = _int_input("Q-query", "q_query", 1, 100)
    own_network = not ALGORITHMS[algo].uses_backbone
    c1, c2 = st.columns(2)
    with c1:
        width = _int_input(
            "Width", "width", 0, 512, disabled=own_network,
            help=f"{algorithm_title(algo)} sizes its own network: see Hyperparameters"
            if own_network else "Conv filters or MLP units; 0: default",
        )  # fmt: skip
    with c2:
        seed = _int_input("Seed", "seed", 0, 2**31 - 1)
    drawn = ALGORITHMS[algo].exposes_embeddings
    embedding_2d = st.checkbox(
        "2-D embedding layer",
        key=KEY + "embedding_2d",
        persist_state="session",
        disabled=regression or not drawn,
        help="End the network with a layer of two units, so that the inspector draws the "
        "embedding space itself (and each prototype's region) instead of a projection"
        if drawn
        else f"The inspector draws no embedding space for {algorithm_title(algo)}",
    )
    with st.expander("Hyperparameters"):
        hparams = hparams_widgets(algo, dataset, n_way)
    with st.expander("Validation"):
        val_every = _int_input("Validate every (meta-iterations)", "val_every", 0, 100_000)
        val_episodes = _int_input("Validation episodes", "val_episodes", 1, 10_000)
    return {
        "dataset": dataset,
        "algo": algo,
        "n_way": n_way,
        "k_shot": k_shot,
        "q_query": q_query,
        "width": None if own_network else width or None,
        "embedding_2d": bool(embedding_2d) and not regression and drawn,
        "seed": seed,
        "val_every": val_every,
        "val_episodes": val_episodes,
        "data_dir": data_dir,
        "hparams": hparams,
    }
