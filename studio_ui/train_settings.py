"""The Train page's settings form: widgets in, a ``RunConfig`` out.

``PAGE_FIELDS`` declares which ``RunConfig`` fields the form shows; ``train_params()``
declares them as the page's settings (``links.Param``: one per field and one per
hyperparameter of every algorithm, ``"<algo>.<field>"``), each widget's kind, label,
limits and help from the field's metadata (``metalearn_core.settings``), so a newly
registered algorithm gets its widgets with no change here. The shared widgets and the
data set, episode shape and seed fields are ``studio_ui.settings_form``'s (Compare draws
the same). Every setting lives in the URL (``studio_ui.links``): a link opens this
setup. The form returns one ``RunConfig`` (``settings_form``); presets and an opened run
write the widgets back from one (``restore_settings``). Every widget keeps its value
across page changes (``persist_state="session"``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import streamlit as st

from metalearn_core.algorithms import ALGORITHMS
from metalearn_core.algorithms.base import Hyperparameters
from metalearn_core.data.omniglot import DATA_DIR_ENV, default_data_dir
from metalearn_core.engine import ConfigError, RunConfig
from metalearn_core.settings import settings_of
from studio_ui import train_session
from studio_ui.classroom import check_upload_size, served_or_typed
from studio_ui.data import stored_upload
from studio_ui.errors import describe_error
from studio_ui.i18n import _
from studio_ui.links import PageLink, PageParams, Param, Values, open_page, register_page
from studio_ui.run_presets import (
    DEFAULT_DATASET,
    PAPER,
    QUICK_DEMO,
    algorithm_defaults,
    algorithm_title,
    algorithms_for,
    dataset_description,
    dataset_kind,
    dataset_names,
    default_algorithm,
    preset_config,
)
from studio_ui.settings_form import (
    CONFIG_SETTINGS,
    JS_MAX_INT,
    draw,
    page_info,
    run_params,
    server_cap,
    share_box,
)
from studio_ui.train_session import SettingsChoice

log = logging.getLogger("metalearn_studio.train_settings")

PAGE = "train"
KEY = ""  # the page's widget keys are the settings' names, as in its links
PRESET_KEY = "train_preset"  # the last preset chosen: new algorithms start from it
TASK_KIND_KEY = "train_task_kind"  # the kind of task of the data set last drawn
FOLDER_ZIP_KEY = "train_folder_zip"
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
# Names a link's hide= takes besides the settings' own
HIDE_GROUPS = {"presets": (), "hparams": (), "validation": ("val_every", "val_episodes"),
               "share": ()}  # fmt: skip


def hparam_key(algo: str, field: str) -> str:
    """The widget key and link name of a hyperparameter: ``maml.inner_lr``."""
    return f"{algo}.{field}"


def hparam_default(algo: str, field: str, dataset: str) -> Any:
    """The quick demo's value of ``algo``'s hyperparameter on ``dataset`` (the class's
    own default where the algorithm does not take that kind of task)."""
    if algo in algorithms_for(dataset):
        return preset_config(QUICK_DEMO, dataset, algo).hparams[field]
    return getattr(ALGORITHMS[algo].hparams_class(), field)


def _quick(values: Values) -> RunConfig:
    return preset_config(QUICK_DEMO, values["dataset"], values["algo"])


def _hparam_param(algo: str, field: str) -> Param:
    info = settings_of(ALGORITHMS[algo].hparams_class)[field]
    return Param(
        hparam_key(algo, field),
        default=lambda values: hparam_default(algo, field, values["dataset"]),
        info=page_info(info),
        options=None if info.choices is None else (lambda values: info.choices),
        applies=lambda values: values["algo"] == algo,
        server_cap=server_cap(field),
    )


def train_params() -> PageParams:
    """The Train page's settings in the order the form draws them."""
    shared = run_params(KEY, algo_of=lambda values: values["algo"])
    shape = [shared.pop(name) for name in ("n_way", "k_shot", "q_query")]
    seed = shared.pop("seed")
    params = [
        *shared.values(),
        Param(
            "algo",
            default=lambda values: default_algorithm(values["dataset"]),
            info=CONFIG_SETTINGS["algo"],
            options=lambda values: algorithms_for(values["dataset"]),
            label=algorithm_title,
        ),
        *shape,
        Param(
            "width",
            default=lambda values: _quick(values).width or 0,
            info=page_info(CONFIG_SETTINGS["width"]),
            applies=lambda values: ALGORITHMS[values["algo"]].uses_backbone,
            unset_as_zero=True,
        ),
        seed,
        Param(
            "embedding_2d",
            default=lambda values: False,
            info=CONFIG_SETTINGS["embedding_2d"],
            applies=lambda values: (
                dataset_kind(values["dataset"]) == "classification"
                and ALGORITHMS[values["algo"]].exposes_embeddings
            ),
        ),
    ]
    for algo, learner in ALGORITHMS.items():
        params += [_hparam_param(algo, field) for field in settings_of(learner.hparams_class)]
    params += [
        Param(name, default=lambda values, name=name: getattr(_quick(values), name),
              info=page_info(CONFIG_SETTINGS[name]), server_cap=server_cap(name))
        for name in ("val_every", "val_episodes")
    ]  # fmt: skip
    return PageParams(PAGE, tuple(params), HIDE_GROUPS, alias=_hparam_alias)


