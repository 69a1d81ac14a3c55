"""Adapting both starts on one unseen task and scoring them: what the Few-shot GAN page
shows, computed in the core."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.gan.fewshot import FewShotGAN, FewShotGANConfig
from metalearn_core.gan.fewshot_tasks import (
    FROM_SCRATCH,
    MAX_ADAPT_LRS,
    META_LEARNED,
    ImageClasses,
    ImageDomain,
    RingDomain,
    compare_on_task,
    run_fewshot_experiment,
    unseen_task,
)


def tiny_model(**changes) -> tuple[FewShotGAN, RingDomain]:
    config = FewShotGANConfig(
        g_hidden=16, d_hidden=16, k_shot=8, fake_batch=16, inner_steps=2, meta_batch=2,
        meta_iterations=10, adapt_steps=3,
    ).replace(**changes)  # fmt: skip
    domain = RingDomain(config.k_shot)
    model = FewShotGAN(config, domain.draw_task)
    model.meta_train(2)
    return model, domain


def test_both_starts_adapt_on_the_same_examples_and_noise_and_are_scored():
    model, domain = tiny_model()
    task = unseen_task(domain, 0)
    comparison = compare_on_task(model, domain, task, meta_lr=1e-3, scratch_lr=1e-2, seed=4)
    assert set(comparison.traces) == set(comparison.scores) == {META_LEARNED, FROM_SCRATCH}
    assert comparison.learning_rates == {META_LEARNED: 1e-3, FROM_SCRATCH: 1e-2}
    # Step 0 is where each starts: the meta-learned generator, and a freshly drawn one.
    view_noise = model.view_noise(domain.view_count, seed=5)
    start = comparison.snapshots_after(0)
    assert torch.allclose(start[META_LEARNED], model.meta.generator(view_noise).detach())
    assert not torch.allclose(start[META_LEARNED], start[FROM_SCRATCH])
    for trace in comparison.traces.values():
        assert len(trace.snapshots) == model.config.adapt_steps + 1
        assert trace.snapshots[0].shape == (domain.view_count, 2)
    # The scores are the domain's, on the adapted generator, replayed by hand.
    replay = model.adapt(task.examples, from_scratch=True, seed=4, lr=1e-2)
    sample_noise = model.view_noise(domain.sample_count(), seed=6)
    with torch.no_grad():
        expected = domain.score(replay.pair.generator(sample_noise), task)
    assert comparison.scores[FROM_SCRATCH] == pytest.approx(expected)
    rows = comparison.table()
    assert rows[0]["score"] == "modes covered (of 8)"
    assert rows[0][FROM_SCRATCH] == expected["modes"]


def test_the_learning_rate_chosen_for_a_start_is_the_one_it_adapts_with():
    model, domain = tiny_model()
    task = unseen_task(domain, 1)
    slow = compare_on_task(model, domain, task, meta_lr=5e-4)
    fast = compare_on_task(model, domain, task, meta_lr=2e-2)
    moved = [
        float((run.traces[META_LEARNED].snapshots[-1] - run.snapshots_after(0)[META_LEARNED])
              .norm())
        for run in (slow, fast)
    ]  # fmt: skip
    assert moved[1] > moved[0]
    # from scratch kept the default (inner_lr): the same in both runs
    assert torch.equal(
        slow.traces[FROM_SCRATCH].snapshots[-1], fast.traces[FROM_SCRATCH].snapshots[-1]
    )


def test_a_strip_shows_evenly_spaced_steps_from_the_start():
    model, domain = tiny_model(adapt_steps=10)
    comparison = compare_on_task(model, domain, unseen_task(domain, 0))
    strip = comparison.strip(META_LEARNED, rows=5, per_row=8)
    snapshots = comparison.traces[META_LEARNED].snapshots
    assert strip.shape == (6, 8, 2)  # steps 0, 2, ..., 10
    assert torch.equal(strip[1], snapshots[2][:8]) and torch.equal(strip[-1], snapshots[10][:8])
    with pytest.raises(ValueError, match=r"step must be in 0\.\.10, got 11"):
        comparison.snapshots_after(11)


def test_unseen_tasks_are_fixed_by_their_number_and_go_round_the_image_classes():
    rings = RingDomain(8)
    assert torch.equal(unseen_task(rings, 3).examples, unseen_task(rings, 3).examples)
    assert not torch.equal(unseen_task(rings, 3).examples, unseen_task(rings, 4).examples)
    assert unseen_task(rings, 3).name == "ring 3"
    with pytest.raises(ValueError, match="got -1"):
        unseen_task(rings, -1)


def test_image_unseen_tasks_cycle_over_the_held_out_classes(stripe_domain):
    labels = [unseen_task(stripe_domain, number).label for number in range(4)]
    assert labels == [2, 3, 2, 3]  # the two held-out classes in turn, not the first forever
    names = [unseen_task(stripe_domain, number).name for number in range(2)]
    assert names == ["class r2", "class r3"]


@pytest.fixture(scope="module")
def stripe_domain():
    """Two train and two held-out 4x4 classes, each inking its own row."""
    rng = torch.Generator().manual_seed(0)
    classes = []
    for row in range(4):
        images = torch.zeros(30, 4, 4)
        images[:, row] = (torch.rand(30, 4, generator=rng) < 0.6).float()
        images[:, row, 0] = 1.0
        classes.append(images.reshape(30, 16))
    stripes = ImageClasses("stripes", 4, classes[:2], ["r0", "r1"], classes[2:], ["r2", "r3"])
    return ImageDomain(stripes, k_shot=5, seed=0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seed": 10**20}, "seed must be a whole number from 0 to 9223372036854775807, got 1000"),
        ({"seed": -1}, "seed must be a whole number from 0 to"),
        ({"g_hidden": 10**9}, "g_hidden must be a whole number from 1 to 4096, got 1000000000"),
        ({"k_shot": 0}, "k_shot must be a whole number from 1 to 10000, got 0"),
        ({"adapt_steps": 10**6}, "adapt_steps must be a whole number from 0 to 1000"),
        ({"meta_iterations": 10**12}, "meta_iterations must be a whole number from 0 to"),
        ({"meta_batch": 2.5}, "meta_batch must be a whole number from 1 to 1024, got 2.5"),
    ],
)
def test_every_size_and_the_seed_have_a_bound_the_message_names(changes, message):
    with pytest.raises(ValueError, match=message):
        FewShotGANConfig(**changes)


def test_the_experiment_refuses_bad_learning_rates_and_task_counts_before_training():
    with pytest.raises(ValueError, match=r"in \(0, 1\], got nan"):
        run_fewshot_experiment("rings", adapt_lrs=(1e-3, float("nan")))
    with pytest.raises(ValueError, match=f"1 to {MAX_ADAPT_LRS} learning rates, got 21"):
        run_fewshot_experiment("rings", adapt_lrs=(1e-3,) * 21)
    with pytest.raises(ValueError, match="held_out_tasks must be between 1 and 1000, got 5000"):
        run_fewshot_experiment("rings", held_out_tasks=5000)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        run_fewshot_experiment("rings", seed=2**64)
