"""Formulas read from docstrings: the rule a reader of the code sees, typeset by the pages.

Each algorithm's module docstring, and the GAN objectives', state their formulas in
``.. math::`` blocks (LaTeX), each introduced by a sentence. ``parse_math_blocks`` returns
them as (introduction, LaTeX) pairs (``update_rules`` for a learner's module), so there is
no second copy to drift from the code.
"""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass

MATH_DIRECTIVE = ".. math::"


@dataclass(frozen=True)
class MathBlock:
    """One displayed formula: the text that introduces it (Markdown) and its LaTeX."""

    introduction: str
    latex: str


def update_rules(learner_class: type) -> list[MathBlock]:
    """The ``.. math::`` blocks of the module that defines ``learner_class``, in order."""
    docstring = inspect.getdoc(sys.modules[learner_class.__module__]) or ""
    return parse_math_blocks(docstring)


def parse_math_blocks(docstring: str) -> list[MathBlock]:
    """Each ``.. math::`` block (its indented lines) with the paragraph just before it."""
    lines = docstring.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MATH_DIRECTIVE:
            continue
        body = []
        for following in lines[index + 1 :]:
            if following.strip() and not following.startswith((" ", "\t")):
                break
            body.append(following.strip())
        latex = "\n".join(body).strip()
        if latex:
            blocks.append(MathBlock(_markdown(_paragraph_before(lines, index)), latex))
    return blocks


def _paragraph_before(lines: list[str], index: int) -> str:
    """The unindented paragraph just above ``lines[index]`` (blank lines between skipped)."""
    end = index
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and lines[start - 1].strip() and not lines[start - 1].startswith((" ", "\t")):
        start -= 1
    return " ".join(line.strip() for line in lines[start:end])


def _markdown(text: str) -> str:
    """reStructuredText's inline markup as Markdown: ``code`` and :math:`x`."""
    text = re.sub(r":math:`([^`]+)`", r"$\1$", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)
