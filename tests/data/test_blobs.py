"""Blobs: each class a Gaussian with its own centre and spread; learnable, not trivial."""

from __future__ import annotations

import torch

from metalearn_core.data import EpisodeSampler, load_task_source
from metalearn_core.data.blobs import (
    CLASSES_PER_SPLIT,
    MIN_CENTRE_DISTANCE,
    SAMPLES_PER_CLASS,
    BlobsSource,
    stretch_matrix,
)


def test_pools_of_classes_with_their_own_centre_and_spread():
    for split, count in CLASSES_PER_SPLIT.items():
        source = BlobsSource(split)
        assert source.num_classes == count and source.input_shape == (2,)
        assert source.centres.shape == (count, 2) and source.covariances.shape == (count, 2, 2)
        assert len({tuple(c) for c in source.centres.tolist()}) == count
        assert len({round(float(torch.det(c)), 8) for c in source.covariances}) == count
        points = torch.stack([source.class_tensor(i) for i in range(count)]).double()
        assert points.shape == (count, SAMPLES_PER_CLASS, 2)
        # sample means and covariances agree with the stated ones
        error = (points.mean(1) - source.centres).norm(dim=1)
        assert error.max() < 0.5
        centred = points - points.mean(1, keepdim=True)
        sample_cov = centred.transpose(1, 2) @ centred / (SAMPLES_PER_CLASS - 1)
        assert torch.allclose(sample_cov, source.covariances, atol=0.5)


def test_centres_keep_their_distance_in_the_true_metric():
    unstretch = torch.linalg.inv(stretch_matrix())
    centres = BlobsSource("train").centres @ unstretch.T
    gaps = torch.cdist(centres, centres) + torch.eye(len(centres)) * 1e9
    assert gaps.min() >= MIN_CENTRE_DISTANCE - 1e-9


def test_splits_have_different_blobs_and_seeds_matter():
    train, test = BlobsSource("train"), BlobsSource("test")
    assert torch.cdist(train.centres, test.centres).min() > 0
    assert not torch.equal(BlobsSource("train", seed=1).centres, train.centres)
    assert torch.equal(BlobsSource("train", seed=0).centres, train.centres)


def _nearest_prototype_accuracy(transform: torch.Tensor) -> float:
    sampler = EpisodeSampler(load_task_source("blobs", "test"), 5, 1, 15, seed=0)
    batch = sampler.sample_batch(400)
    support, query = batch.support_x @ transform.T, batch.query_x @ transform.T
    return (torch.cdist(query, support).argmin(-1) == batch.query_y).float().mean().item()


def test_five_way_one_shot_is_learnable_but_not_trivial():
    """In the true metric (the stretch undone) one-shot nearest-prototype is near perfect;
    in raw coordinates it is clearly worse: there is something for a learner to learn."""
    raw = _nearest_prototype_accuracy(torch.eye(2))
    learned = _nearest_prototype_accuracy(torch.linalg.inv(stretch_matrix()).float())
    assert learned > 0.95
    assert raw < learned - 0.05
