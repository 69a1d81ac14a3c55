"""Points placed by clicking on a plotly chart (the Learn pages' sinusoid and prototypes).

``st.plotly_chart(..., on_select=..., selection_mode="points")`` reports a click as the
selection of the point under the mouse, and a click on empty space as nothing; so the
figure carries an invisible grid of points (``figures.lessons.add_click_grid``) and a click
anywhere selects one of them. Each handled click moves the chart to a new key
(``chart_key``), so its selection starts empty again and the same place can be clicked
twice.

What the browser sends is hostile until checked: ``clicked_point`` takes only finite
numbers inside the plot's ranges, and a page keeps at most ``MAX_PLACED_POINTS``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

MAX_PLACED_POINTS = 20


@dataclass
class PlacedPoints:
    """Points a student placed, each with a label (a class; 0 where there is none)."""

    xy: list[tuple[float, float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    clicks: int = 0  # clicks handled: the chart's key changes with each

    def __len__(self) -> int:
        return len(self.xy)


def placed_points(state: MutableMapping[str, Any], key: str) -> PlacedPoints:
    points = state.get(key)
    if not isinstance(points, PlacedPoints):
        points = PlacedPoints()
        state[key] = points
    return points


def chart_key(state: MutableMapping[str, Any], key: str) -> str:
    """The chart's key for the next run: a new one after each handled click."""
    return f"{key}_chart_{placed_points(state, key).clicks}"


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def clicked_point(
    event: Any, x_range: tuple[float, float], y_range: tuple[float, float]
) -> tuple[float, float] | None:
    """Where a selection event says the click was: the last selected point's (x, y), or
    None when the event holds no usable point (empty, malformed, out of range)."""
    points = _field(_field(event, "selection"), "points")
    if not isinstance(points, list | tuple) or not points:
        return None
    last = points[-1]
    x, y = _field(last, "x"), _field(last, "y")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    if not (x_range[0] <= x <= x_range[1] and y_range[0] <= y <= y_range[1]):
        return None
    return float(x), float(y)


def handle_click(
    state: MutableMapping[str, Any],
    key: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    label_key: str | None = None,
    limit: int = MAX_PLACED_POINTS,
) -> bool:
    """The chart's ``on_select`` callback: add the clicked point, labelled with the value
    of the widget ``label_key`` (a class chooser; 0 without one).

    Reads the event from the chart's widget state; returns whether a point was added.
    """
    label = state.get(label_key, 0) if label_key is not None else 0
    if isinstance(label, bool) or not isinstance(label, int) or label < 0:
        return False
    points = placed_points(state, key)
    event = state.get(f"{key}_chart_{points.clicks}")
    where = clicked_point(event, x_range, y_range)
    if where is None:
        return False
    points.clicks += 1  # a fresh chart (an empty selection) whether or not it is kept
    if len(points) >= limit:
        return False
    points.xy.append(where)
    points.labels.append(int(label))
    return True


def clear_points(state: MutableMapping[str, Any], key: str) -> None:
    points = placed_points(state, key)
    points.xy.clear()
    points.labels.clear()
    points.clicks += 1