def _hparam_alias(name: str, asked: Mapping[str, Any]) -> str | None:
    """A hyperparameter named alone (``inner_lr``) is the chosen algorithm's."""

    def last(value: Any) -> Any:
        return value[-1] if isinstance(value, list) and value else value

    dataset = last(asked.get("dataset", DEFAULT_DATASET))
    if dataset not in dataset_names():
        return None
    by_title = {algorithm_title(a): a for a in algorithms_for(dataset)}
    algo = last(asked.get("algo")) or default_algorithm(dataset)
    algo = by_title.get(algo, algo)
    if algo not in ALGORITHMS or name not in settings_of(ALGORITHMS[algo].hparams_class):
        return None
    return hparam_key(algo, name)


register_page(PAGE, train_params)


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
                st.session_state[hparam_key(config.algo, field)] = value
        elif name != "width" or uses_backbone:
            st.session_state[KEY + name] = _widget_value(name, getattr(config, name))
    if "dataset" in fields:
        st.session_state[TASK_KIND_KEY] = dataset_kind(config.dataset)


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


def _forget_hparams() -> None:
    """Every algorithm's hyperparameter widgets start again from their defaults."""
    names = {hparam_key(a, f) for a, c in ALGORITHMS.items() for f in settings_of(c.hparams_class)}
    for key in [k for k in st.session_state if k in names]:
        del st.session_state[key]


def apply_preset(preset: str) -> None:
    """Button callback: load a preset for the currently chosen data set and algorithm.

    The preset also becomes the starting point of every algorithm chosen afterwards
    (``hparams_widgets``), so switching to MAML after "Quick demo" stays quick.
    """
    dataset = st.session_state.get(KEY + "dataset", DEFAULT_DATASET)
    algo = st.session_state.get(KEY + "algo") or default_algorithm(dataset)
    st.session_state[PRESET_KEY] = preset
    _forget_hparams()  # other algorithms restart from this preset too
    restore_settings(preset_config(preset, dataset, algo), PRESET_FIELDS)


def dataset_changed() -> None:
    """Selectbox callback: a data set of another kind of task (images or points vs a
    1-D function) takes the last preset's episode shape and hyperparameters for that
    kind, so choosing the sinusoid after glyphs gives K=10 points, not one."""
    dataset = st.session_state[KEY + "dataset"]
    previous = st.session_state.get(TASK_KIND_KEY)
    kind = dataset_kind(dataset)
    st.session_state[TASK_KIND_KEY] = kind
    if previous is None or previous == kind:
        return
    algos = algorithms_for(dataset)
    algo = st.session_state.get(KEY + "algo")
    algo = algo if algo in algos else default_algorithm(dataset)
    preset = st.session_state.get(PRESET_KEY, QUICK_DEMO)
    _forget_hparams()  # a kind of task has its own defaults (MAML's sinusoid rates)
    config = preset_config(preset, dataset, algo)
    restore_settings(config, EPISODE_SHAPE)
    if preset != QUICK_DEMO:
        restore_settings(config, ("hparams",))


# ----------------------------------------------------------------------------- widgets


def hparams_widgets(link: PageLink, algo: str, dataset: str, n_way: int) -> dict[str, Any]:
    """Widgets for every field of ``algo``'s hyperparameters; returns their values.

    A widget shown for the first time starts at the last preset's value (the papers'
    defaults under "Paper settings"; the quick demo's are the widgets' own defaults).
    """
    defaults = algorithm_defaults(algo, dataset, n_way)
    preset = st.session_state.get(PRESET_KEY, QUICK_DEMO)
    starting = preset_config(preset, dataset, algo).hparams
    departures = st.empty()  # filled once the values are known, above the widgets
    values: dict[str, Any] = {}
    for name in settings_of(type(defaults)):
        key = hparam_key(algo, name)
        if preset != QUICK_DEMO and key not in st.session_state and name in starting:
            st.session_state[key] = starting[name]
        values[name] = draw(link, key)
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


