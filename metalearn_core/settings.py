"""Settings declared once: each field of a settings dataclass carries its help text,
limits and choices, and every reader (validation, the command line's flags, the app's
forms) takes them from there.

>>> from dataclasses import dataclass
>>> @dataclass
... class Demo:
...     steps: int = setting(5, help="inner steps", low=1, high=50)
>>> describe_setting(Demo, "steps").allowed()
'an integer in 1..50'
>>> try:
...     check_setting(describe_setting(Demo, "steps"), 500)
... except ConfigError as error:
...     print(error)
steps=500 is invalid: must be an integer in 1..50

A field's type hint says what kind of value it takes (``int``, ``float``, ``bool``,
``str``, a ``Literal`` of choices, or any of them ``| None``); its metadata says the rest.
Every integer has an upper bound: many students share one server, and a size just under
its memory would stop everyone's run.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import MISSING, dataclass
from typing import Any, Literal

from metalearn_core.words import N_


@dataclass(frozen=True)
class Allowed:
    """What a setting allows, in words kept translatable: English templates marked with
    ``N_`` and their values, joined in order. ``str()`` gives the English text; the app
    translates each template and fills it with the same values."""

    parts: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    @classmethod
    def of(cls, template: str, **values: Any) -> Allowed:
        return cls(((template, tuple((k, str(v)) for k, v in values.items())),))

    def __add__(self, other: Allowed) -> Allowed:
        return Allowed(self.parts + other.parts)

    def __str__(self) -> str:
        return "".join(template.format(**dict(values)) for template, values in self.parts)


class ConfigError(ValueError):
    """An invalid setting; the message names the field, the value and what is allowed.

    ``allowed`` is plain English text, or an ``Allowed`` whose templates the app
    translates (``allowed_parts``; None for plain text)."""

    def __init__(self, field_name: str, value: Any, allowed: str | Allowed):
        self.field_name, self.value, self.allowed = field_name, value, str(allowed)
        self.allowed_parts = allowed.parts if isinstance(allowed, Allowed) else None
        super().__init__(f"{field_name}={value!r} is invalid: {self.allowed}")


def setting(
    default: Any = MISSING,
    *,
    help: str,  # noqa: A002 (the word every form library uses)
    label: str | None = None,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    choices: tuple[Any, ...] | None = None,
    step: float | None = None,
    default_factory: Any = MISSING,
) -> Any:
    """A dataclass field with its help text and limits.

    Args:
        default / default_factory: as for ``dataclasses.field``.
        help: what the field means, for students (help texts, ``algorithms`` listing).
        label: the name a form shows (default: the field's name).
        low, high: inclusive bounds of a number; every integer field needs ``high``.
        above: an exclusive lower bound (a learning rate: ``above=0``).
        choices: allowed values, where the type hint is not a ``Literal`` already.
        step: the increment a form's +/- buttons use.
    """
    metadata = {
        "help": help,
        "label": label,
        "low": low,
        "high": high,
        "above": above,
        "choices": None if choices is None else tuple(choices),
        "step": step,
    }
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class SettingInfo:
    """What one field takes, read from its type hint and ``setting(...)`` metadata."""

    name: str
    kind: type  # int, float, bool, str, or object (anything, e.g. a mapping)
    optional: bool  # None is allowed
    help: str
    label: str
    low: float | None = None
    high: float | None = None
    above: float | None = None
    choices: tuple[Any, ...] | None = None
    step: float | None = None

    def allowed(self) -> str:
        """What a valid value is, in words ("an integer in 1..100", "a number > 0")."""
        return str(self.allowed_words())

    def allowed_words(self) -> Allowed:
        """``allowed()`` as translatable templates and their values."""
        if self.choices is not None:
            words = Allowed.of(
                N_("one of {choices}"), choices=", ".join(repr(c) for c in self.choices)
            )
        elif self.kind is bool:
            words = Allowed.of(N_("true or false"))
        elif self.kind is str:
            words = Allowed.of(N_("a string"))
        elif self.kind in (int, float):
            low, high, above = (_number_text(v) for v in (self.low, self.high, self.above))
            templates = _INTEGER_WORDS if self.kind is int else _NUMBER_WORDS
            if self.low is not None and self.high is not None:
                words = Allowed.of(templates["in"], low=low, high=high)
            elif self.low is not None:
                words = Allowed.of(templates[">="], low=low)
            elif self.above is not None and self.high is not None:
                words = Allowed.of(templates["> <="], above=above, high=high)
            elif self.above is not None:
                words = Allowed.of(templates[">"], above=above)
            elif self.high is not None:
                words = Allowed.of(templates["<="], high=high)
            else:
                words = Allowed.of(templates[""])
        else:
            words = Allowed.of(N_("a value"))
        return words + Allowed.of(N_(" (or null)")) if self.optional else words


_INTEGER_WORDS = {
    "in": N_("an integer in {low}..{high}"),
    ">=": N_("an integer >= {low}"),
    "> <=": N_("an integer > {above} and <= {high}"),
    ">": N_("an integer > {above}"),
    "<=": N_("an integer <= {high}"),
    "": N_("an integer"),
}
_NUMBER_WORDS = {
    "in": N_("a finite number in {low}..{high}"),
    ">=": N_("a finite number >= {low}"),
    "> <=": N_("a finite number > {above} and <= {high}"),
    ">": N_("a finite number > {above}"),
    "<=": N_("a finite number <= {high}"),
    "": N_("a finite number"),
}


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value) if value != 0 else 0
    return str(value) if isinstance(value, int) else f"{value:g}"


def _kind_of(hint: Any) -> tuple[type, bool, tuple[Any, ...] | None]:
    """(kind, optional, Literal choices) of a type hint."""
    optional = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [o for o in typing.get_args(hint) if o is not type(None)]
        optional = len(options) < len(typing.get_args(hint))
        hint = options[0] if len(options) == 1 else object
        origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        return type(choices[0]), optional, choices
    if hint in (int, float, bool, str):
        return hint, optional, None
    return object, optional, None


@functools.cache  # the type hints of a class are read once
def settings_of(cls: type) -> dict[str, SettingInfo]:
    """Every field of dataclass ``cls`` (or of an instance's class), in declaration order."""
    hints = typing.get_type_hints(cls)
    infos = {}
    for field in dataclasses.fields(cls):
        kind, optional, literal_choices = _kind_of(hints.get(field.name, Any))
        meta = field.metadata
        infos[field.name] = SettingInfo(
            name=field.name,
            kind=kind,
            optional=optional,
            help=meta.get("help") or "",
            label=meta.get("label") or field.name,
            low=meta.get("low"),
            high=meta.get("high"),
            above=meta.get("above"),
            choices=meta.get("choices") or literal_choices,
            step=meta.get("step"),
        )
    return infos


def describe_setting(cls: type, name: str) -> SettingInfo:
    return settings_of(cls)[name]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_setting(info: SettingInfo, value: Any, label: str | None = None) -> Any:
    """``value`` checked against ``info`` (an integer is accepted for a float and
    returned as one); raises ``ConfigError`` naming ``label``, the value and the limit."""
    label = label or info.name
    if value is None and info.optional:
        return None
    wrong = ConfigError(label, value, Allowed.of(N_("must be ")) + info.allowed_words())
    if info.choices is not None:
        if value not in info.choices or isinstance(value, bool) != (info.kind is bool):
            raise wrong
        return value
    if info.kind is bool:
        if not isinstance(value, bool):
            raise wrong
        return value
    if info.kind is str:
        if not isinstance(value, str):
            raise wrong
        return value
    if info.kind is int:
        if not _is_int(value):
            raise wrong
    elif info.kind is float:
        if not (_is_int(value) or isinstance(value, float)) or not math.isfinite(value):
            raise wrong
        value = float(value)
    else:
        return value
    if (
        (info.low is not None and value < info.low)
        or (info.high is not None and value > info.high)
        or (info.above is not None and value <= info.above)
    ):
        raise wrong
    return value


def check_fields(instance: Any, prefix: str = "") -> None:
    """Check every field of a settings dataclass instance, normalising floats in place."""
    for name, info in settings_of(type(instance)).items():
        checked = check_setting(info, getattr(instance, name), prefix + name)
        if checked is not getattr(instance, name):
            object.__setattr__(instance, name, checked)  # 1 -> 1.0 for a float field
