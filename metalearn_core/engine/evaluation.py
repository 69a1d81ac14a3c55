"""The standard few-shot evaluation protocol.

Adapt to ``episodes`` (600 by convention) freshly drawn test episodes and report the
mean query accuracy with a 95% confidence interval over episodes,

    ci95 = 1.96 * std(acc_1..acc_n) / sqrt(n)

(population std, as in the reference implementations of Prototypical Networks and
MAML). For regression (sinusoid) the same is reported for the query MSE.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from metalearn_core.algorithms.base import Adaptation, MetaLearner
from metalearn_core.data.episodes import Episode, EpisodeSampler, TaskSource
from metalearn_core.engine.rng import derive_seed, reseeded

DEFAULT_EVAL_EPISODES = 600


def mean_ci95(values: list[float] | np.ndarray) -> tuple[float, float]:
    """Mean and 95% confidence half-width ``1.96 * std / sqrt(n)`` of per-episode scores."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise ValueError("cannot summarise zero episodes")
    return float(array.mean()), float(1.96 * array.std() / math.sqrt(array.size))


@dataclass(frozen=True)
class EvaluationResult:
    """Mean query score over ``episodes`` episodes of shape ``n_way``-way ``k_shot``-shot.

    ``ci95`` is the 95% half-width of the main metric: accuracy for classification,
    ``mse`` for regression (where ``accuracy`` is None).
    """

    accuracy: float | None
    ci95: float
    episodes: int
    n_way: int
    k_shot: int
    q_query: int
    loss: float  # mean query loss (cross-entropy, or MSE)
    mse: float | None = None
    split: str = ""
    dataset: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EpisodeScores:
    """Per-episode query scores: what both validation and evaluation summarise."""

    losses: np.ndarray  # (episodes,)
    accuracies: np.ndarray | None  # (episodes,), None for regression


class EpisodeScoring:
    """Scores episodes one after another, resumable: ``advance`` stops at a deadline and
    the next call goes on where it stopped, with the same numbers as one call.

    Each episode's adaptation runs in eval mode with the learner's generator seeded from
    ``seed`` and the episode's index (and put back after), so scoring never disturbs a
    run's random stream and the split into calls never changes a score. The learner must not change
    between calls (the trainer holds training back while a validation is pending).
    """

    def __init__(
        self,
        learner: MetaLearner,
        episodes: list[Episode] | EpisodeSampler,
        count: int,
        seed: int,
        on_adaptation: Callable[[Adaptation], None] | None = None,
    ):
        self.learner, self.episodes, self.count, self.seed = learner, episodes, count, seed
        self.on_adaptation = on_adaptation  # sees each episode's adaptation (its internals)
        self.losses: list[float] = []
        self.accuracies: list[float] = []

    @property
    def scored(self) -> int:
        return len(self.losses)

    @property
    def done(self) -> bool:
        return self.scored >= self.count

    def advance(self, deadline: float | None = None) -> bool:
        """Score episodes until all are scored (True) or ``time.perf_counter()`` passes
        ``deadline`` (False; at least one episode is scored per call)."""
        self.learner.eval()
        try:
            while not self.done:
                self._score_next()
                if deadline is not None and time.perf_counter() >= deadline:
                    break
        finally:
            self.learner.train()
        return self.done

    def _score_next(self) -> None:
        index = self.scored
        episodes = self.episodes
        episode = episodes.sample() if isinstance(episodes, EpisodeSampler) else episodes[index]
        with reseeded(self.learner.generator, derive_seed(self.seed, f"episode-{index}")):
            adaptation = self.learner.adapt(episode.to(self.learner.device))
        if self.on_adaptation is not None:
            self.on_adaptation(adaptation)
        self.losses.append(float(adaptation.query_loss))
        if adaptation.query_accuracy is not None:
            self.accuracies.append(float(adaptation.query_accuracy))

    def scores(self) -> EpisodeScores:
        if not self.done:
            raise RuntimeError(f"{self.scored} of {self.count} episodes scored so far")
        return EpisodeScores(
            np.asarray(self.losses, dtype=np.float64),
            np.asarray(self.accuracies, dtype=np.float64) if self.accuracies else None,
        )


def score_episodes(
    learner: MetaLearner,
    episodes: list[Episode] | EpisodeSampler,
    count: int,
    seed: int,
    on_adaptation: Callable[[Adaptation], None] | None = None,
) -> EpisodeScores:
    """Adapt to ``count`` episodes in one go (``EpisodeScoring``: eval mode, seeded)."""
    scoring = EpisodeScoring(learner, episodes, count, seed, on_adaptation)
    scoring.advance()
    return scoring.scores()


def evaluate(
    learner: MetaLearner,
    source: TaskSource,
    n_way: int,
    k_shot: int,
    q_query: int,
    episodes: int = DEFAULT_EVAL_EPISODES,
    seed: int = 0,
) -> EvaluationResult:
    """Score a trained learner on ``episodes`` episodes drawn from ``source`` with ``seed``.

    Args:
        learner: the trained learner (a run's ``trainer.learner``, or ``load_learner``'s).
        source: the split to draw from, usually the test split.
        n_way, k_shot, q_query: the evaluation episode shape; it may differ from training.
        episodes: number of episodes (600 is the standard protocol).
        seed: episode sampling (and any randomness in adaptation) seed.
    Returns:
        ``EvaluationResult`` with mean accuracy (or MSE) and its 95% CI.
    """
    if not isinstance(learner, MetaLearner):
        raise ValueError(
            f"evaluate takes a MetaLearner (a Trainer's is trainer.learner), "
            f"got {type(learner).__name__}"
        )
    if not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if tuple(source.input_shape) != tuple(learner.spec.input_shape):
        raise ValueError(
            f"{source.describe()} has inputs of shape {tuple(source.input_shape)} but the model "
            f"was trained on {tuple(learner.spec.input_shape)}"
        )
    sampler = EpisodeSampler(source, n_way, k_shot, q_query, seed=seed)
    scores = score_episodes(learner, sampler, episodes, seed)
    loss = float(scores.losses.mean())
    if scores.accuracies is not None:
        accuracy, ci95 = mean_ci95(scores.accuracies)
        mse = None
    else:
        accuracy = None
        mse, ci95 = mean_ci95(scores.losses)
    return EvaluationResult(
        accuracy=accuracy,
        ci95=ci95,
        episodes=episodes,
        n_way=n_way,
        k_shot=k_shot,
        q_query=q_query,
        loss=loss,
        mse=mse,
        split=getattr(source, "split", ""),
        dataset=getattr(source, "name", ""),
    )
