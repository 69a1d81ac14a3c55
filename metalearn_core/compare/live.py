"""``Comparison``: the learners of a plan trained side by side, tick by tick.

All trainers share the opened data splits (read-only) and, having the same seed, draw
the same training episodes in the same order. ``tick(seconds)`` gives every learner that
has budget left an equal share of the tick, so they advance together; the split into
ticks never changes the numbers of an episode budget (the ``Trainer`` guarantees it).

>>> comparison = Comparison(plan)
>>> while not comparison.done:
...     comparison.tick(0.2)
>>> cells = comparison.score()       # one dict per learner, as ``score_trainer`` gives
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from metalearn_core.compare.plan import ComparisonPlan
from metalearn_core.compare.scoring import score_trainer
from metalearn_core.data.episodes import TaskSource
from metalearn_core.engine.build import load_source
from metalearn_core.engine.trainer import TickReport, Trainer


class Comparison:
    """One seed of a ``ComparisonPlan``: a ``Trainer`` per learner, advanced together.

    Args:
        plan: the learners, data, budget and scoring.
        seed: the training seed (default: the plan's first).
        sources: already-open splits by name (an app-level cache); others are opened once
            and shared by every learner.
    """

    def __init__(
        self,
        plan: ComparisonPlan,
        seed: int | None = None,
        *,
        sources: Mapping[str, TaskSource] | None = None,
    ):
        self.plan = plan
        self.seed = plan.seeds[0] if seed is None else seed
        configs = {algo: plan.learner_config(algo, self.seed) for algo in plan.algos}
        first = configs[plan.algos[0]]
        self.sources: dict[str, TaskSource] = dict(sources or {})
        for split in ("train", "val") if plan.validate_every else ("train",):
            if split not in self.sources:
                self.sources[split] = load_source(first, split)
        self.trainers = {
            algo: Trainer(config, sources=self.sources) for algo, config in configs.items()
        }
        # seconds each learner ran past its shares (<= 0): repaid from its next shares
        self._overrun = dict.fromkeys(plan.algos, 0.0)

    def test_source(self) -> TaskSource:
        split = self.plan.test_split
        if split not in self.sources:
            self.sources[split] = load_source(self.trainers[self.plan.algos[0]].config, split)
        return self.sources[split]

    # ----- progress ------------------------------------------------------------------------
    def finished(self, algo: str) -> bool:
        """The learner has spent its budget (or diverged and stopped)."""
        trainer = self.trainers[algo]
        return trainer.divergence is not None or (trainer.budget_progress or 0.0) >= 1.0

    @property
    def done(self) -> bool:
        return all(self.finished(algo) for algo in self.plan.algos)

    @property
    def active(self) -> list[str]:
        return [algo for algo in self.plan.algos if not self.finished(algo)]

    def _steps_left(self, trainer: Trainer) -> int | None:
        if self.plan.episodes is None:
            return None
        return max(math.ceil((self.plan.episodes - trainer.episodes_seen) / trainer.meta_batch), 0)

    def _seconds_left(self, trainer: Trainer) -> float | None:
        if self.plan.seconds is None:
            return None
        return max(self.plan.seconds - trainer.train_seconds, 0.0)

    # ----- training ----------------------------------------------------------------------------
    def tick(
        self,
        seconds: float,
        *,
        split_validation: bool = True,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[str, TickReport]:
        """Train every unfinished learner for an equal share of ``seconds``, never past
        its budget. Returns each trained learner's report.

        A learner runs at least one step when it runs, and one step may take longer than
        its share (MAML's meta-batch of 4 tasks: ~0.27 s against a 0.075 s share of the
        page's tick): what it ran over is taken from its next shares, and it sits out the
        ticks it owes, so that over a few ticks every learner gets the same time (without
        this the learner with the short steps got a fifth of the time instead of half).
        """
        if not (isinstance(seconds, int | float) and seconds > 0):
            raise ValueError(f"seconds must be > 0, got {seconds!r}")
        active = self.active
        share = seconds / len(active) if active else 0.0
        allowances = {algo: share + self._overrun[algo] for algo in active}
        if allowances and max(allowances.values()) <= 0:  # every one owes: lift all alike
            lift = share - max(allowances.values())
            allowances = {algo: allowance + lift for algo, allowance in allowances.items()}
        reports = {}
        for algo in active:
            trainer, allowance = self.trainers[algo], allowances[algo]
            if allowance <= 0:
                self._overrun[algo] = allowance
                continue
            left = self._seconds_left(trainer)
            started = trainer.elapsed_seconds
            reports[algo] = trainer.run_tick(
                max_iterations=self._steps_left(trainer),
                max_seconds=allowance if left is None else min(allowance, left),
                split_validation=split_validation,
                should_stop=should_stop,
            )
            # only a debt carries over: a learner that stopped early gains nothing
            self._overrun[algo] = min(0.0, allowance - (trainer.elapsed_seconds - started))
        return reports

    def step(self) -> dict[str, TickReport]:
        """One meta-iteration of every unfinished learner."""
        return {algo: self.trainers[algo].run_tick(max_iterations=1) for algo in self.active}

    def run(self, tick_seconds: float = 0.5, should_stop: Callable[[], bool] | None = None) -> None:
        """Train until every learner has spent its budget (or ``should_stop``)."""
        while not self.done and not (should_stop is not None and should_stop()):
            self.tick(tick_seconds, split_validation=False, should_stop=should_stop)

    # ----- scoring -------------------------------------------------------------------------------
    def score(self) -> list[dict]:
        """Every learner scored on the same test episodes (``score_trainer``)."""
        source = self.test_source()
        return [
            score_trainer(self.trainers[algo], self.plan, source, self.seed)
            for algo in self.plan.algos
        ]
