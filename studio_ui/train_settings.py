"""The Train page's settings form: widgets in, a ``RunConfig`` out.

``PAGE_FIELDS`` declares which ``RunConfig`` fields the form shows; each widget's kind,
label, limits and help come from the field's metadata (``metalearn_core.settings``),
and the hyperparameter widgets from the algorithm's dataclass the same way, so a newly
registered algorithm gets its widgets with no change here. The form returns one
``RunConfig`` (``settings_form``); the first visit, presets and an opened run write the
widgets back from one (``restore_settings``). Every widget keeps its value across page changes
(``persist_state="session"``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from metalearn_core.algorithms import ALGORITHMS, algorithm_names, default_hparams
from metalearn_core.algorithms.base import Hyperparameters
from metalearn_core.data import DATASETS
from metalearn_core.data.omniglot import DATA_DIR_ENV, default_data_dir
from metalearn_core.engine import ConfigError, RunConfig
from metalearn_core.settings import SettingInfo, settings_of
from metalearn_core.spec import ProblemSpec
from studio_ui import train_session
from studio_ui.classroom import check_upload_size, served_or_typed
from studio_ui.data import cached_task_source, stored_upload
from studio_ui.i18n import _, shown_as
from studio_ui.train_session import SettingsChoice

log = logging.getLogger("metalearn_studio.train_settings")

KEY = "train_w_"  # widget keys of this page start with this
DEFAULT_DATASET, DEFAULT_ALGO = "glyphs", "protonet"
QUICK_DEMO, PAPER = "Quick demo", "Paper settings"
PRESET_KEY = "train_preset"  # the last preset chosen: new algorithms start from it
# Read from a folder the user names, when the registry does not say (needs_data_dir).
FOLDER_DATASETS = ("omniglot", "folder")
# The RunConfig fields the form shows, in the order drawn; the rest (image size,
# rotations, backbone, data seed...) keep the session's hidden settings: an opened run's.
PAGE_FIELDS = (
    "dataset", "data_dir", "algo", "n_way", "k_shot", "q_query", "width", "seed",
    "embedding_2d", "hparams", "val_every", "val_episodes",
)  # fmt: skip
# What a preset sets (not the data set, the algorithm, the seed or the folder)
PRESET_FIELDS = (
    "n_way", "k_shot", "q_query", "width", "embedding_2d", "hparams", "val_every", "val_episodes",
)  # fmt: skip
# What a data set of another kind of task takes from the last preset
EPISODE_SHAPE = ("n_way", "k_shot", "q_query", "width")
CONFIG_SETTINGS = settings_of(RunConfig)
JS_MAX_INT = 2**53 - 1  # the largest integer a browser's number field holds exactly


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
        data = RunConfig(dataset=dataset, data_dir=data_dir).data_settings()
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


def preset_config(preset: str, dataset: str, algo: str) -> RunConfig:
    """A preset's settings for the chosen data set and algorithm.

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


def _widget_value(name: str, value: Any) -> Any:
    """A config value as its widget holds it: an unset width is 0, an unset folder ""."""
    if value is None:
        return "" if CONFIG_SETTINGS[name].kind is str else 0
    return value


def _config_value(name: str, value: Any) -> Any:
    """A widget's value as the config holds it (the inverse of ``_widget_value``)."""
    info = CONFIG_SETTINGS[name]
    if info.optional and value in (0, ""):
        return None
    return value


def restore_settings(config: RunConfig, fields: Iterable[str] = PAGE_FIELDS) -> None:
    """Show ``config``'s values in the form (call from a callback, before the widgets are
    drawn). A learner with its own network leaves the width widget as it was, for the
    next learner that uses a backbone."""
    uses_backbone = ALGORITHMS[config.algo].uses_backbone
    for name in fields:
        if name == "hparams":
            for field, value in config.hparams.items():
                st.session_state[_hparam_key(config.algo, config.dataset, field)] = value
        elif name != "width" or uses_backbone:
            st.session_state[KEY + name] = _widget_value(name, getattr(config, name))


