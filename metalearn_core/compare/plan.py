"""``ComparisonPlan``: which learners to compare, on what, for how long, scored how.

Every learner's ``RunConfig`` is built from one shared config (data set, episode shape,
seed, device...), so that only the algorithm and its own hyperparameters differ. The same
seed gives every learner the same training episode stream (the trainer's sampler is seeded
by the run's seed alone), and scoring draws the same test episodes for every learner.

>>> base = RunConfig(dataset="glyphs", n_way=5, k_shot=1, q_query=5)
>>> plan = ComparisonPlan(("protonet", "maml"), base, episodes=2000)
>>> plan.learner_config("maml").hparams["meta_batch"]     # MAML's CPU recipe
4
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from metalearn_core.engine.config import MAX_SEED, RunConfig, dataset_task_kind
from metalearn_core.engine.evaluation import DEFAULT_EVAL_EPISODES
from metalearn_core.engine.recipes import with_recipe

MIN_LEARNERS, MAX_LEARNERS = 2, 4
MAX_EPISODES = 1_000_000  # training episodes per learner
MAX_SECONDS = 24 * 3600.0  # training time per learner
MAX_TEST_EPISODES = 10_000
MAX_SEEDS = 10
MAX_TEST_SHOT = 50
MAX_TEST_WAY = 100
MAX_INNER_STEPS = 50
# learners whose test-time adaptation is a number of gradient steps
STEP_LEARNERS = ("maml", "fomaml", "reptile")
# episodes per validation point of the training curves, whatever a learner's meta-batch
VALIDATE_EVERY_EPISODES = 100


class ComparisonError(ValueError):
    """A comparison that cannot be run or read; the message says what to change."""


@dataclass(frozen=True)
class ComparisonPlan:
    """Two to four learners of one task kind on one data set and episode shape.

    Args:
        algos: learner names (``ALGORITHMS`` keys), 2 to 4, no repeats.
        base: the shared run settings; its ``algo``, ``hparams``, ``episodes`` and
            ``minutes`` are ignored (each learner gets its own algorithm and budget).
        episodes / seconds: the equal budget of every learner, exactly one of them.
        seeds: one trained model per (learner, seed); results pool the seeds.
        test_split: the split scored (``"test"``; Omniglot's background-only set: ``"val"``).
        test_episodes: episodes of the main score (600 by convention), the same for all.
        test_query: query examples per class when scoring (None: the training ``q_query``).
        test_shots / test_ways: the other episode shapes the trained models are scored at.
        test_inner_steps: MAML, first-order MAML and Reptile are scored after 0..this
            many test-time inner steps.
        extra_episodes: episodes per point of those extra scores.
        validate_every: training episodes between validation points (0: never); each
            learner validates at the same episode counts whatever its meta-batch.
        hparams: per-learner hyperparameter choices (they win over the recipe).
        use_recipes: start each learner from its recommended recipe for a budget.
    """

    algos: tuple[str, ...]
    base: RunConfig
    episodes: int | None = None
    seconds: float | None = None
    seeds: tuple[int, ...] = (0,)
    test_split: str = "test"
    test_episodes: int = DEFAULT_EVAL_EPISODES
    test_query: int | None = None
    test_shots: tuple[int, ...] = (1, 5, 10)
    test_ways: tuple[int, ...] = (5, 20)
    test_inner_steps: int = 10
    extra_episodes: int = 200
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)
    use_recipes: bool = True
    validate_every: int = VALIDATE_EVERY_EPISODES

    def __post_init__(self) -> None:
        object.__setattr__(self, "algos", tuple(self.algos))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        object.__setattr__(self, "test_shots", tuple(self.test_shots))
        object.__setattr__(self, "test_ways", tuple(self.test_ways))
        object.__setattr__(self, "hparams", {k: dict(v) for k, v in self.hparams.items()})
        self._check_learners()
        self._check_budget()
        self._check_scoring()
        for algo in self.algos:  # every learner's own config is valid (ConfigError if not)
            self.learner_config(algo)

    # ----- checks --------------------------------------------------------------------------
    def _check_learners(self) -> None:
        from metalearn_core.algorithms import ALGORITHMS

        if not isinstance(self.base, RunConfig):
            raise ComparisonError(f"base must be a RunConfig, got {type(self.base).__name__}")
        count = len(self.algos)
        if not MIN_LEARNERS <= count <= MAX_LEARNERS:
            raise ComparisonError(
                f"a comparison takes {MIN_LEARNERS} to {MAX_LEARNERS} learners, got {count}"
                + (f" ({', '.join(self.algos)})" if self.algos else "")
            )
        unknown = [a for a in self.algos if a not in ALGORITHMS]
        if unknown:
            raise ComparisonError(
                f"unknown learner(s) {', '.join(map(repr, unknown))}; "
                f"choose from {', '.join(ALGORITHMS)}"
            )
        if len(set(self.algos)) != count:
            raise ComparisonError(f"each learner once: {', '.join(self.algos)} repeats one")
        kinds = {a: ALGORITHMS[a].task_kinds for a in self.algos}
        common = set.intersection(*(set(k) for k in kinds.values()))
        if not common:
            described = "; ".join(f"{a} learns {' and '.join(k)}" for a, k in kinds.items())
            raise ComparisonError(
                f"learners of different task kinds cannot be compared ({described}): "
                "choose learners of one kind"
            )
        kind = dataset_task_kind(self.base.dataset)
        if kind is not None and kind not in common:
            wrong = [a for a in self.algos if kind not in kinds[a]]
            raise ComparisonError(
                f"{self.base.dataset} is a {kind} data set; {', '.join(wrong)} cannot learn it"
            )
        unused = sorted(set(self.hparams) - set(self.algos))
        if unused:
            raise ComparisonError(f"hyperparameters for {', '.join(unused)}, not compared")

    def _check_budget(self) -> None:
        if (self.episodes is None) == (self.seconds is None):
            raise ComparisonError("give one budget: episodes or seconds (not both)")
        if self.episodes is not None:
            if not _is_int(self.episodes) or not 1 <= self.episodes <= MAX_EPISODES:
                raise ComparisonError(
                    f"episodes={self.episodes!r} is invalid: the budget must be a whole "
                    f"number in 1..{MAX_EPISODES}"
                )
        else:
            seconds = self.seconds
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not math.isfinite(seconds)
                or not 0 < seconds <= MAX_SECONDS
            ):
                raise ComparisonError(
                    f"seconds={seconds!r} is invalid: the budget must be > 0 and at most "
                    f"{MAX_SECONDS:.0f}"
                )

    def _check_scoring(self) -> None:
        if not 1 <= len(self.seeds) <= MAX_SEEDS:
            raise ComparisonError(f"seeds: give 1 to {MAX_SEEDS}, got {len(self.seeds)}")
        for seed in self.seeds:
            if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
                raise ComparisonError(f"seed {seed!r} is invalid: must be in 0..2**63-1")
        if len(set(self.seeds)) != len(self.seeds):
            raise ComparisonError(f"seeds repeat: {self.seeds}")
        if self.test_split not in ("train", "val", "test"):
            raise ComparisonError(f"test_split={self.test_split!r}: must be train, val or test")
        _check_count("test_episodes", self.test_episodes, MAX_TEST_EPISODES)
        _check_count("extra_episodes", self.extra_episodes, MAX_TEST_EPISODES)
        if self.test_query is not None:
            _check_count("test_query", self.test_query, MAX_TEST_SHOT)
        _check_count("test_inner_steps", self.test_inner_steps, MAX_INNER_STEPS, low=0)
        _check_count("validate_every", self.validate_every, MAX_EPISODES, low=0)
        for shot in self.test_shots:
            _check_count("test_shots", shot, MAX_TEST_SHOT)
        for way in self.test_ways:
            _check_count("test_ways", way, MAX_TEST_WAY, low=2)

    # ----- derived ------------------------------------------------------------------------------
    @property
    def task_kind(self) -> str:
        return dataset_task_kind(self.base.dataset) or "classification"

    @property
    def metric(self) -> str:
        """``"accuracy"`` (higher is better) or ``"mse"`` (lower is better)."""
        return "accuracy" if self.task_kind == "classification" else "mse"

    @property
    def scoring_query(self) -> int:
        return self.test_query if self.test_query is not None else self.base.q_query

    def learner_config(self, algo: str, seed: int | None = None) -> RunConfig:
        """The shared config with this learner, its hyperparameters and the budget."""
        config = self.base.replace(
            algo=algo,
            hparams=dict(self.hparams.get(algo, {})),
            episodes=self.episodes,
            minutes=None if self.seconds is None else self.seconds / 60,
            lr_schedule="constant",
            seed=self.base.seed if seed is None else seed,
        )
        if self.use_recipes:
            config = with_recipe(config)
        val_every = 0
        if self.validate_every:
            meta_batch = config.hparams.get("meta_batch") or _default_meta_batch(algo, config)
            val_every = max(1, round(self.validate_every / meta_batch))
        return config.replace(val_every=val_every)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["base"] = self.base.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ComparisonPlan:
        if not isinstance(values, dict):
            raise ComparisonError("a comparison plan must be a mapping")
        values = dict(values)
        try:
            values["base"] = RunConfig.from_dict(values["base"])
            return cls(**values)
        except (KeyError, TypeError) as error:
            raise ComparisonError(f"not a comparison plan: {error}") from None


def _default_meta_batch(algo: str, config: RunConfig) -> int:
    from metalearn_core.algorithms import default_hparams
    from metalearn_core.algorithms.base import ProblemSpec

    kind = dataset_task_kind(config.dataset) or "classification"
    spec = ProblemSpec(kind, (1,), config.n_way)  # the defaults read only the task kind
    return int(getattr(default_hparams(algo, spec), "meta_batch", 1))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_count(name: str, value: Any, high: int, low: int = 1) -> None:
    if not _is_int(value) or not low <= value <= high:
        raise ComparisonError(
            f"{name}: {value!r} is invalid: must be a whole number in {low}..{high}"
        )
