"""The core's errors in the student's language.

The core builds its messages in English without gettext: a ``ConfigError`` keeps its
field, its value and what is allowed as templates marked with the core's ``N_`` and their
values (``settings.Allowed``). ``describe_error`` translates each template and fills it with
the same values, naming the field by its translated label; any other error is shown as
``str(error)``.
"""

from __future__ import annotations

import functools

from metalearn_core.algorithms import ALGORITHMS
from metalearn_core.engine.config import RunConfig
from metalearn_core.settings import Allowed, ConfigError, SettingInfo, settings_of
from studio_ui.i18n import _


@functools.cache
def _labels() -> dict[str, str]:
    """English label of every run setting and hyperparameter, by field name and by
    ``algo.field`` (``maml.inner_lr``), the names a ConfigError or a link uses."""
    labels = {name: info.label for name, info in settings_of(RunConfig).items()}
    for algo, algorithm in ALGORITHMS.items():
        for name, info in settings_of(algorithm.hparams_class).items():
            labels.setdefault(name, info.label)
            labels.setdefault(f"hparams.{name}", info.label)
            labels[f"{algo}.{name}"] = info.label
    return labels


def field_label(field_name: str) -> str:
    """The translated label of a setting's name, or the name itself translated (a
    name the core marked with ``N_``, "model parameters"), else unchanged."""
    return _(_labels().get(field_name, field_name))


def translated_allowed(allowed: Allowed | SettingInfo) -> str:
    """What a setting allows, translated ("an integer in 1..50" in the student's language)."""
    words = allowed.allowed_words() if isinstance(allowed, SettingInfo) else allowed
    return "".join(_(template).format(**dict(values)) for template, values in words.parts)


def describe_error(error: BaseException) -> str:
    """``error``'s message in the student's language when it is a ConfigError the core
    built from templates; ``str(error)`` for anything else."""
    if isinstance(error, ConfigError) and error.allowed_parts is not None:
        return _("{field}={value} is invalid: {allowed}").format(
            field=field_label(error.field_name),
            value=repr(error.value),
            allowed=translated_allowed(Allowed(error.allowed_parts)),
        )
    return str(error)