def unshowable_setting(config: RunConfig) -> str | None:
    """Why the form cannot show ``config`` (a seed past what a browser's number field
    holds: Streamlit would silently show another value), or None."""
    hparams_infos = settings_of(ALGORITHMS[config.algo].hparams_class)
    numbers = [(CONFIG_SETTINGS[name], getattr(config, name)) for name in PAGE_FIELDS
               if name != "hparams"]  # fmt: skip
    numbers += [(hparams_infos[name], value) for name, value in config.hparams.items()]
    for info, value in numbers:
        if info.kind is int and value is not None and value > JS_MAX_INT:
            return f"{info.name}={value} is larger than this page can show ({JS_MAX_INT})"
    return None


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
    restore_settings(preset_config(preset, dataset, algo), PRESET_FIELDS)


def initialise_defaults() -> None:
    """First visit: the quick demo of ProtoNet on glyphs."""
    if KEY + "dataset" not in st.session_state:
        st.session_state[PRESET_KEY] = QUICK_DEMO
        restore_settings(preset_config(QUICK_DEMO, DEFAULT_DATASET, DEFAULT_ALGO))


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
    preset = st.session_state.get(PRESET_KEY, QUICK_DEMO)
    restore_settings(preset_config(preset, dataset, algo), EPISODE_SHAPE)


# ----------------------------------------------------------------------------- widgets


def _hparam_key(algo: str, dataset: str, field: str) -> str:
    # per algorithm and kind of task: MAML's sinusoid defaults differ from its image ones
    return f"{KEY}hp_{algo}_{dataset_kind(dataset)}_{field}"


def _number_limits(info: SettingInfo) -> dict[str, Any]:
    """``min_value`` / ``max_value`` / ``step`` of a number widget from a field's limits
    (an exclusive bound such as a learning rate's > 0 shows as its edge; the config
    refuses the edge itself with a message)."""
    if info.kind is int:
        low = 0 if info.optional else info.low  # an optional integer shows unset as 0
        high = None if info.high is None else min(int(info.high), JS_MAX_INT)
        return {"min_value": low, "max_value": high, "step": int(info.step or 1)}
    low = info.low if info.low is not None else info.above
    return {
        "min_value": None if low is None else float(low),
        "max_value": None if info.high is None else float(info.high),
    }


def setting_widget(
    info: SettingInfo, key: str, default: Any, *, help: str | None = None, **extra: Any
) -> Any:
    """One widget for one field, its kind from the field's type and choices, its label,
    limits and help text from the field's metadata."""
    if key not in st.session_state:
        st.session_state[key] = default
    # the metadata's words are extracted from the core (studio_ui/i18n_extract.py)
    common: dict[str, Any] = {
        "key": key,
        "persist_state": "session",
        "help": help or (_(info.help) if info.help else None),
    }
    common.update(extra)
    label = _(info.label)
    if info.choices:
        return st.selectbox(label, list(info.choices), **common)
    if info.kind is bool:
        return st.checkbox(label, **common)
    if info.kind is int:
        return int(st.number_input(label, **_number_limits(info), **common))
    if info.kind is float:
        # a step a tenth of the default: +/- moves a learning rate of 1e-3 by 1e-4
        step = info.step or (abs(default) / 10 if default else 0.01)
        return st.number_input(label, step=step, format="%g", **_number_limits(info), **common)
    if info.kind is str:
        return st.text_input(label, **common)
    st.caption(_("{label} = {value} (fixed)").format(label=label, value=repr(default)))
    return default


def config_widget(name: str, **extra: Any) -> Any:
    """The widget of RunConfig field ``name``; returns the value as the config holds it."""
    info = CONFIG_SETTINGS[name]
    key = KEY + name
    return _config_value(name, setting_widget(info, key, st.session_state.get(key), **extra))


