"""Babel's extractor for the core (``metalearn_core``), named in ``babel.cfg``.

The core may not import gettext, so its shown words are marked two ways, both read here:

- ``N_("...")`` from ``metalearn_core.words``, a no-op marker (titles, choice labels),
  extracted as Babel's Python extractor extracts any keyword;
- the settings' metadata: the string ``help=`` and ``label=`` arguments of every
  ``setting(...)`` call (``metalearn_core.settings``), which the forms show, so the
  dataclasses that declare the settings carry no marker at all;
- the sentence that introduces each formula of a module docstring's ``.. math::`` blocks
  (``docmath.parse_math_blocks``), which the pages show above the typeset formula.

The app translates both where it shows them (``studio_ui.i18n._``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

from babel.messages.extract import extract_python

SETTING_FUNCTION = "setting"
SHOWN_METADATA = ("help", "label")


def setting_metadata(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each literal ``help=`` / ``label=`` of a ``setting(...)`` call."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name != SETTING_FUNCTION:
            continue
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg in SHOWN_METADATA:
                text = _literal_text(value)
                if text:
                    yield value.lineno, text


def formula_introductions(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of the sentence before each ``.. math::`` block of the module docstring,
    as ``docmath`` reads it for the pages."""
    from metalearn_core.docmath import parse_math_blocks

    docstring = ast.get_docstring(ast.parse(source), clean=True)
    for block in parse_math_blocks(docstring or ""):
        if block.introduction:
            yield 1, block.introduction


def _literal_text(node: ast.expr) -> str | None:
    """A string literal's text, implicit concatenations included; None for anything else
    (an f-string or a name is computed, not a fixed word)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def extract_core(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extractor interface: ``N_`` markers, the settings' shown metadata, and the
    formulas' introductions."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    text = source.decode(options.get("encoding", "utf-8"))
    for line, message in (*setting_metadata(text), *formula_introductions(text)):
        yield line, None, message, []  # no keyword: the message as it is
