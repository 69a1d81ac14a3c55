"""A bounded training history: loss/accuracy curves and validation points.

A run of 100,000 steps must not keep 100,000 points in memory nor send them to a
browser. Training steps are therefore averaged into buckets of ``stride`` steps;
when the number of buckets reaches ``limit``, neighbouring pairs are merged and the
stride doubles. The curve keeps its whole time span at a resolution that coarsens
as the run grows, and every point is the exact mean of the steps it covers.

Validation points are few (one every ``val_every`` steps); past ``limit`` every
other one is dropped.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TrainPoint:
    """Mean of ``count`` consecutive training steps ending at ``iteration``."""

    iteration: int
    loss: float  # mean query loss (cross-entropy, or MSE for regression)
    accuracy: float | None  # mean query accuracy; None for regression
    episodes: int  # episodes seen by the end of the bucket
    seconds: float  # training seconds by the end of the bucket
    count: int


@dataclass(frozen=True)
class ValidationPoint:
    iteration: int
    mean: float  # accuracy in [0, 1], or MSE for regression
    ci95: float  # 1.96 * std / sqrt(episodes)
    episodes: int


def _merge(a: TrainPoint, b: TrainPoint) -> TrainPoint:
    count = a.count + b.count
    accuracy = None
    if a.accuracy is not None and b.accuracy is not None:
        accuracy = (a.accuracy * a.count + b.accuracy * b.count) / count
    return TrainPoint(
        iteration=b.iteration,
        loss=(a.loss * a.count + b.loss * b.count) / count,
        accuracy=accuracy,
        episodes=b.episodes,
        seconds=b.seconds,
        count=count,
    )


class History:
    """Bounded curves for one run.

    >>> history = History(limit=100)
    >>> history.add_step(1, loss=1.6, accuracy=0.2, episodes=4, seconds=0.01)
    >>> history.train_arrays()["loss"]   # array([1.6])
    """

    def __init__(self, limit: int = 1000):
        if limit < 2:
            raise ValueError(f"history limit must be >= 2, got {limit}")
        self.limit = limit
        self.stride = 1  # steps per completed bucket
        self.points: list[TrainPoint] = []
        self.pending: TrainPoint | None = None  # the bucket being filled
        self.validations: list[ValidationPoint] = []
        self.last_step: TrainPoint | None = None  # the latest single step, unaveraged

    # ----- recording -------------------------------------------------------------------
    def add_step(
        self, iteration: int, loss: float, accuracy: float | None, episodes: int, seconds: float
    ) -> None:
        step = TrainPoint(iteration, float(loss), accuracy, episodes, seconds, 1)
        self.last_step = step
        self.pending = step if self.pending is None else _merge(self.pending, step)
        if self.pending.count >= self.stride:
            self.points.append(self.pending)
            self.pending = None
            if len(self.points) >= self.limit:
                self._halve()

    def _halve(self) -> None:
        pairs = zip(self.points[0::2], self.points[1::2], strict=False)
        merged = [_merge(a, b) for a, b in pairs]
        if len(self.points) % 2:  # an odd last bucket becomes the one being filled
            self.pending = self.points[-1]
        self.points = merged
        self.stride *= 2

    def add_validation(self, iteration: int, mean: float, ci95: float, episodes: int) -> None:
        self.validations.append(ValidationPoint(iteration, float(mean), float(ci95), episodes))
        if len(self.validations) > self.limit:
            # keep the first and the latest, drop every other one in between
            self.validations = self.validations[0:-1:2] + [self.validations[-1]]

    # ----- reading -----------------------------------------------------------------------
    @property
    def last_validation(self) -> ValidationPoint | None:
        return self.validations[-1] if self.validations else None

    def train_points(self) -> list[TrainPoint]:
        """Completed buckets plus the one being filled (so the latest step shows)."""
        return self.points + ([self.pending] if self.pending is not None else [])

    def train_arrays(self) -> dict[str, np.ndarray]:
        """Columns for plotting: iteration, loss, accuracy (NaN for regression), episodes, seconds."""
        points = self.train_points()
        return {
            "iteration": np.array([p.iteration for p in points], dtype=np.int64),
            "loss": np.array([p.loss for p in points], dtype=np.float64),
            "accuracy": np.array(
                [math.nan if p.accuracy is None else p.accuracy for p in points], dtype=np.float64
            ),
            "episodes": np.array([p.episodes for p in points], dtype=np.int64),
            "seconds": np.array([p.seconds for p in points], dtype=np.float64),
        }

    def validation_arrays(self) -> dict[str, np.ndarray]:
        """Columns for plotting: iteration, mean, ci95, episodes."""
        return {
            "iteration": np.array([v.iteration for v in self.validations], dtype=np.int64),
            "mean": np.array([v.mean for v in self.validations], dtype=np.float64),
            "ci95": np.array([v.ci95 for v in self.validations], dtype=np.float64),
            "episodes": np.array([v.episodes for v in self.validations], dtype=np.int64),
        }

    def to_csv(self) -> str:
        """``metrics.csv``: one row per training bucket (kind=train) and validation (kind=val)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["kind", "iteration", "loss", "accuracy", "steps", "episodes", "seconds",
             "val_mean", "val_ci95", "val_episodes"]
        )  # fmt: skip
        rows = [(p.iteration, 0, p) for p in self.train_points()]
        rows += [(v.iteration, 1, v) for v in self.validations]
        for _, _, row in sorted(rows, key=lambda r: (r[0], r[1])):
            if isinstance(row, TrainPoint):
                accuracy = "" if row.accuracy is None else repr(row.accuracy)
                writer.writerow(
                    ["train", row.iteration, repr(row.loss), accuracy, row.count, row.episodes,
                     f"{row.seconds:.4f}", "", "", ""]
                )  # fmt: skip
            else:
                writer.writerow(
                    ["val", row.iteration, "", "", "", "", "", repr(row.mean), repr(row.ci95),
                     row.episodes]
                )  # fmt: skip
        return out.getvalue()

    # ----- rollback and checkpointing ----------------------------------------------------------
    def snapshot(self) -> tuple[Any, ...]:
        """A cheap copy for rolling back (points are immutable: shallow list copies do)."""
        return (
            self.stride,
            list(self.points),
            self.pending,
            list(self.validations),
            self.last_step,
        )

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        stride, points, self.pending, validations, self.last_step = snapshot
        self.stride, self.points, self.validations = stride, list(points), list(validations)

    def state(self) -> dict[str, Any]:
        """Plain JSON-able state; ``History.from_state`` restores it exactly."""
        return {
            "limit": self.limit,
            "stride": self.stride,
            "points": [asdict(p) for p in self.points],
            "pending": asdict(self.pending) if self.pending is not None else None,
            "validations": [asdict(v) for v in self.validations],
            "last_step": asdict(self.last_step) if self.last_step is not None else None,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> History:
        history = cls(int(state["limit"]))
        history.stride = int(state["stride"])
        history.points = [TrainPoint(**p) for p in state["points"]]
        history.pending = TrainPoint(**state["pending"]) if state["pending"] else None
        history.validations = [ValidationPoint(**v) for v in state["validations"]]
        history.last_step = TrainPoint(**state["last_step"]) if state["last_step"] else None
        return history