def hparams_widgets(algo: str, dataset: str, n_way: int) -> dict[str, Any]:
    """Widgets for every field of ``algo``'s hyperparameters; returns their values.

    A widget shown for the first time starts at the last preset's value (the papers'
    defaults, with smaller meta-batches under "Quick demo").
    """
    defaults = algorithm_defaults(algo, dataset, n_way)
    preset = st.session_state.get(PRESET_KEY, PAPER)
    starting = preset_config(preset, dataset, algo).hparams
    departures = st.empty()  # filled once the values are known, above the widgets
    values: dict[str, Any] = {}
    for name, info in settings_of(type(defaults)).items():
        key = _hparam_key(algo, dataset, name)
        values[name] = setting_widget(info, key, starting.get(name, getattr(defaults, name)))
    departures.caption(papers_departures(values, defaults))
    return values


def papers_departures(values: dict[str, Any], defaults: Hyperparameters) -> str:
    """One line for students: the papers' defaults, or which values differ from them."""
    changed = [
        _("{name} = {value} (paper: {paper})").format(
            name=name, value=repr(value), paper=repr(getattr(defaults, name))
        )
        for name, value in values.items()
        if value != getattr(defaults, name)
    ]
    if not changed:
        return _("The papers' defaults.")
    return _("Changed from the papers' defaults: {changes}.").format(changes="; ".join(changed))


def _data_folder_widgets(dataset: str) -> str | None:
    """The folder of a data set read from files (or an uploaded zip's copy); None: the
    machine's default (Omniglot: ``$METALEARN_OMNIGLOT_DIR``) or nothing yet."""
    machine_default = default_data_dir() if dataset == "omniglot" else None
    typed = st.text_input(
        _("Data folder"),
        key=KEY + "data_dir",
        persist_state="session",
        placeholder=machine_default,
        help=_(
            "The folder holding images_background.zip / images_evaluation.zip "
            "(or a folder of class sub-folders)"
        ),
    ).strip()
    if machine_default and not typed:
        st.caption(
            _("Empty: this machine's Omniglot folder ({variable}), {folder}").format(
                variable=DATA_DIR_ENV, folder=machine_default
            )
        )
    if dataset == "folder":
        upload = st.file_uploader(
            _("…or upload a zip of class folders"), type=["zip"], key=KEY + "folder_zip"
        )
        if upload is not None:
            try:
                check_upload_size(upload.size, upload.name)
            except ValueError as error:
                st.error(str(error))
                return None
            st.caption(_("Using the uploaded {file}.").format(file=upload.name))
            stored = stored_upload(upload.getvalue())
            train_session.current().remember_upload_name(stored, upload.name)
            return str(stored)
    return served_or_typed(typed or machine_default)  # refused with its message at build


def _hidden_settings_note(hidden: RunConfig) -> str | None:
    """The settings the form does not show that an opened run changed, named for students."""
    defaults = RunConfig()
    changed = [
        f"{name} = {getattr(hidden, name)!r}"
        for name in ("image_size", "rotations", "backbone", "data_seed", "history_limit")
        if getattr(hidden, name) != getattr(defaults, name)
    ]
    if not changed:
        return None
    return _("Kept from the opened run (set on the command line): {settings}.").format(
        settings=", ".join(changed)
    )


