"""Comparison: the same episodes for every learner, equal budgets, evaluate's numbers."""

from __future__ import annotations

import json
import sys
import types

import pytest
import torch

from metalearn_core.compare import (
    Comparison,
    ComparisonError,
    build_result,
    parse_result,
    read_result,
    run_cell,
    run_grid,
    write_result,
)
from metalearn_core.engine import evaluate, load_learner

from .conftest import SINUSOID, small_plan


def _record_batches(trainer):
    """Keep every episode the learner is handed (support and query tensors)."""
    seen = []
    original = trainer.learner.meta_train_step

    def recording(batch):
        for index in range(batch.support_x.shape[0]):
            seen.append((batch.support_x[index], batch.support_y[index], batch.query_x[index]))
        return original(batch)

    trainer.learner.meta_train_step = recording
    return seen


def test_every_learner_trains_on_the_same_episodes_in_the_same_order():
    plan = small_plan(("protonet", "maml", "matchingnet"))
    comparison = Comparison(plan)
    seen = {algo: _record_batches(t) for algo, t in comparison.trainers.items()}
    while not comparison.done:
        comparison.tick(0.05)
    # meta-batches differ (1, 4, 1 episodes a step) but the stream is one and the same
    assert {len(episodes) for episodes in seen.values()} == {16}
    for index in range(16):
        reference = seen["protonet"][index]
        for algo in ("maml", "matchingnet"):
            for a, b in zip(reference, seen[algo][index], strict=True):
                assert torch.equal(a, b), (algo, index)
    assert not torch.equal(seen["protonet"][0][0], seen["protonet"][1][0])  # a stream, not one


def test_equal_episode_budget_and_interleaving():
    comparison = Comparison(small_plan(episodes=12))
    reports = comparison.tick(0.01)
    assert set(reports) == {"protonet", "maml"}  # both advanced in the one tick
    while not comparison.done:
        comparison.tick(0.05)
    assert {t.episodes_seen for t in comparison.trainers.values()} == {12}
    assert comparison.tick(0.05) == {}  # nothing left to train


def test_step_advances_each_learner_one_meta_iteration():
    comparison = Comparison(small_plan())
    comparison.step()
    assert [t.iteration for t in comparison.trainers.values()] == [1, 1]


def test_seconds_budget_stops_every_learner():
    comparison = Comparison(small_plan(episodes=None, seconds=0.3))
    while not comparison.done:
        comparison.tick(0.1)
    for trainer in comparison.trainers.values():
        seconds = trainer.history.train_arrays()["seconds"]  # after each step
        assert seconds[-1] == pytest.approx(trainer.train_seconds)
        assert seconds[-1] >= 0.3 > seconds[-2]  # it stopped at the first step past


def test_scores_equal_evaluate_on_the_saved_runs(tmp_path):
    plan = small_plan()
    comparison = Comparison(plan)
    comparison.run(tick_seconds=0.05)
    cells = {cell["algo"]: cell for cell in comparison.score()}
    test_source = comparison.test_source()
    for algo, trainer in comparison.trainers.items():
        trainer.save(tmp_path / algo)
        _, learner = load_learner(tmp_path / algo)
        result = evaluate(learner, test_source, 3, 2, 3, episodes=plan.test_episodes, seed=0)
        assert cells[algo]["accuracy"] == pytest.approx(result.accuracy, abs=1e-12)
        assert cells[algo]["ci95"] == pytest.approx(result.ci95, abs=1e-12)
        assert cells[algo]["episodes"] == 16
        parameters = sum(p.numel() for p in learner_modules_parameters(learner))
        assert cells[algo]["parameters"] == parameters


def learner_modules_parameters(learner):
    modules = [v for v in vars(learner).values() if isinstance(v, torch.nn.Module)]
    return {id(p): p for m in modules for p in m.parameters()}.values()


def test_extra_scores_other_shots_ways_and_inner_steps(blobs_plan):
    cell = run_cell(blobs_plan.to_dict(), "maml", 0)
    assert [row["k_shot"] for row in cell["per_shot"]] == [1, 5, 10]
    assert all(0 <= row["mean"] <= 1 for row in cell["per_shot"])
    ways = {row["n_way"]: row for row in cell["per_way"]}
    assert 0 <= ways[5]["mean"] <= 1
    assert ways[20]["mean"] is None and "larger than the 12 classes" in ways[20]["skipped"]
    steps = cell["inner_steps"]
    assert [row["steps"] for row in steps] == [0, 1, 2, 3]
    assert steps[0]["mean"] == pytest.approx(1 / 3)  # a zero head: every class equally likely
    assert run_cell(blobs_plan.to_dict(), "protonet", 0)["inner_steps"] is None


def test_live_comparison_equals_the_headless_cells(blobs_plan):
    comparison = Comparison(blobs_plan)
    comparison.run(tick_seconds=0.02)  # many small ticks
    live = {cell["algo"]: cell for cell in comparison.score()}
    for algo in blobs_plan.algos:
        alone = run_cell(blobs_plan.to_dict(), algo, 0)
        assert alone["episode_scores"] == live[algo]["episode_scores"]
        assert alone["curves"]["validation"]["mean"] == live[algo]["curves"]["validation"]["mean"]


