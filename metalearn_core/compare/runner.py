"""Running every (learner, seed) cell of a plan headless: in this process, in worker
processes, or as Ray tasks on a Ray cluster.

A cell trains one learner alone to its budget and scores it; with an episode budget its
numbers do not depend on where it runs (each ``Trainer`` owns its random streams), so the
grid gives the same results on one core, on several, or on a cluster. Ray is imported only
when asked for (``ray_address``): it is no requirement of the app.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from metalearn_core.compare.plan import ComparisonPlan
from metalearn_core.compare.scoring import recorded_steps, score_trainer
from metalearn_core.engine.trainer import Trainer

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.5
MAX_WORKERS = 256


def run_cell(
    plan_values: dict[str, Any], algo: str, seed: int, save_dir: str | None = None
) -> dict[str, Any]:
    """Train ``algo`` with ``seed`` to the plan's budget and score it (a plain dict in and
    out, so that it crosses process and machine boundaries). ``save_dir``: also save the
    run in ``save_dir/ALGO-seedS`` (on the machine that ran it)."""
    plan = ComparisonPlan.from_dict(plan_values)
    trainer = Trainer(plan.learner_config(algo, seed))
    # validation reads only each episode's final score: no per-step query curve
    with recorded_steps(trainer.learner, 0):
        if plan.episodes is not None:
            while trainer.divergence is None and trainer.episodes_seen < plan.episodes:
                left = plan.episodes - trainer.episodes_seen
                trainer.run_tick(
                    max_iterations=-(-left // trainer.meta_batch), max_seconds=TICK_SECONDS
                )
        else:
            while trainer.divergence is None and trainer.train_seconds < plan.seconds:
                trainer.run_tick(
                    max_seconds=min(TICK_SECONDS, plan.seconds - trainer.train_seconds)
                )
        trainer.finish_validation()
    logger.info("%s seed %d: %d episodes trained", algo, seed, trainer.episodes_seen)
    cell = score_trainer(trainer, plan, trainer.source(plan.test_split), seed)
    if save_dir is not None:
        trainer.save(os.path.join(save_dir, f"{algo}-seed{seed}"))
    return cell


def cells(plan: ComparisonPlan) -> list[tuple[str, int]]:
    """Every (learner, seed) of the plan, seeds outermost (learners of one seed together)."""
    return [(algo, seed) for seed in plan.seeds for algo in plan.algos]


def default_workers() -> int:
    """The machine's cores (those this process may use)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_plan_values(plan: ComparisonPlan) -> dict[str, Any]:
    """The plan as worker processes get it: one torch thread each unless the plan sets
    ``threads`` (torch's default, a thread per core in every worker, would have the
    workers' threads fight over the same cores)."""
    values = plan.to_dict()
    if values["base"].get("threads") is None:
        values["base"] = {**values["base"], "threads": 1}
    return values


def run_grid(
    plan: ComparisonPlan,
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    on_cell: Callable[[dict[str, Any]], None] | None = None,
    save_dir: str | None = None,
) -> list[dict[str, Any]]:
    """Run every cell; ``workers`` processes (1: in this process) or Ray tasks.

    Args:
        workers: worker processes on this machine (default: the cores, at most the cells).
        ray_address: a Ray cluster's address, or ``"auto"``; each cell becomes a Ray task
            needing one CPU. An already initialised Ray (``ray.init`` in this process) is
            used as it is.
        on_cell: called with each cell's result as it completes (progress).
        save_dir: also save every cell's run there (``run_cell``).
    """
    grid = cells(plan)
    values = plan.to_dict()
    if ray_address is not None:
        return _run_on_ray(values, grid, ray_address, on_cell, save_dir)
    if workers is None:
        workers = default_workers()
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers={workers!r} is invalid: must be in 1..{MAX_WORKERS}")
    workers = min(workers, len(grid))
    results = []
    if workers == 1:
        for algo, seed in grid:
            results.append(run_cell(values, algo, seed, save_dir))
            if on_cell:
                on_cell(results[-1])
        return results
    values = worker_plan_values(plan)
    # spawn: a fresh interpreter per worker (fork would copy torch's thread pools)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(run_cell, values, algo, seed, save_dir) for algo, seed in grid]
        for future in futures:
            results.append(future.result())
            if on_cell:
                on_cell(results[-1])
    return results


def _run_on_ray(
    values: dict[str, Any],
    grid: list[tuple[str, int]],
    address: str,
    on_cell: Callable[[dict[str, Any]], None] | None,
    save_dir: str | None,
) -> list[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise ValueError(
            "--ray needs Ray on this machine and the cluster: pip install 'ray>=2.9'"
        ) from None
    if not ray.is_initialized():  # else: the caller's Ray, as it is
        import metalearn_core

        package = os.path.dirname(metalearn_core.__file__)
        # ship this package with the job, so that the cluster's workers run this very code
        ray.init(
            address=address,
            runtime_env={"py_modules": [package], "excludes": ["__pycache__"]},
            logging_level=logging.WARNING,
        )
    remote_cell = ray.remote(num_cpus=1)(run_cell)
    pending = [remote_cell.remote(values, algo, seed, save_dir) for algo, seed in grid]
    results = []
    for ref in pending:
        results.append(ray.get(ref))
        if on_cell:
            on_cell(results[-1])
    return results
