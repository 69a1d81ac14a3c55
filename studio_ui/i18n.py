"""The interface's two languages, with gettext catalogs.

Strings are marked in the source with ``_("...")`` (shown now) or ``N_("...")`` (a constant
translated where it is shown, e.g. a page title in ``catalog.py``); Babel extracts them
(``babel.cfg``) into ``studio_ui/locale/messages.pot``, and ``zh_CN/LC_MESSAGES/messages.po``
holds the Chinese. Both the ``.po`` and its compiled ``.mo`` are committed; a ``.mo`` that is
missing or older than its ``.po`` is compiled here on first use (after editing a translation
the app needs no build step). See docs/i18n.md.

The language is the session's: ``st.session_state["lang"]``, set by the switch in app.py's
sidebar and mirrored in the URL's ``lang`` query parameter, so that a link opens the same
language. Widgets keyed by their page keep their value when their label changes language.
"""

from __future__ import annotations

import dataclasses
import functools
import gettext
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

Words = TypeVar("Words")

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# code -> the language's own name, as the switch shows it
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
LANGUAGE_KEY = "lang"  # the session-state key and the URL query parameter
# The switch's own widget key. The language lives under LANGUAGE_KEY, outside any widget:
# a widget drawn by app.py is a new widget for every page it runs under (its identity
# includes the page), and a new widget would start from its default, English.
SWITCH_KEY = "lang_switch"
NOTE_KEY = "lang_note"  # why a link's language was not used; shown until the switch is used
# A hostile URL may hold anything: a value longer than this is not even compared.
MAX_QUERY_VALUE_LENGTH = 16

_compile_lock = threading.Lock()


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Marks a constant for extraction without translating it (translated where shown)."""
    return message


def catalog_paths(language: str) -> tuple[Path, Path]:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def compile_catalog_if_stale(language: str) -> Path | None:
    """Compile ``language``'s .po into its .mo when the .mo is missing or older; the .mo path."""
    po_path, mo_path = catalog_paths(language)
    if not po_path.exists():
        return mo_path if mo_path.exists() else None
    with _compile_lock:
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            return mo_path
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po_path.open("rb") as source:
            catalog = read_po(source, locale=language)
        temporary = mo_path.with_suffix(".mo.tmp")
        with temporary.open("wb") as target:
            write_mo(target, catalog)
        temporary.replace(mo_path)  # atomic: a concurrent reader never sees half a file
    return mo_path


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language`` (English: the source strings themselves)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {sorted(LANGUAGES)}")
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    mo_path = compile_catalog_if_stale(language)
    if mo_path is None:
        raise FileNotFoundError(f"no catalog for {language!r} under {LOCALE_DIR}")
    with mo_path.open("rb") as source:
        return gettext.GNUTranslations(source)


def current_language() -> str:
    """The session's language (English outside a Streamlit session)."""
    try:
        import streamlit as st

        language = st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    except Exception:  # no script run context: tests of plain functions, the CLI
        return DEFAULT_LANGUAGE
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _(message: str) -> str:
    """``message`` in the session's language."""
    return translations(current_language()).gettext(message)


def translated_words(words: Words) -> Words:
    """A copy of a figure's words dataclass (``metalearn_core.figures``' ``*Words``) with
    every text in the session's language. The core marks their English defaults with its
    no-op ``N_``, so Babel extracts them; a figure builder then takes the copy as its
    ``words`` argument, and never imports gettext itself."""
    return dataclasses.replace(
        words,  # type: ignore[type-var]
        **{
            field.name: _(value)
            for field in dataclasses.fields(words)  # type: ignore[arg-type]
            if isinstance(value := getattr(words, field.name), str)
        },
    )


def shown_as(labels: Mapping[Any, str] | Iterable[str]) -> Callable[[Any], str]:
    """A widget's ``format_func`` for options that stay English values (so that a language
    switch keeps the choice): each option shown as its label in the session's language.

    ``labels`` maps each option to its English label, or lists options that are their own
    labels. The labels are translated now, during the page's run: a format function
    called later, outside it (``AppTest`` formats values between runs), still answers in
    the language the page was drawn in.
    """
    pairs = labels.items() if isinstance(labels, Mapping) else ((o, o) for o in labels)
    translated = {option: _(label) for option, label in pairs}
    return lambda option: translated.get(option, str(option))


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in the session's language."""
    return translations(current_language()).ngettext(singular, plural, count)


def language_from_query(value: object) -> str | None:
    """The language a URL's ``lang`` asks for, or None when it names none we have."""
    if not isinstance(value, str) or len(value) > MAX_QUERY_VALUE_LENGTH:
        return None
    aliases = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "en": "en"}
    return aliases.get(value.strip().lower(), value if value in LANGUAGES else None)


def language_switch() -> str:
    """The sidebar's language switch, shown on every page by app.py; returns the language.

    On a session's first run the URL's ``lang`` decides (an unknown value is ignored, with a
    note); afterwards the switch does, and the URL follows it.
    """
    import streamlit as st

    if LANGUAGE_KEY not in st.session_state:
        requested = st.query_params.get(LANGUAGE_KEY)
        language = language_from_query(requested)
        if requested is not None and language is None:
            st.session_state[NOTE_KEY] = (
                "Unknown language in the link; showing English. · 链接中的语言无效,显示英文。"
            )
        st.session_state[LANGUAGE_KEY] = language or DEFAULT_LANGUAGE
    st.session_state[SWITCH_KEY] = current_language()

    def follow_switch() -> None:
        st.session_state[LANGUAGE_KEY] = st.session_state[SWITCH_KEY]
        st.session_state.pop(NOTE_KEY, None)

    st.sidebar.radio(
        "Language · 语言",
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=SWITCH_KEY,
        on_change=follow_switch,
        horizontal=True,
    )
    if NOTE_KEY in st.session_state:
        st.sidebar.caption(st.session_state[NOTE_KEY])
    language = current_language()
    if st.query_params.get(LANGUAGE_KEY) != language:
        st.query_params[LANGUAGE_KEY] = language
    return language
