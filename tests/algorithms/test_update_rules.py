"""Update rules read from the algorithms' docstrings: what the Train page typesets."""

from __future__ import annotations

import pytest

from metalearn_core.algorithms import ALGORITHMS
from metalearn_core.docmath import MathBlock, parse_math_blocks, update_rules

DOC = r"""Title.

Some text that is not a rule.

The inner step uses ``alpha`` and :math:`\theta`,
on two lines:

.. math::
    \phi = \theta - \alpha g

    \text{(a blank line inside the block)}
Unindented text ends the block.

.. math::

Nothing in that block.
"""


def test_each_math_block_comes_with_the_paragraph_that_introduces_it():
    assert parse_math_blocks(DOC) == [
        MathBlock(
            "The inner step uses `alpha` and $\\theta$, on two lines:",
            "\\phi = \\theta - \\alpha g\n\n\\text{(a blank line inside the block)}",
        )
    ]


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_every_algorithm_states_its_rule_in_latex(name):
    rules = update_rules(ALGORITHMS[name])
    assert rules, f"{name}'s module docstring has no .. math:: block"
    for rule in rules:
        assert rule.introduction.endswith(":"), rule.introduction
        assert rule.latex.count("{") == rule.latex.count("}"), rule.latex


def test_first_order_maml_shows_the_rule_that_drops_the_hessian():
    latex = [rule.latex for rule in update_rules(ALGORITHMS["fomaml"])]
    assert any("first-order MAML" in block and "\\nabla^2" in block for block in latex)
