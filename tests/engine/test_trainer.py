"""Trainer: ticks, interleaved runs, validation, inspection. Same config -> same numbers."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from metalearn_core.algorithms.internals import RegressionFit
from metalearn_core.engine import Trainer, TrainingDiverged


def _losses(trainer: Trainer, steps: int) -> list[float]:
    return [trainer.step().loss for _ in range(steps)]


def assert_same_state(a: Trainer, b: Trainer) -> None:
    state_a, state_b = a.learner.state_dict()["model"], b.learner.state_dict()["model"]
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


def test_ticks_give_the_same_numbers_as_one_go(blobs_config):
    one_go = Trainer(blobs_config)  # with validation steps inside the ticks
    report = one_go.run_tick(max_iterations=9)
    assert (report.iterations, report.episodes, report.validated) == (9, 9, True)

    ticked = Trainer(blobs_config)
    for size in (2, 1, 4, 2):
        ticked.run_tick(max_iterations=size)
    assert ticked.iteration == 9
    for key, values in one_go.history.train_arrays().items():
        if key != "seconds":
            np.testing.assert_array_equal(values, ticked.history.train_arrays()[key], key)
    np.testing.assert_array_equal(
        one_go.history.validation_arrays()["mean"], ticked.history.validation_arrays()["mean"]
    )
    assert_same_state(one_go, ticked)


def test_time_budget_ticks_stop_and_count(blobs_config):
    trainer = Trainer(blobs_config)
    report = trainer.run_tick(max_seconds=0.0)  # at least one step
    assert report.iterations == 1 and trainer.iteration == 1
    assert trainer.episodes_seen == 1 and trainer.episodes_per_second > 0
    assert trainer.run_tick(max_iterations=0).iterations == 0


def test_split_validation_pauses_training_and_gives_the_same_numbers(blobs_config, tmp_path):
    one_go = Trainer(blobs_config)  # validation every 3 steps, 4 episodes
    one_go.run_tick(max_iterations=9)

    split = Trainer(blobs_config)
    progress = []
    while split.iteration < 9 or split.validation_progress is not None:
        # a deadline already past: each tick scores one validation episode, or takes a step
        left = 9 - split.iteration
        report = split.run_tick(max_iterations=left, max_seconds=0.0, split_validation=True)
        progress.append((split.iteration, split.validation_progress, report.iterations))
        split.inspect(seed=len(progress))  # the page's inspector between ticks
    assert progress[:6] == [
        (1, None, 1), (2, None, 1),
        (3, (1, 4), 1), (3, (2, 4), 0), (3, (3, 4), 0),  # no training while validating
        (4, None, 1),  # the 4th episode completes it, then the tick trains
    ]  # fmt: skip
    np.testing.assert_array_equal(
        one_go.history.validation_arrays()["mean"], split.history.validation_arrays()["mean"]
    )
    assert_same_state(one_go, split)

    pending = Trainer(blobs_config)
    pending.run_tick(max_iterations=2)
    pending.run_tick(max_seconds=0.0, split_validation=True)  # step 3, 1 of 4 scored
    assert pending.validation_progress == (1, 4)
    pending.save(tmp_path / "run")  # completes it: the saved history holds it
    assert pending.validation_progress is None
    assert Trainer.load(tmp_path / "run").history.last_validation.iteration == 3


def test_two_interleaved_trainers_do_not_disturb_each_other(blobs_config, sinusoid_config, noisy):
    alone_a, alone_b = noisy(Trainer(blobs_config)), noisy(Trainer(sinusoid_config))
    expected_a, expected_b = _losses(alone_a, 4), _losses(alone_b, 4)

    a, b = noisy(Trainer(blobs_config)), noisy(Trainer(sinusoid_config))
    got_a, got_b = [], []
    for _ in range(4):
        got_a.append(a.step().loss)
        torch.rand(3)  # someone else using the global RNG in between
        got_b.append(b.step().loss)
    assert got_a == expected_a and got_b == expected_b


def test_steps_leave_the_global_rng_alone(blobs_config):
    trainer = Trainer(blobs_config)
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    trainer.run_tick(max_iterations=4)
    trainer.validate()
    trainer.inspect()
    assert torch.equal(torch.rand(5), expected)


def test_different_seeds_give_different_runs(blobs_config):
    a = _losses(Trainer(blobs_config), 3)
    b = _losses(Trainer(blobs_config.replace(seed=blobs_config.seed + 1)), 3)
    assert a != b


def test_validation_every_n_steps_on_fixed_episodes(blobs_config):
    trainer = Trainer(blobs_config)  # val_every=3, val_episodes=4
    records = [trainer.step() for _ in range(7)]
    assert [r.validation is not None for r in records] == [False, False, True] * 2 + [False]
    assert list(trainer.history.validation_arrays()["iteration"]) == [3, 6]
    first, again = trainer.validate(), trainer.validate()
    assert first == again  # the same fixed episodes, the same weights
    assert 0.0 <= first.mean <= 1.0 and first.episodes == 4 and first.metric == "accuracy"
    assert trainer.iteration == 7  # validating does not train


def test_regression_validation_is_mse(sinusoid_config):
    trainer = Trainer(sinusoid_config)
    record = trainer.run_tick(max_iterations=2).last
    assert record.accuracy is None
    assert record.validation.metric == "mse" and record.validation.mean > 0


def test_inspect_is_reproducible_and_probes_regression(blobs_config, sinusoid_config):
    trainer = Trainer(blobs_config)
    episode, adaptation = trainer.inspect(split="val", seed=4)
    again, adaptation_again = trainer.inspect(split="val", seed=4)
    assert torch.equal(episode.query_x, again.query_x)
    assert torch.equal(adaptation.query_prediction, adaptation_again.query_prediction)
    assert adaptation.query_prediction.shape == (3 * 3, 3)  # (N*Q, N)
    other, _ = trainer.inspect(split="test", seed=4, n_way=2, k_shot=1)
    assert other.support_x.shape[0] == 2

    regression = Trainer(sinusoid_config)
    _, adaptation = regression.inspect()
    probe_x = adaptation.find(RegressionFit).probe_x
    assert probe_x.shape == (200, 1) and adaptation.probe_prediction.shape == (200, 1)
    assert probe_x[0, 0] == -5.0 and probe_x[-1, 0] == 5.0


def test_bad_split_and_bad_tick_arguments(blobs_config):
    trainer = Trainer(blobs_config)
    with pytest.raises(ValueError, match="split='train2' is invalid"):
        trainer.inspect(split="train2")
    with pytest.raises(ValueError, match="max_iterations must be >= 0, got -1"):
        trainer.run_tick(max_iterations=-1)
    with pytest.raises(ValueError, match="episodes must be a positive integer, got 0"):
        trainer.validate(episodes=0)


def _poison_losses(trainer: Trainer, monkeypatch) -> None:
    original = trainer.learner.meta_train_step

    def poisoned(batch):
        result = original(batch)  # the weights do change ...
        result.loss = float("nan")  # ... but the loss is NaN
        return result

    monkeypatch.setattr(trainer.learner, "meta_train_step", poisoned)


def test_divergence_stops_cleanly_and_keeps_the_last_good_state(blobs_config, monkeypatch):
    trainer = Trainer(blobs_config)
    trainer.snapshot_every = 1  # roll back exactly one step
    trainer.run_tick(max_iterations=2)
    good = {k: v.clone() for k, v in trainer.learner.state_dict()["model"].items()}
    history_before = trainer.history.state()
    sampler_before = trainer.sampler.get_state().clone()

    _poison_losses(trainer, monkeypatch)
    report = trainer.run_tick(max_iterations=5)
    assert report.iterations == 0
    assert "step 3" in report.diverged and "outer_lr" in report.diverged
    assert trainer.divergence == report.diverged and trainer.iteration == 2
    for key, value in trainer.learner.state_dict()["model"].items():
        assert torch.equal(value, good[key]), key
    assert trainer.history.state() == history_before
    assert torch.equal(trainer.sampler.get_state(), sampler_before)  # the episodes too
    with pytest.raises(TrainingDiverged, match="step 3"):
        trainer.step()
    assert trainer.run_tick(max_iterations=3).iterations == 0


def test_divergence_rolls_back_to_the_last_snapshot(blobs_config, monkeypatch):
    straight = Trainer(blobs_config)
    straight.run_tick(max_iterations=10)
    trainer = Trainer(blobs_config)  # snapshots every 10 steps by default
    for size in (4, 9):  # the tick split does not move the snapshots
        trainer.run_tick(max_iterations=size)
    _poison_losses(trainer, monkeypatch)
    report = trainer.run_tick(max_iterations=5)
    assert "step 14" in report.diverged and "rolled back to step 10" in report.diverged
    assert (trainer.iteration, trainer.episodes_seen) == (10, 10)
    np.testing.assert_array_equal(
        trainer.history.train_arrays()["loss"], straight.history.train_arrays()["loss"]
    )
    for key, value in straight.learner.state_dict()["model"].items():
        assert torch.equal(trainer.learner.state_dict()["model"][key], value), key


def test_an_absurd_learning_rate_diverges_and_names_it(blobs_config):
    trainer = Trainer(blobs_config.replace(hparams={"outer_lr": 1e12}, val_every=0))
    report = trainer.run_tick(max_iterations=50)
    assert report.diverged is not None
    assert "outer_lr (now 1000000000000.0)" in report.diverged
    assert f"rolled back to step {trainer.iteration}," in report.diverged
    assert trainer.iteration % trainer.snapshot_every == 0
    for value in trainer.learner.state_dict()["model"].values():
        assert torch.isfinite(value).all()


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message on a machine without CUDA"
)
def test_cuda_without_a_gpu_is_a_config_error(blobs_config):
    from metalearn_core.engine import ConfigError

    with pytest.raises(ConfigError, match="device='cuda' is invalid: no CUDA device"):
        Trainer(blobs_config.replace(device="cuda"))
    assert Trainer(blobs_config.replace(device="auto")).device.type == "cpu"


def test_trainers_in_concurrent_threads_keep_their_own_streams(blobs_config, noisy):
    import threading

    configs = [blobs_config, blobs_config.replace(seed=blobs_config.seed + 1)]
    expected = [_losses(noisy(Trainer(config)), 6) for config in configs]
    trainers = [noisy(Trainer(config)) for config in configs]  # built before the threads
    got: list[list[float]] = [[], []]

    def train(index: int) -> None:
        for _ in range(6):
            got[index].append(trainers[index].step().loss)
            torch.rand(2)  # other code drawing from the global RNG, with no lock at all

    threads = [threading.Thread(target=train, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == expected


def test_a_long_step_in_one_thread_does_not_hold_up_another_runs_steps(
    blobs_config, sinusoid_config
):
    """The classroom case: one student's MAML step of seconds (300 inner steps in the
    issue; here the largest inner steps and a wide net) once held every other student's
    10 ms step until it ended (a process-wide RNG lock)."""
    import threading

    slow = {"inner_steps": 20, "meta_batch": 32}
    long_run = Trainer(sinusoid_config.replace(val_every=0, width=256, hparams=slow))
    short_run = Trainer(blobs_config.replace(val_every=0))
    short_run.step()  # first-step costs (lazy setup) out of the timing
    entered, finished = threading.Event(), threading.Event()
    original = long_run.learner.meta_train_step

    def long_step(batch):
        entered.set()
        try:
            return original(batch)
        finally:
            finished.set()

    long_run.learner.meta_train_step = long_step
    thread = threading.Thread(target=long_run.step)
    thread.start()
    try:
        assert entered.wait(30)
        start = time.perf_counter()
        for _ in range(3):
            short_run.step()
        short_seconds = time.perf_counter() - start
        long_still_running = not finished.is_set()
    finally:
        thread.join(120)
    assert long_still_running, "the long step ended before the short steps: not a test"
    assert short_run.iteration == 4
    assert short_seconds < 1.0, f"3 short steps took {short_seconds:.2f} s beside a long one"


@pytest.mark.parametrize(
    ("config", "width", "units"),
    [("sinusoid", None, 40), ("sinusoid", 64, 64), ("blobs", 64, 64), ("blobs", None, 40)],
)
def test_a_run_gets_the_width_it_asks_for(request, config, width, units):
    """MLP hidden units (the sinusoid's MAML, the blobs' ProtoNet): an asked-for 64, the
    Conv4's default, once fell back to the MLP's 40 without a word."""
    trainer = Trainer(request.getfixturevalue(f"{config}_config").replace(width=width))
    weights = trainer.learner.state_dict()["model"]
    first_layer = next(w for name, w in weights.items() if name.endswith("weight") and w.dim() == 2)
    assert first_layer.shape[0] == units


def test_adapting_a_swapped_episode_changes_the_predictions(blobs_config):
    from metalearn_core.algorithms.internals import EmbeddingView
    from metalearn_core.data.episode_edits import SupportSwap, swap_support_example

    trainer = Trainer(blobs_config)
    episode, adaptation = trainer.inspect(split="val", seed=2)
    again_episode, again = trainer.adapt_episode(episode, split="val", seed=2)
    assert again_episode is episode
    assert torch.equal(again.query_prediction, adaptation.query_prediction)

    swapped = swap_support_example(episode, trainer.source("val"), SupportSwap(1, 0, seed=3))
    _, changed = trainer.adapt_episode(swapped, split="val", seed=2)
    assert not torch.allclose(changed.query_prediction, adaptation.query_prediction)
    before, after = adaptation.find(EmbeddingView), changed.find(EmbeddingView)
    moved = (after.prototypes - before.prototypes).norm(dim=1) > 1e-6
    assert moved.tolist() == [False, True, False]  # only the swapped class's prototype


def test_classify_example_scores_against_the_support_set(blobs_config, sinusoid_config):
    trainer = Trainer(blobs_config)
    episode, _ = trainer.inspect(split="val", seed=1)
    # a support example of class 2 as the query: a fresh ProtoNet already puts it in class 2
    scores = trainer.classify_example(episode, episode.support_x[2 * episode.k_shot])
    assert scores.shape == (3,) and abs(float(scores.sum()) - 1.0) < 1e-5
    assert int(scores.argmax()) == 2
    with pytest.raises(ValueError, match="only a classification run"):
        regression = Trainer(sinusoid_config)
        task, _ = regression.inspect()
        regression.classify_example(task, task.query_x[0])
