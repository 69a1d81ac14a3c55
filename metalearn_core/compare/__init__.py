"""Comparing learners fairly: the same episodes, an equal budget, the same test episodes.

- ``plan``: ``ComparisonPlan`` (2 to 4 learners of one task kind, one data set and
  episode shape, one budget; every learner's ``RunConfig`` built from one shared config).
- ``live``: ``Comparison``, the learners trained side by side tick by tick (the page).
- ``scoring``: one trained learner scored (``evaluate``'s numbers, other shots and ways,
  test-time inner steps).
- ``results``: the cells pooled per learner, the generated reading, ``comparison.json``.
- ``runner``: the (learner, seed) grid headless, in processes or as Ray tasks (the CLI).
"""

from metalearn_core.compare.live import Comparison
from metalearn_core.compare.plan import (
    MAX_LEARNERS,
    MIN_LEARNERS,
    STEP_LEARNERS,
    ComparisonError,
    ComparisonPlan,
)
from metalearn_core.compare.results import (
    RESULT_FILE,
    build_result,
    parse_result,
    parse_result_zip,
    read_result,
    reading,
    write_result,
)
from metalearn_core.compare.runner import run_cell, run_grid

__all__ = [
    "MAX_LEARNERS",
    "MIN_LEARNERS",
    "RESULT_FILE",
    "STEP_LEARNERS",
    "Comparison",
    "ComparisonError",
    "ComparisonPlan",
    "build_result",
    "parse_result",
    "parse_result_zip",
    "read_result",
    "reading",
    "run_cell",
    "run_grid",
    "write_result",
]
