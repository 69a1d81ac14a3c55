"""The settings form the Train and Compare pages share: one widget per declared setting.

A page declares its settings as ``links.Param`` records (``run_params`` gives the data
set, folder, episode shape and seed that both pages draw); ``draw(link, name)`` draws a
setting's widget, its kind from the field's type and choices, its label, limits and help
from the field's metadata (``metalearn_core.settings``) with the page's own caps
(``page_info``: a browser's largest exact integer, the classroom's limits). Every widget
is keyed by the setting's name and bound to the URL (``bind="query-params"``), with the
declared default as its value, so the URL holds exactly the settings that differ from
it. A control the link hides (``hide=``) is not drawn; its value still applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import streamlit as st

from metalearn_core.engine import RunConfig
from metalearn_core.engine.limits import INNER_STEP_FIELDS
from metalearn_core.settings import SettingInfo, settings_of
from studio_ui.classroom import server_limits
from studio_ui.i18n import _
from studio_ui.links import MAX_VALUE_LENGTH, PageLink, Param, Values
from studio_ui.run_presets import (
    DEFAULT_DATASET,
    QUICK_DEMO,
    dataset_kind,
    dataset_names,
    dataset_title,
    needs_folder,
    preset_config,
)

CONFIG_SETTINGS = settings_of(RunConfig)
JS_MAX_INT = 2**53 - 1  # the largest integer a browser's number field holds exactly
EPISODE_SHAPE = ("n_way", "k_shot", "q_query")


def page_info(info: SettingInfo) -> SettingInfo:
    """``info`` with the page's cap: an integer a browser's number field holds exactly."""
    high = info.high
    if info.kind is int:
        high = JS_MAX_INT if high is None else min(high, JS_MAX_INT)
    return info if high == info.high else dataclasses.replace(info, high=high)


def server_cap(name: str) -> int | None:
    """The classroom's limit on field ``name`` (``engine.limits``), where it has one: a
    link asking for more is refused like any out-of-range value (the form's own value
    gets the build's message)."""
    limits = server_limits()
    if name in INNER_STEP_FIELDS:
        return limits.max_inner_steps
    if name == "val_episodes":
        return limits.max_val_episodes
    return None


def is_regression(values: Values, dataset: str = "dataset") -> bool:
    return dataset_kind(values[dataset]) == "regression"


def run_params(
    prefix: str, algo_of: Callable[[Values], str], *, fields: tuple[str, ...] = EPISODE_SHAPE
) -> dict[str, Param]:
    """The data set, its folder, the episode shape and the seed, as both forms declare
    them under ``prefix`` (the page's key prefix); the shape's defaults are the quick
    demo's for the data set and ``algo_of(values)``."""
    dataset = prefix + "dataset"

    def quick(values: Values) -> RunConfig:
        return preset_config(QUICK_DEMO, values[dataset], algo_of(values))

    def shape_param(name: str) -> Param:
        return Param(
            prefix + name,
            default=lambda values: getattr(quick(values), name),
            info=page_info(CONFIG_SETTINGS[name]),
            applies=(lambda values: not is_regression(values, dataset))
            if name == "n_way"
            else (lambda values: True),
        )

    params = {
        "dataset": Param(
            dataset,
            default=lambda values: DEFAULT_DATASET,
            info=CONFIG_SETTINGS["dataset"],
            options=lambda values: dataset_names(),
            label=dataset_title,
        ),
        "data_dir": Param(
            prefix + "data_dir",
            default=lambda values: "",
            info=dataclasses.replace(CONFIG_SETTINGS["data_dir"], optional=False),
            applies=lambda values: needs_folder(values[dataset]),
        ),
    }
    for name in fields:
        params[name] = shape_param(name)
    params["seed"] = Param(
        prefix + "seed", default=lambda values: 0, info=page_info(CONFIG_SETTINGS["seed"])
    )
    return params


# ----------------------------------------------------------------------------- widgets


def number_limits(info: SettingInfo, unset_as_zero: bool = False) -> dict[str, Any]:
    """``min_value`` / ``max_value`` / ``step`` of a number widget from a field's limits
    (an exclusive bound such as a learning rate's > 0 shows as its edge; the config
    refuses the edge itself with a message)."""
    if info.kind is int:
        low = 0 if unset_as_zero else info.low
        high = None if info.high is None else min(int(info.high), JS_MAX_INT)
        return {"min_value": low, "max_value": high, "step": int(info.step or 1)}
    low = info.low if info.low is not None else info.above
    return {
        "min_value": None if low is None else float(low),
        "max_value": None if info.high is None else float(info.high),
    }


def widget_label(param: Param) -> str:
    return _(param.info.label) if param.info is not None else param.name


def draw(link: PageLink, name: str, *, label: str | None = None, help: str | None = None,
         target: Any = None, as_radio: bool = False, as_slider: bool = False,
         **extra: Any) -> Any:  # fmt: skip
    """The widget of setting ``name`` (in ``target``, a column or the sidebar; default:
    where the page is drawing); returns its value, which the link records. A hidden
    control is not drawn: its URL value, or its default, applies."""
    param = link.spec.by_name[name]
    if link.is_hidden(name):
        return link.record(name, link.fixed_value(name))
    default = param.default(link.values)
    surface = target if target is not None else st
    common: dict[str, Any] = {
        "key": name,
        "bind": "query-params",
        "persist_state": "session",
        "help": help
        or (_(param.info.help) if param.info is not None and param.info.help else None),
    }
    common.update(extra)
    label = label or widget_label(param)
    if param.options is not None:
        options = list(param.options(link.values))

        # worded now, in the page's language: Streamlit (and AppTest) may format an
        # option later, outside this run
        labels = {option: _(param.label(option)) for option in options}

        def shown(option: Any) -> str:
            return labels.get(option, str(option))

        if param.items is not None:
            held = st.session_state.get(name)
            if held is not None and any(item not in options for item in held):
                st.session_state[name] = [item for item in held if item in options] or default
            # no max_selections: more items than allowed (a browser can send them) get the
            # page's clear message from its own check instead of Streamlit's exception
            value = surface.multiselect(label, options, default=default, format_func=shown,
                                        **common)  # fmt: skip
            return link.record(name, list(value))
        if name in st.session_state and st.session_state[name] not in options:
            st.session_state[name] = default  # e.g. an algorithm of the other kind of task
        if as_slider:
            value = surface.select_slider(label, options, value=default, format_func=shown,
                                          **common)  # fmt: skip
        elif as_radio:
            value = surface.radio(label, options, index=options.index(default),
                                  format_func=shown, horizontal=True, **common)  # fmt: skip
        else:
            value = surface.selectbox(label, options, index=options.index(default),
                                      format_func=shown, **common)  # fmt: skip
        return link.record(name, value)
    info = param.info
    assert info is not None
    if info.kind is bool:
        return link.record(name, bool(surface.checkbox(label, value=bool(default), **common)))
    if info.kind is int and as_slider:
        value = surface.slider(label, int(info.low), int(info.high), value=int(default),
                               **common)  # fmt: skip
        return link.record(name, int(value))
    if info.kind is int:
        limits = number_limits(info, param.unset_as_zero)
        value = surface.number_input(label, value=int(default or 0), **limits, **common)
        return link.record(name, int(value))
    if info.kind is float:
        # a step a tenth of the default: +/- moves a learning rate of 1e-3 by 1e-4
        step = info.step or (abs(default) / 10 if default else 0.01)
        common.setdefault("format", "%g")
        value = surface.number_input(label, value=float(default), step=step,
                                     **number_limits(info), **common)  # fmt: skip
        return link.record(name, float(value))
    if info.kind is str:
        value = surface.text_input(label, value=default or "", max_chars=MAX_VALUE_LENGTH,
                                   **common)  # fmt: skip
        return link.record(name, value)
    st.caption(_("{label} = {value} (fixed)").format(label=label, value=repr(default)))
    return link.record(name, default)


def share_box(link: PageLink) -> None:
    """The link to this page's setup, in a code box whose icon copies it (``hide=share``
    takes the box away)."""
    if link.is_hidden("share"):
        return
    with st.expander(_("Link to this setup"), icon=":material/link:"):
        st.code(link.url(), language=None, wrap_lines=True)
        st.caption(
            _(
                "The copy icon at the box's right copies it: the link opens this page with "
                "these settings, in this language. A teacher may add &hide= and the names of "
                "controls to leave out (e.g. &hide=seed,share); their values still apply."
            )
        )
