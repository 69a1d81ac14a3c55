"""The Learn page's few-shot GAN: meta-learned over rings, it learns a new ring faster."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.gan.fewshot_tasks import FROM_SCRATCH, META_LEARNED
from metalearn_core.lessons.fewshot_gan import (
    LESSON_GAN_CONFIG,
    adapt_to_unseen_ring,
    meta_trained_gan,
)


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return meta_trained_gan(60, seed=0)


def test_the_meta_learned_start_covers_more_modes_of_unseen_rings(model):
    comparisons = [adapt_to_unseen_ring(model, number) for number in range(3)]
    meta = [c.scores[META_LEARNED]["modes"] for c in comparisons]
    scratch = [c.scores[FROM_SCRATCH]["modes"] for c in comparisons]
    assert sum(meta) > sum(scratch)
    assert all(m >= 6 for m in meta), meta  # of 8 modes


def test_snapshots_follow_the_steps_and_are_reproducible(model):
    comparison = adapt_to_unseen_ring(model, 4)
    again = adapt_to_unseen_ring(model, 4)
    steps = LESSON_GAN_CONFIG.adapt_steps
    first, last = comparison.snapshots_after(0), comparison.snapshots_after(steps)
    assert not torch.equal(first[META_LEARNED], last[META_LEARNED])
    assert torch.equal(last[FROM_SCRATCH], again.snapshots_after(steps)[FROM_SCRATCH])
    assert comparison.task.examples.shape == (LESSON_GAN_CONFIG.k_shot, 2)


def test_sizes_are_checked():
    with pytest.raises(ValueError, match="0..400"):
        meta_trained_gan(10_000)
    with pytest.raises(ValueError, match="unseen ring"):
        adapt_to_unseen_ring(meta_trained_gan(0), -1)
