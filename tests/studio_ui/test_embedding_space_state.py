"""The Embedding space page's session cache and its reading of a comparison."""

from __future__ import annotations

from metalearn_core.engine import RunConfig, Trainer
from studio_ui import embedding_space as state


def test_the_cache_keeps_the_latest_entries_of_each_kind(monkeypatch):
    monkeypatch.setattr(state.st, "session_state", {})
    calls = []

    def compute(value):
        calls.append(value)
        return value

    limit = state.CACHE_LIMITS["spaces"]
    for i in range(limit + 1):
        assert state.cached(("spaces", i), lambda i=i: compute(i)) == i
    assert state.cached(("projection", 0), lambda: compute("p")) == "p"  # its own bound
    assert state.cached(("spaces", limit), lambda: compute("again")) == limit  # kept: no call
    assert state.cached(("spaces", 0), lambda: compute("again")) == "again"  # evicted first
    assert calls == [*range(limit + 1), "p", "again"]
    assert len(state.st.session_state[state.CACHE_KEY]["spaces"]) == limit


def test_a_comparison_must_be_two_to_four_runs_of_one_data_set():
    def run(dataset: str) -> Trainer:
        return Trainer(RunConfig(dataset=dataset, algo="protonet", n_way=3, val_every=0))

    blobs, other, digits = run("blobs"), run("blobs"), run("digits")
    assert state.comparison_problem({"a": blobs, "b": other}) is None
    assert "2 to 4 learners, this one has 1" in state.comparison_problem({"a": blobs})
    assert "different data sets" in state.comparison_problem({"a": blobs, "b": digits})
    assert "not runs of this app" in state.comparison_problem({"a": blobs, "b": "maml"})
    assert "holds no learners" in state.comparison_problem([blobs, other])
