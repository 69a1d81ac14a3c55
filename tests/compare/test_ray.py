"""``run_grid`` on Ray: a local Ray with two CPUs gives the local run's results."""

from __future__ import annotations

import pytest

from metalearn_core.compare import run_grid

from .conftest import small_plan

ray = pytest.importorskip("ray", reason="Ray is a test requirement (requirements-test.txt)")


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_cells_equal_the_local_run(local_ray):
    plan = small_plan(seeds=(0, 1))
    on_ray = run_grid(plan, ray_address="auto")
    local = run_grid(plan, workers=1)
    assert [(c["algo"], c["seed"]) for c in on_ray] == [(c["algo"], c["seed"]) for c in local]
    for a, b in zip(on_ray, local, strict=True):
        assert a["episode_scores"] == b["episode_scores"]
        assert a["episodes"] == b["episodes"] and a["parameters"] == b["parameters"]
        assert a["curves"]["validation"]["mean"] == b["curves"]["validation"]["mean"]