def _data_folder_widgets(link: PageLink, dataset: str) -> str | None:
    """The folder of a data set read from files (or an uploaded zip's copy); None: the
    machine's default (Omniglot: ``$METALEARN_OMNIGLOT_DIR``) or nothing yet."""
    machine_default = default_data_dir() if dataset == "omniglot" else None
    typed = draw(
        link,
        KEY + "data_dir",
        label=_("Data folder"),
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
    if dataset == "folder" and not link.is_hidden(KEY + "data_dir"):
        upload = st.file_uploader(
            _("…or upload a zip of class folders"), type=["zip"], key=FOLDER_ZIP_KEY
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


def open_settings() -> PageLink:
    """Call first on the page: a link's settings checked (a note on what was ignored)."""
    return open_page(train_params())


def settings_form(
    link: PageLink | None = None, on_preset: Callable[[str], None] = apply_preset
) -> SettingsChoice:
    """The settings panel; returns the chosen ``RunConfig``, or why the values make none.

    The ``PAGE_FIELDS`` come from the widgets (or, for a control the link hides, from
    the link), every other field from the session's hidden settings (an opened run's
    image size, rotations, backbone...). The link to this setup closes the panel.
    """
    link = link or open_settings()
    st.session_state.setdefault(PRESET_KEY, QUICK_DEMO)
    if not link.is_hidden("presets"):
        left, right = st.columns(2)
        left.button(_("Quick demo"), on_click=on_preset, args=(QUICK_DEMO,), width="stretch",
                    help=_("Small, fast settings: learns visibly within seconds"))  # fmt: skip
        right.button(_("Paper settings"), on_click=on_preset, args=(PAPER,), width="stretch",
                     help=_("The papers' episode shape, width and hyperparameters"))  # fmt: skip

    dataset = draw(link, KEY + "dataset", on_change=dataset_changed)
    st.session_state[TASK_KIND_KEY] = kind = dataset_kind(dataset)
    if not link.is_hidden(KEY + "dataset") and (description := dataset_description(dataset)):
        st.caption(_(description))
    data_dir = None
    if link.applies(KEY + "data_dir"):
        data_dir = _data_folder_widgets(link, dataset)
    algo = draw(link, KEY + "algo")
    if not link.is_hidden(KEY + "algo"):
        st.caption(_(getattr(ALGORITHMS[algo], "summary", "")))
    regression = kind == "regression"
    if regression:
        st.session_state[KEY + "n_way"] = 1
    chosen: dict[str, Any] = {"dataset": dataset, "algo": algo, "data_dir": data_dir}
    for column, name in zip(st.columns(3), ("n_way", "k_shot", "q_query"), strict=True):
        with column:
            chosen[name] = draw(link, KEY + name, disabled=regression and name == "n_way")
    if regression:
        chosen["n_way"] = 1
    own_network = not ALGORITHMS[algo].uses_backbone
    c1, c2 = st.columns(2)
    with c1:
        width = draw(
            link, KEY + "width", disabled=own_network,
            help=_("{algorithm} sizes its own network: see Hyperparameters").format(
                algorithm=_(algorithm_title(algo))
            )
            if own_network else _("Conv filters or MLP units; 0: default"),
        )  # fmt: skip
        chosen["width"] = None if own_network else _config_value("width", width)
    with c2:
        chosen["seed"] = draw(link, KEY + "seed")
    drawn = ALGORITHMS[algo].exposes_embeddings
    embedding_2d = draw(
        link,
        KEY + "embedding_2d",
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
    if link.is_hidden("hparams"):
        chosen["hparams"] = {
            field: link.fixed_value(hparam_key(algo, field))
            for field in settings_of(ALGORITHMS[algo].hparams_class)
        }
        for field, value in chosen["hparams"].items():
            link.record(hparam_key(algo, field), value)
    else:
        with st.expander(_("Hyperparameters")):
            chosen["hparams"] = hparams_widgets(link, algo, dataset, chosen["n_way"])
    if link.is_hidden("validation"):
        chosen["val_every"] = draw(link, KEY + "val_every")
        chosen["val_episodes"] = draw(link, KEY + "val_episodes")
    else:
        with st.expander(_("Validation")):
            chosen["val_every"] = draw(link, KEY + "val_every")
            chosen["val_episodes"] = draw(link, KEY + "val_episodes")
    hidden = train_session.current().hidden_settings
    if (note := _hidden_settings_note(hidden)) is not None:
        st.caption(note)
    share_box(link)
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
        return SettingsChoice(
            None, describe_error(error), json.dumps(values, sort_keys=True, default=repr)
        )
    return SettingsChoice(config, None, config.to_json())
