import math

import pytest
import torch

from metalearn_core.gan.metrics import mode_coverage, reverse_kl_uniform
from metalearn_core.gan.toy_data import MODE_SIGMA, make_toy_dataset, ring_modes


def test_real_ring_samples_cover_all_modes_at_the_gaussian_rate():
    ring = make_toy_dataset("ring8")
    samples = ring.sample(20_000, torch.Generator().manual_seed(0))
    coverage = mode_coverage(samples, ring.modes, ring.sigma)
    assert coverage.modes == 8
    # P(|x - mu| <= 3 sigma) for a 2-D isotropic Gaussian is 1 - exp(-9/2).
    assert coverage.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.003)
    assert coverage.reverse_kl < 0.002


def test_all_samples_on_one_mode_give_reverse_kl_ln_8():
    modes = ring_modes()
    samples = modes[3].repeat(2500, 1)
    coverage = mode_coverage(samples, modes, MODE_SIGMA)
    assert coverage.modes == 1
    assert coverage.high_quality == 1.0
    assert coverage.reverse_kl == pytest.approx(math.log(8), abs=1e-9)
    assert coverage.counts == (0, 0, 0, 2500, 0, 0, 0, 0)


def test_reverse_kl_of_two_equal_modes_is_ln_4():
    assert reverse_kl_uniform(torch.tensor([5, 5, 0, 0, 0, 0, 0, 0])) == pytest.approx(math.log(4))


def test_far_samples_are_assigned_but_not_high_quality():
    modes = ring_modes()
    # 4 sigma from mode 0 (outside the 3-sigma ball), exactly on mode 1.
    samples = torch.stack([modes[0] * (1 + 4 * MODE_SIGMA), modes[1]])
    coverage = mode_coverage(samples, modes, MODE_SIGMA)
    assert coverage.counts[:2] == (1, 1)
    assert coverage.high_quality_counts[:2] == (0, 1)
    assert coverage.modes == 1
    assert coverage.high_quality == 0.5


def test_non_finite_samples_are_never_high_quality():
    modes = ring_modes()
    samples = torch.stack([modes[0], torch.tensor([float("nan"), 0.0])])
    coverage = mode_coverage(samples, modes, MODE_SIGMA)
    assert coverage.high_quality == 0.5
    assert sum(coverage.counts) == 1


@pytest.mark.parametrize(
    "samples, sigma, message",
    [
        (torch.zeros(0, 2), 0.05, "at least one sample"),
        (torch.zeros(5, 3), 0.05, "shape"),
        (torch.zeros(5, 2), 0.0, "sigma"),
    ],
)
def test_bad_input_raises_value_error(samples, sigma, message):
    with pytest.raises(ValueError, match=message):
        mode_coverage(samples, ring_modes(), sigma)
