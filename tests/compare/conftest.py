"""Tiny comparisons: blobs (classification) and sinusoid (regression), seconds each."""

from __future__ import annotations

import pytest

from metalearn_core.compare import ComparisonPlan
from metalearn_core.engine import RunConfig

BLOBS = RunConfig(dataset="blobs", n_way=3, k_shot=2, q_query=3, width=16, val_episodes=4)
SINUSOID = RunConfig(dataset="sinusoid", algo="maml", n_way=1, k_shot=5, q_query=5, val_episodes=4)
SMALL_SCORING = dict(test_episodes=12, extra_episodes=6, test_inner_steps=3, validate_every=8)


def small_plan(algos=("protonet", "maml"), base=BLOBS, **changes) -> ComparisonPlan:
    values = {"episodes": 16, **SMALL_SCORING, **changes}
    return ComparisonPlan(tuple(algos), base, **values)


@pytest.fixture
def blobs_plan() -> ComparisonPlan:
    return small_plan()