def test_regression_comparison_reports_mse():
    plan = small_plan(("maml", "cnp"), SINUSOID, test_shots=(5,))
    result = build_result(plan, run_grid(plan, workers=1), machine="test machine")
    assert result["metric"] == "mse"
    for row in result["learners"].values():
        assert row["mse"] > 0 and "accuracy" not in row
    assert "lower is better" in result["reading"]
    assert result["learners"]["maml"]["inner_steps"][0]["steps"] == 0


def test_maml_against_the_transfer_baseline_on_sinusoids_end_to_end(tmp_path):
    """The MAML paper's own comparison: equal networks, and scores equal ``evaluate``'s."""
    plan = small_plan(("maml", "transfer"), SINUSOID, test_shots=(5,))
    comparison = Comparison(plan)
    comparison.run(tick_seconds=0.05)
    cells = {cell["algo"]: cell for cell in comparison.score()}
    result = build_result(plan, list(cells.values()), machine="test machine")
    assert result["metric"] == "mse"
    rows = result["learners"]
    assert rows["maml"]["parameters"] == rows["transfer"]["parameters"] == 1761
    assert cells["transfer"]["episodes"] == cells["transfer"]["iterations"] == 16
    test_source = comparison.test_source()
    for algo, trainer in comparison.trainers.items():
        assert rows[algo]["mse"] > 0 and "accuracy" not in rows[algo]
        assert cells[algo]["episodes"] >= 16  # MAML's one step takes 25 tasks
        trainer.save(tmp_path / algo)
        _, learner = load_learner(tmp_path / algo)
        scored = evaluate(learner, test_source, 1, 5, 5, episodes=plan.test_episodes, seed=0)
        assert cells[algo]["mse"] == pytest.approx(scored.mse, abs=1e-12)


def test_seeds_pool_and_the_file_round_trips(tmp_path):
    plan = small_plan(seeds=(0, 1))
    cells = run_grid(plan, workers=1)
    assert sorted((c["algo"], c["seed"]) for c in cells) == [
        ("maml", 0), ("maml", 1), ("protonet", 0), ("protonet", 1),
    ]  # fmt: skip
    result = build_result(plan, cells, machine="test machine", command="compare ...")
    row = result["learners"]["protonet"]
    per_seed = [r["accuracy"] for r in row["per_seed"]]
    assert row["accuracy"] == pytest.approx(sum(per_seed) / 2)  # equal episodes per seed
    path = write_result(tmp_path / "out", result)
    assert read_result(tmp_path / "out") == read_result(path) == json.loads(json.dumps(result))
    assert "episode_scores" not in json.dumps(result)


def test_process_workers_give_the_same_results(blobs_plan, monkeypatch):
    # spawned workers import the parent's __main__ (the CLI's is a package's, which they
    # skip); an AppTest earlier in the session may have left a script there
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    one = run_grid(blobs_plan, workers=1)
    two = run_grid(blobs_plan, workers=2)
    for a, b in zip(one, two, strict=True):
        assert (a["algo"], a["episode_scores"]) == (b["algo"], b["episode_scores"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n", "not readable JSON"),
        (b"{not json", "not readable JSON"),
        (b'{"config": {"algo": "maml"}}', "not a comparison file"),
        (b"[1, 2]", "not a comparison file"),
        (b'{"format": "metalearn-comparison", "version": 99}', "version 99"),
        (
            b'{"format": "metalearn-comparison", "version": 1, "metric": "accuracy", '
            b'"learners": {"a": {}, "b": {}}, "reading": ""}',
            "damaged: a's accuracy is None",
        ),
    ],
)
def test_unreadable_or_foreign_files_are_refused(tmp_path, content, message):
    (tmp_path / "comparison.json").write_bytes(content)
    with pytest.raises(ComparisonError, match=message):
        read_result(tmp_path)
    with pytest.raises(ComparisonError, match=message):
        parse_result(content)


def test_a_missing_file_says_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="no comparison file"):
        read_result(tmp_path / "nothing")


def _zip(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zipped_comparison_folder_opens(tmp_path):
    from metalearn_core.compare import parse_result_zip

    plan = small_plan(episodes=4, validate_every=0)
    result = build_result(plan, run_grid(plan, workers=1), machine="m")
    text = json.dumps(result).encode()
    assert parse_result_zip(_zip({"cmp/comparison.json": text})) == json.loads(text)
    assert parse_result_zip(_zip({"comparison.json": text, "cmp/runs/x.txt": b""}))["metric"]
    with pytest.raises(ComparisonError, match="holds no comparison.json"):
        parse_result_zip(_zip({"a/b/comparison.json": text}))
    with pytest.raises(ComparisonError, match="not a readable zip"):
        parse_result_zip(b"not a zip")
    with pytest.raises(ComparisonError, match="not a comparison file"):
        parse_result_zip(_zip({"comparison.json": b'{"format": "other"}'}))


def test_worker_processes_train_on_one_torch_thread_each(blobs_plan):
    from metalearn_core.compare.runner import worker_plan_values

    assert blobs_plan.base.threads is None
    assert worker_plan_values(blobs_plan)["base"]["threads"] == 1
    chosen = small_plan(base=blobs_plan.base.replace(threads=2))
    assert worker_plan_values(chosen)["base"]["threads"] == 2
