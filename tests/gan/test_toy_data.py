import math

import pytest
import torch

from metalearn_core.gan.toy_data import (
    TOY_DATASETS,
    RingTaskDistribution,
    grid_modes,
    make_toy_dataset,
    ring_modes,
)


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_every_data_set_draws_reproducible_finite_points(name):
    data = make_toy_dataset(name)
    first = data.sample(64, torch.Generator().manual_seed(3))
    second = data.sample(64, torch.Generator().manual_seed(3))
    assert first.shape == (64, 2)
    assert torch.isfinite(first).all()
    assert torch.equal(first, second)
    assert first.abs().max() < data.extent


def test_ring_modes_lie_on_the_unit_circle_45_degrees_apart():
    modes = ring_modes()
    assert torch.allclose(modes.norm(dim=1), torch.ones(8))
    assert torch.allclose(modes[1], torch.tensor([math.cos(math.pi / 4), math.sin(math.pi / 4)]))


def test_grid_has_25_modes_half_a_unit_apart():
    modes = grid_modes()
    assert modes.shape == (25, 2)
    assert sorted(set(modes[:, 0].tolist())) == [-1.0, -0.5, 0.0, 0.5, 1.0]


def test_ring_tasks_respect_their_ranges():
    distribution = RingTaskDistribution(centre_range=0.5, radius_range=(0.6, 1.2))
    rng = torch.Generator().manual_seed(0)
    for _ in range(20):
        task = distribution.sample_task(rng)
        assert max(abs(c) for c in task.centre) <= 0.5
        assert 0.6 <= task.radius <= 1.2
        centre = torch.tensor(task.centre)
        assert torch.allclose((task.modes - centre).norm(dim=1), torch.full((8,), task.radius))


def test_unknown_data_set_and_bad_count_raise():
    with pytest.raises(ValueError, match="unknown 2-D data set 'ring9'"):
        make_toy_dataset("ring9")
    with pytest.raises(ValueError, match="positive integer, got 0"):
        make_toy_dataset("ring8").sample(0, torch.Generator())
