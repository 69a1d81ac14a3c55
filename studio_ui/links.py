"""Links a teacher hands out: every setting of a page lives in the URL's query parameters.

Each page declares its settings once, as ``Param`` records in a ``PageParams`` (name =
the widget's key = the query parameter; kind, limits and help from the settings
metadata; a default that may depend on the settings drawn before it). Its widgets are
drawn with ``bind="query-params"`` (``studio_ui.settings_form.draw``), so Streamlit
keeps the URL in step with them and drops a value equal to the widget's default.

What this module adds around that binding:

- ``open_page(spec)``, first thing on the page: a URL that arrives with the page is
  checked against the same limits as the form (unknown keys, repeated keys, values too
  long, out of range, of the wrong type, an algorithm of another kind of task). What
  fails is taken out of the URL, the page opens with that setting's default, and a note
  names what was ignored (never an exception). A choice may be given by its name
  (``algo=maml``, as on the command line) or by the title the page shows.
- ``hide=name1,name2``: those controls are not drawn; their value (from the URL, or the
  default) still applies, as TensorFlow Playground's ``*_hide`` keys do.
- ``PageLink.url()``: the link to the page's current setup (what the copy box shows):
  every setting that differs from its default, the language and the ``hide`` list.
- ``apply_setup(page, setup)``: a setup ``{name: value}`` written into a page's form,
  checked like a URL (for lessons and presets that open a prepared setup).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from metalearn_core.settings import ConfigError, SettingInfo, check_setting
from studio_ui.errors import translated_allowed
from studio_ui.i18n import LANGUAGE_KEY, LANGUAGES, _, current_language, translations
from studio_ui.sessions import RUN_PARAM  # a student's run token: never in a shared link

HIDE_PARAM = "hide"
LESSON_PARAM = "lesson"  # opens a lesson (studio_ui.lessons, studio_ui.lesson_texts)
# Parameters the pages read elsewhere; a link keeps them (but a student's run token).
GLOBAL_PARAMS = (LANGUAGE_KEY, HIDE_PARAM, LESSON_PARAM, RUN_PARAM)
MAX_VALUE_LENGTH = 200  # characters of one value (a data folder's path is the longest)
MAX_HIDDEN = 50  # names one hide list may hold
NOTES_KEY = "links_notes_"  # + page name: what the last link had ignored
SEEN_KEY = "links_seen_run_"  # + page name: app.py's run count when the page last ran
_INTEGER = re.compile(r"[+-]?\d{1,20}")

Values = Mapping[str, Any]


def _always(values: Values) -> bool:
    return True


@dataclass(frozen=True)
class Param:
    """One setting of a page, as a widget and as a query parameter.

    ``info`` gives the kind and limits of a number, a flag or a text (from the settings
    metadata, with the page's own caps); ``options`` makes it a choice among names
    (given the values before it), shown by ``label``; ``items`` makes it a list of such
    names, of that many entries at least and at most. ``default`` and ``applies`` see
    the values of the parameters declared before this one.
    """

    name: str
    default: Callable[[Values], Any]
    info: SettingInfo | None = None
    options: Callable[[Values], Sequence[str]] | None = None
    label: Callable[[str], str] = str
    items: tuple[int, int] | None = None
    applies: Callable[[Values], bool] = _always
    unset_as_zero: bool = False  # an optional integer whose widget shows "unset" as 0
    server_cap: int | None = None  # the classroom's limit, below the metadata's (a link's)

    # ---- checking -------------------------------------------------------------------

    def check(self, value: Any, values: Values) -> Any:
        """``value`` (as the widget holds it) checked; ``ValueError`` saying what is allowed."""
        if self.options is not None:
            offered = list(self.options(values))
            chosen = list(value) if self.items is not None else [value]
            if self.items is not None and (
                isinstance(value, str) or not self.items[0] <= len(chosen) <= self.items[1]
            ):
                low, high = self.items
                raise ValueError(_("choose {low} to {high}").format(low=low, high=high))
            if len(set(chosen)) != len(chosen):
                raise ValueError(_("a choice is repeated"))
            for item in chosen:
                if item not in offered:
                    raise ValueError(
                        _("{value} is not offered here; choose one of {offered}").format(
                            value=repr(item), offered=", ".join(offered)
                        )
                    )
            return list(chosen) if self.items is not None else value
        assert self.info is not None, f"{self.name} declares neither info nor options"
        if self.unset_as_zero and value == 0 and not isinstance(value, bool):
            return 0
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            raise ValueError(_("longer than {n} characters").format(n=MAX_VALUE_LENGTH))
        try:
            checked = check_setting(self.info, value, self.name)
        except ConfigError:
            raise ValueError(
                _("must be {allowed}").format(allowed=translated_allowed(self.info))
            ) from None
        if self.server_cap is not None and checked is not None and checked > self.server_cap:
            raise ValueError(_("this server allows at most {n}").format(n=self.server_cap))
        return checked

    def parse(self, texts: list[str], values: Values) -> Any:
        """The value a URL's texts for this parameter give, checked."""
        if self.items is None and len(texts) != 1:
            raise ValueError(_("given {n} times").format(n=len(texts)))
        if any(len(text) > MAX_VALUE_LENGTH for text in texts):
            raise ValueError(_("longer than {n} characters").format(n=MAX_VALUE_LENGTH))
        if self.options is not None:
            offered = list(self.options(values))
            by_label = {
                translations(language).gettext(self.label(option)): option
                for option in offered
                for language in LANGUAGES
            }
            if self.items is not None:
                texts = [part for text in texts for part in text.split(",") if part]
                return self.check([by_label.get(t, t) for t in texts], values)
            return self.check(by_label.get(texts[0], texts[0]), values)
        return self.check(_from_text(self.info, texts[0]), values)

    # ---- writing --------------------------------------------------------------------

    def texts(self, value: Any) -> list[str]:
        """``value`` as the link writes it (choices by name, as the command line)."""
        if self.items is not None:
            return [str(item) for item in value]
        if isinstance(value, bool):
            return ["true" if value else "false"]
        if isinstance(value, float):
            return [repr(value)]
        return [str(value)]

    def widget_texts(self, value: Any) -> list[str]:
        """``value`` as the bound widget reads it from the URL (choices by their title)."""
        if self.options is None:
            return self.texts(value)
        if self.items is not None:
            return [self.label(item) for item in value]
        return [self.label(value)]


def _from_text(info: SettingInfo | None, text: str) -> Any:
    """A URL's text as a value of ``info``'s kind; ``ValueError`` if it is not one."""
    kind = info.kind if info is not None else str
    if kind is bool:
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(_("must be true or false"))
        return lowered == "true"
    if kind is int:
        if not _INTEGER.fullmatch(text.strip()):
            raise ValueError(_("must be {allowed}").format(allowed=translated_allowed(info)))
        return int(text)
    if kind is float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(
                _("must be {allowed}").format(allowed=translated_allowed(info))
            ) from None
        if not math.isfinite(number):
            raise ValueError(_("must be {allowed}").format(allowed=translated_allowed(info)))
        return number
    return text


@dataclass(frozen=True)
class PageParams:
    """A page's settings, in the order its form draws them (a default may depend on the
    values before it); ``groups`` are extra names ``hide`` takes (several controls, or a
    control that is no setting, such as the preset buttons)."""

    page: str  # the page's URL path, e.g. "train"
    params: tuple[Param, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    prefix: str = ""  # the page's key prefix: a name without it is taken as well
    # another way to name a setting, given the (resolved) names and values asked for:
    # Train takes a hyperparameter's bare name for the chosen algorithm's
    alias: Callable[[str, Mapping[str, Any]], str | None] | None = None

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        assert len(set(names)) == len(names), f"{self.page}: a parameter is declared twice"

    @property
    def by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    def hideable(self) -> set[str]:
        return set(self.by_name) | set(self.groups)

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` with every name as the page declares it (``dataset`` on Compare is
        ``cmp_dataset``; ``inner_lr`` on Train is the chosen algorithm's); names that
        resolve to nothing stay, to be reported."""
        resolved: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for name, value in given.items():
            if name in self.by_name or self.prefix + name not in self.by_name:
                (resolved if name in self.by_name else later)[name] = value
            else:
                resolved.setdefault(self.prefix + name, value)
        for name, value in later.items():
            target = self.alias(name, resolved) if self.alias is not None else None
            if target in self.by_name and target not in resolved:
                resolved[target] = value
            else:
                resolved[name] = value
        return resolved

    def hide_name(self, name: str) -> str | None:
        """The declared control (or group) a hide list's ``name`` means, or None."""
        for candidate in (name, self.prefix + name):
            if candidate in self.by_name or candidate in self.groups:
                return candidate
        return None

    def check_all(
        self, given: Mapping[str, Any], parse: bool
    ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        """Walk the parameters in order: (every value, the given ones that passed, notes).

        ``given`` holds a URL's texts (``parse``) or a setup's values; whatever fails,
        or does not apply with the values before it, takes its default and gets a note.
        """
        values: dict[str, Any] = {}
        accepted: dict[str, Any] = {}
        notes: list[str] = []
        for param in self.params:
            default = param.default(values)
            values[param.name] = default
            if param.name not in given:
                continue
            if not param.applies(values):
                notes.append(_("{name} does not apply to these settings").format(name=param.name))
                continue
            try:
                raw = given[param.name]
                if not parse and isinstance(raw, str):
                    raw, from_texts = [raw], True  # a setup may give a URL's text
                else:
                    from_texts = parse or (
                        param.options is not None
                        and isinstance(raw, list | tuple)
                        and all(isinstance(item, str) for item in raw)
                    )
                value = param.parse(list(raw), values) if from_texts else param.check(raw, values)
            except ValueError as error:
                notes.append(f"{param.name}: {error}")
                continue
            values[param.name] = accepted[param.name] = value
        unknown = [name for name in given if name not in self.by_name]
        notes += [_("{name} is not a setting of this page").format(name=n) for n in unknown]
        return values, accepted, notes


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- a page's run


class PageLink:
    """One run of a page: its hidden controls, the values its form records, its link."""

    def __init__(self, spec: PageParams, hidden: frozenset[str], url_values: dict[str, Any]):
        self.spec = spec
        self.hidden = hidden
        self.url_values = url_values  # checked values the URL gave (for hidden controls)
        self.values: dict[str, Any] = {}  # recorded this run, in the form's order

    def is_hidden(self, *names: str) -> bool:
        return any(name in self.hidden for name in names)

    def default(self, name: str) -> Any:
        return self.spec.by_name[name].default(self.values)

    def applies(self, name: str) -> bool:
        return self.spec.by_name[name].applies(self.values)

    def fixed_value(self, name: str) -> Any:
        """A hidden control's value: the URL's, if it gave a valid one, else the default."""
        param = self.spec.by_name[name]
        if name in self.url_values:
            try:
                return param.check(self.url_values[name], self.values)
            except ValueError:
                pass  # valid under other values: the default holds under these
        return param.default(self.values)

    def record(self, name: str, value: Any) -> Any:
        self.values[name] = value
        return value

    def setup(self) -> dict[str, Any]:
        """The recorded settings that differ from their defaults, by name."""
        changed: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        for param in self.spec.params:
            if param.name not in self.values:
                continue
            default = param.default(seen)
            applies = param.applies(seen)
            seen[param.name] = value = self.values[param.name]
            if applies and value != default:
                changed[param.name] = value
        return changed

    def query(self) -> list[tuple[str, str]]:
        """The link's query: changed settings, then the language and the hide list."""
        by_name = self.spec.by_name
        pairs = [(n, t) for n, v in self.setup().items() for t in by_name[n].texts(v)]
        pairs.append((LANGUAGE_KEY, current_language()))
        if self.hidden:
            order = [p.name for p in self.spec.params] + sorted(self.spec.groups)
            pairs.append((HIDE_PARAM, ",".join(n for n in order if n in self.hidden)))
        return pairs

    def url(self) -> str:
        """The full link to this setup (``st.context.url`` is the page's address)."""
        try:
            base = st.context.url
        except Exception:  # outside a browser session (tests): a link relative to the app
            base = None
        return f"{base or '/' + self.spec.page}?{urlencode(self.query())}"


def _query_texts() -> dict[str, list[str]]:
    params = st.query_params
    return {key: params.get_all(key) for key in params.keys()}


def _entered(page: str) -> bool:
    """Whether this run enters the page: its first run in this session, or the first after
    another page ran (app.py counts the session's runs)."""
    runs = st.session_state.get("app_runs")
    seen_key = SEEN_KEY + page
    seen = st.session_state.get(seen_key)
    st.session_state[seen_key] = runs if runs is not None else -1
    if seen is None:
        return True
    return runs is not None and seen >= 0 and runs - seen > 1


def _hide_list(texts: list[str] | None, spec: PageParams) -> tuple[frozenset[str], list[str]]:
    if not texts:
        return frozenset(), []
    text = ",".join(texts)
    if len(text) > MAX_VALUE_LENGTH * 4:
        return frozenset(), [_("hide: longer than {n} characters").format(n=MAX_VALUE_LENGTH * 4)]
    names = [n.strip() for n in text.split(",") if n.strip()][:MAX_HIDDEN]
    notes: list[str] = []
    hidden: set[str] = set()
    for name in names:
        known = spec.hide_name(name)
        if known is None:
            notes.append(_("hide: {name} is not a control of this page").format(name=_short(name)))
            continue
        hidden.add(known)
        hidden.update(spec.groups.get(known, ()))
    return frozenset(hidden), notes


def _clean_url(spec: PageParams) -> None:
    """Check the URL's settings; take out what fails, write the choices of drawn controls
    as their widgets read them (by title); rerun the page when the URL changed (the
    widgets read it as the run starts). The notes on what was ignored wait in the
    session for the page to show."""
    given = _query_texts()
    hidden, notes = _hide_list(given.get(HIDE_PARAM), spec)
    resolved = spec.resolve({k: v for k, v in given.items() if k not in GLOBAL_PARAMS})
    settings = {k: v for k, v in resolved.items() if k in spec.by_name}
    for key in resolved:
        if key not in spec.by_name:
            notes.append(_("{name} is not a setting of this page").format(name=_short(key)))
    _values, accepted, setting_notes = spec.check_all(settings, parse=True)
    notes += setting_notes
    changed = False
    for key in [k for k in given if k not in GLOBAL_PARAMS and k not in resolved]:
        del st.query_params[key]  # named another way: written below under its own name
        changed = True
    for key, texts in resolved.items():
        wanted = None
        if key in accepted:
            param = spec.by_name[key]
            value = accepted[key]
            wanted = param.texts(value) if key in hidden else param.widget_texts(value)
            if wanted == texts and key in given:
                continue
        try:
            if wanted is None:
                if key in given:
                    del st.query_params[key]
            else:
                st.query_params[key] = wanted
            changed = True
        except StreamlitAPIException:  # bound already (a rerun of this page): left as is
            pass
    if notes:
        st.session_state[NOTES_KEY + spec.page] = notes
    if changed:
        st.rerun()  # the widgets seed from the URL as a run starts: start again from it


def open_page(spec: PageParams) -> PageLink:
    """Call first on the page: checks a URL that arrives with it (rerunning the page
    once when something had to be taken out or rewritten), reads ``hide``, shows what
    the link had ignored, and returns this run's ``PageLink`` for the form."""
    if _entered(spec.page):
        _clean_url(spec)
    given = _query_texts()
    hidden, _notes = _hide_list(given.get(HIDE_PARAM), spec)
    settings = {k: v for k, v in given.items() if k in spec.by_name}
    _values, accepted, _notes = spec.check_all(settings, parse=True)
    notes = st.session_state.pop(NOTES_KEY + spec.page, None)
    if notes:
        st.warning(
            _("Some settings of the link were ignored (their defaults apply): {notes}.").format(
                notes="; ".join(notes)
            ),
            icon=":material/link_off:",
        )
    return PageLink(spec, hidden, accepted)


# ----------------------------------------------------------------------------- setups


_PAGES: dict[str, Callable[[], PageParams]] = {}


def register_page(page: str, params: Callable[[], PageParams]) -> None:
    """Make ``apply_setup(page, ...)`` know the page's settings (each form module
    registers its page when imported)."""
    _PAGES[page] = params


def page_params(page: str) -> PageParams:
    if page not in _PAGES:
        _import_forms()
    if page not in _PAGES:
        raise ValueError(f"no page {page!r} takes a setup; pages: {sorted(_PAGES)}")
    return _PAGES[page]()


def _import_forms() -> None:
    import studio_ui.compare_session  # noqa: F401  (each registers its page)
    import studio_ui.gan_session  # noqa: F401
    import studio_ui.train_settings  # noqa: F401


def apply_setup(page: str, setup: Mapping[str, Any]) -> list[str]:
    """Write ``setup`` (``{setting name: value}``, names as in the page's links) into the
    page's form, checked like a URL: a value that fails, or does not apply, is left out.

    Values may be the widgets' own (``{"k_shot": 5, "algo": "maml"}``) or a URL's texts
    (``{"k_shot": "5"}``). Settings the setup does not name take their defaults, so a
    setup opens the same page whatever the form held before. Call it before the page's
    widgets are drawn (from a button's callback, or at the top of the page).

    Returns:
        A note per setting left out (empty when all applied).
    """
    spec = page_params(page)
    values, _accepted, notes = spec.check_all(spec.resolve(setup), parse=False)
    for name, value in values.items():
        st.session_state[name] = list(value) if isinstance(value, list) else value
    return notes
