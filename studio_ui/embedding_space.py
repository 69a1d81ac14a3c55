"""The Embedding space page's per-session state: what it draws, and a cache of its views.

The page looks at the Train page's run (``train_session.trainer()``) and at a comparison:
the Compare page's live one (its ``Comparison.trainers``), or ``st.session_state[COMPARISON_KEY]``
when set, a mapping learner name -> ``Trainer`` (two to four, trained on the same data set).

Embeddings and projections are cached per session, keyed by the run (its trainer, config
and iteration: more training is another key), the examples and the projection, so moving
between views and back is instant. Each kind of entry is bounded (``CACHE_LIMITS``,
``CACHE_ENTRIES``); entries are tensors of at most 500 rows, never a model.

Session keys (all prefixed ``embed_``):
    embed_cache   the cache: kind -> OrderedDict, least recently used first
    embed_*       the page's widgets
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from metalearn_core.data.episodes import TaskSource
from metalearn_core.engine import Trainer
from studio_ui.data import cached_task_source
from studio_ui.i18n import N_, _

COMPARISON_KEY = "compare_trainers"  # set by the Compare page: {learner name: Trainer}
CACHE_KEY = "embed_cache"
CACHE_ENTRIES = 48  # projections and numbers: 500 x 2 points each, or three numbers
# Examples (500 images: 14 MB at 84 x 84) and embeddings (500 x D floats per network:
# 9 MB for Omniglot's 105 x 105 Conv4 features) are big: a few of each per session.
CACHE_LIMITS = {"examples": 2, "art": 2, "spaces": 4}
MAX_COMPARED = 4
# The subjects' labels: widget values, the same in every language (shown translated).
TRAIN_RUN, COMPARISON = N_("Train run"), N_("Comparison")

T = TypeVar("T")


@dataclass(frozen=True)
class Subject:
    """What the page draws: named runs that share one data set."""

    label: str
    trainers: dict[str, Trainer]

    @property
    def first(self) -> Trainer:
        return next(iter(self.trainers.values()))

    def key(self) -> tuple[Hashable, ...]:
        """Identifies the weights: each trainer object, its config, its iteration, and its
        training time (two runs never share it: an object id alone may be reused)."""
        return tuple(
            (name, id(t), t.config.to_json(), t.iteration, t.train_seconds)
            for name, t in self.trainers.items()
        )


def cached(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, remembered under ``key`` in this session; ``key[0]`` names its kind,
    and each kind keeps its ``CACHE_LIMITS`` most recently used entries."""
    caches: dict[Hashable, OrderedDict] = st.session_state.setdefault(CACHE_KEY, {})
    cache = caches.setdefault(key[0], OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = compute()
    cache[key] = value
    while len(cache) > CACHE_LIMITS.get(key[0], CACHE_ENTRIES):
        cache.popitem(last=False)
    return value


def held_out_source(trainer: Trainer, split: str) -> TaskSource:
    """The run's ``split`` from the process-wide read-only cache, keyed by every data field
    of the run: a test split opened here is loaded once for all sessions, not per student."""
    return cached_task_source(trainer.config.data_settings(), split)


def comparison_problem(value: object) -> str | None:
    """Why ``value`` is not a comparison this page can draw, or None when it is one."""
    if not isinstance(value, Mapping) or not value:
        return _("the comparison holds no learners")
    if not all(isinstance(t, Trainer) for t in value.values()):
        return _("the comparison's learners are not runs of this app")
    if not 2 <= len(value) <= MAX_COMPARED:
        return _("a comparison shows 2 to {most} learners, this one has {count}").format(
            most=MAX_COMPARED, count=len(value)
        )
    datasets = {(t.config.dataset, t.config.data_dir, t.config.data_seed) for t in value.values()}
    if len(datasets) > 1:
        return _("the comparison's learners were trained on different data sets")
    return None


def subjects() -> dict[str, Subject | str]:
    """The subjects on offer by label: a ``Subject``, or the message saying why it is not
    drawable yet (no trained run, a comparison the page cannot draw)."""
    from studio_ui import train_session

    found: dict[str, Subject | str] = {}
    trainer = train_session.trainer()
    if trainer is None or trainer.iteration == 0:
        found[TRAIN_RUN] = _(
            "No trained run yet: open the Train page, press Step or Play, and come back. "
            "This page compares the trained network with the initial one."
        )
    else:
        found[TRAIN_RUN] = Subject(TRAIN_RUN, {trainer.config.algo: trainer})
    comparison = st.session_state.get(COMPARISON_KEY)
    if comparison is None:  # the Compare page's live comparison, when it has one
        from studio_ui import compare_session

        live = st.session_state.get(compare_session.COMPARISON)
        comparison = None if live is None else live.trainers
    if comparison is not None:
        problem = comparison_problem(comparison)
        if problem is None and any(t.iteration == 0 for t in comparison.values()):
            problem = _("the comparison has not been trained yet: train it on the Compare page")
        found[COMPARISON] = (
            _("Cannot draw this comparison: {problem}.").format(problem=problem)
            if problem
            else Subject(COMPARISON, dict(comparison))
        )
    return found
