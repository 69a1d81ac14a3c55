"""Sinusoid regression tasks (Finn et al. 2017): ranges, ground truth, one way, split streams."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from metalearn_core.data import EpisodeSampler, load_task_source
from metalearn_core.data.sinusoid import SinusoidSource, sinusoid_function


def test_episode_shapes_and_ground_truth():
    source = load_task_source("sinusoid", "train")
    assert source.task_kind == "regression" and source.input_shape == (1,)
    batch = EpisodeSampler(source, n_way=1, k_shot=5, q_query=7, seed=0).sample_batch(50)
    assert batch.support_x.shape == (50, 5, 1) and batch.support_y.shape == (50, 5, 1)
    assert batch.query_x.shape == (50, 7, 1) and batch.query_y.shape == (50, 7, 1)
    assert batch.support_y.dtype == torch.float32
    for episode in batch.episodes():
        a, p = episode.task_params["amplitude"], episode.task_params["phase"]
        assert 0.1 <= a <= 5.0 and 0.0 <= p <= math.pi
        for x, y in [(episode.support_x, episode.support_y), (episode.query_x, episode.query_y)]:
            assert x.min() >= -5 and x.max() <= 5
            # y = A sin(x - phase), written out here rather than through the library
            assert torch.allclose(y, a * torch.sin(x - p), atol=1e-5)
            assert torch.allclose(y, source.true_function(x, episode.task_params), atol=1e-5)


def test_amplitude_and_phase_cover_their_ranges():
    sampler = EpisodeSampler(SinusoidSource("train"), 1, 1, 1, seed=1)
    params = [sampler.sample().task_params for _ in range(2000)]
    amplitudes = np.array([p["amplitude"] for p in params])
    phases = np.array([p["phase"] for p in params])
    assert amplitudes.min() < 0.2 and amplitudes.max() > 4.9
    assert abs(amplitudes.mean() - 2.55) < 0.15  # U[0.1, 5]
    assert phases.min() < 0.05 and phases.max() > math.pi - 0.05
    assert abs(phases.mean() - math.pi / 2) < 0.1  # U[0, pi]


def test_n_way_must_be_one():
    with pytest.raises(ValueError, match="n_way=5.*regression tasks have one 'way'"):
        EpisodeSampler(load_task_source("sinusoid"), n_way=5, k_shot=5, q_query=5, seed=0)


def test_same_seed_same_tasks_and_splits_draw_different_tasks():
    def params(split, seed):
        sampler = EpisodeSampler(load_task_source("sinusoid", split), 1, 5, 5, seed=seed)
        return [sampler.sample().task_params for _ in range(5)]

    assert params("train", 0) == params("train", 0)
    assert params("train", 0) != params("train", 1)
    assert params("train", 0) != params("val", 0) != params("test", 0)
    assert params("train", 0) != params("test", 0)


def test_sinusoid_function_on_numbers_arrays_and_tensors():
    assert sinusoid_function(1.0, 2.0, 1.0) == pytest.approx(0.0)
    x = np.linspace(-5, 5, 11)
    assert np.allclose(sinusoid_function(x, 3.0, 0.5), 3.0 * np.sin(x - 0.5))
    t = torch.linspace(-5, 5, 11)
    out = sinusoid_function(t, 3.0, 0.5)
    assert isinstance(out, torch.Tensor) and torch.allclose(out, 3.0 * torch.sin(t - 0.5))
