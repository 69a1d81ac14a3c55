"""A row of ``st.metric`` counters that a Play loop updates in place, and only as often as
a reader needs.

Why not redraw the row after every tick: the row was a container of columns in an
``st.empty()``, so each redraw sent the container, its four columns and four metrics
anew (nine of Streamlit's messages) and the browser built them again; while playing,
that took about as much of the browser's CPU as drawing the chart (BENCHMARKS.md, "Live
training page"). Here each metric has a slot of its own, mounted once per script run;
``show`` rewrites a slot only when its text changed, and a metric given a minimum
interval (an episodes-per-second rate, a counter beside the main one) no more often than
that. A new label (a validation that starts or ends) shows at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

Metric = tuple[str, str]  # (label, value)


@dataclass
class MetricsRow:
    """Metrics side by side, each in its own slot; see the module's docstring."""

    slots: list[DeltaGenerator]
    min_seconds: tuple[float, ...]  # per metric: seconds between two of its values
    shown: list[Metric | None] = field(default_factory=list)
    shown_at: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.min_seconds) != len(self.slots):
            raise ValueError(
                f"{len(self.slots)} metrics but {len(self.min_seconds)} minimum intervals"
            )
        self.shown = [None] * len(self.slots)
        self.shown_at = [0.0] * len(self.slots)

    @classmethod
    def mount(cls, min_seconds: Sequence[float]) -> MetricsRow:
        """A column per metric, here; ``min_seconds[i]``: the least time between two
        values of metric ``i`` (0: every change is shown)."""
        columns = st.columns(len(min_seconds))
        return cls([column.empty() for column in columns], tuple(float(s) for s in min_seconds))

    def show(self, metrics: Sequence[Metric], now: float | None = None) -> None:
        """Show ``metrics`` (one ``(label, value)`` per slot): each that changed, unless
        only its value changed and it was shown less than its minimum interval ago."""
        if len(metrics) != len(self.slots):
            raise ValueError(f"{len(metrics)} metrics for a row of {len(self.slots)}")
        now = time.monotonic() if now is None else now
        for index, metric in enumerate(metrics):
            before = self.shown[index]
            if before == metric:
                continue
            same_label = before is not None and before[0] == metric[0]
            if same_label and now - self.shown_at[index] < self.min_seconds[index]:
                continue
            self.slots[index].metric(*metric)
            self.shown[index], self.shown_at[index] = metric, now