def settings_form(on_preset: Callable[[str], None] = apply_preset) -> SettingsChoice:
    """The settings panel; returns the chosen ``RunConfig``, or why the values make none.

    The ``PAGE_FIELDS`` come from the widgets, every other field from the session's
    hidden settings (an opened run's image size, rotations, backbone...).
    """
    initialise_defaults()
    left, right = st.columns(2)
    left.button(_("Quick demo"), on_click=on_preset, args=(QUICK_DEMO,), width="stretch",
                help=_("Small, fast settings: learns visibly within seconds"))  # fmt: skip
    right.button(_("Paper settings"), on_click=on_preset, args=(PAPER,), width="stretch",
                 help=_("The papers' episode shape, width and hyperparameters"))  # fmt: skip

    datasets = dataset_names()
    if st.session_state.get(KEY + "dataset") not in datasets:
        st.session_state[KEY + "dataset"] = datasets[0]
    st.session_state.setdefault(KEY + "task_kind", dataset_kind(st.session_state[KEY + "dataset"]))
    dataset = st.selectbox(
        _(CONFIG_SETTINGS["dataset"].label), datasets,
        format_func=shown_as({name: dataset_title(name) for name in datasets}),
        key=KEY + "dataset", persist_state="session", on_change=dataset_changed,
    )  # fmt: skip
    description = dataset_description(dataset)
    if description:
        st.caption(_(description))
    data_dir = _data_folder_widgets(dataset) if needs_folder(dataset) else None
    kind = dataset_kind(dataset)
    algos = algorithm_names(kind)
    if st.session_state.get(KEY + "algo") not in algos:
        st.session_state[KEY + "algo"] = algos[0]
    algo = st.selectbox(
        _(CONFIG_SETTINGS["algo"].label),
        algos,
        format_func=shown_as({name: algorithm_title(name) for name in algos}),
        key=KEY + "algo",
        persist_state="session",
    )
    if summary := getattr(ALGORITHMS[algo], "summary", ""):
        st.caption(_(summary))
    regression = kind == "regression"
    if regression:
        st.session_state[KEY + "n_way"] = 1
    chosen: dict[str, Any] = {"dataset": dataset, "algo": algo, "data_dir": data_dir}
    for column, name in zip(st.columns(3), ("n_way", "k_shot", "q_query"), strict=True):
        with column:
            chosen[name] = config_widget(name, disabled=regression and name == "n_way")
    own_network = not ALGORITHMS[algo].uses_backbone
    c1, c2 = st.columns(2)
    with c1:
        width = config_widget(
            "width", disabled=own_network,
            help=_("{algorithm} sizes its own network: see Hyperparameters").format(
                algorithm=_(algorithm_title(algo))
            )
            if own_network else _("Conv filters or MLP units; 0: default"),
        )  # fmt: skip
        chosen["width"] = None if own_network else width
    with c2:
        chosen["seed"] = config_widget("seed")
    drawn = ALGORITHMS[algo].exposes_embeddings
    embedding_2d = config_widget(
        "embedding_2d",
        disabled=regression or not drawn,
        help=_(
            "End the network with a layer of two units, so that the inspector draws the "
            "embedding space itself (and each prototype's region) instead of a projection"
        )
        if drawn
        else _("The inspector draws no embedding space for {algorithm}").format(
            algorithm=_(algorithm_title(algo))
        ),
    )
    chosen["embedding_2d"] = bool(embedding_2d) and not regression and drawn
    with st.expander(_("Hyperparameters")):
        chosen["hparams"] = hparams_widgets(algo, dataset, chosen["n_way"])
    with st.expander(_("Validation")):
        chosen["val_every"] = config_widget("val_every")
        chosen["val_episodes"] = config_widget("val_episodes")
    hidden = train_session.current().hidden_settings
    if (note := _hidden_settings_note(hidden)) is not None:
        st.caption(note)
    assert set(chosen) == set(PAGE_FIELDS), "the form draws exactly the declared fields"
    return choice_from(hidden, chosen)


def choice_from(hidden: RunConfig, chosen: dict[str, Any]) -> SettingsChoice:
    """The form's ``RunConfig``: the chosen fields over the hidden ones (a learner with its
    own network takes the automatic backbone), or the error that the values make."""
    values = hidden.to_dict() | chosen
    if not ALGORITHMS[values["algo"]].uses_backbone:
        values["backbone"] = "auto"
    try:
        config = RunConfig.from_dict(values)
    except ConfigError as error:
        return SettingsChoice(None, str(error), json.dumps(values, sort_keys=True, default=repr))
    return SettingsChoice(config, None, config.to_json())
