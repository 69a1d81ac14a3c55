import math

import pytest
import torch

from metalearn_core.gan.losses import (
    LOSS_TITLES,
    LOSSES,
    OBJECTIVES,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    pack,
)


def test_gradient_penalty_uses_one_norm_per_sample():
    # s(x) = ½‖x‖² has input gradient x, so the penalty is mean_i (‖x̂_i‖ - 1)².
    real = torch.tensor([[3.0, 4.0], [0.0, 0.5], [1.0, 0.0]])
    fake = real.clone()  # x̂ = real whatever ε is
    penalty = gradient_penalty(
        lambda x: 0.5 * (x**2).sum(dim=1), real, fake, torch.Generator().manual_seed(0)
    )
    per_sample = ((5.0 - 1) ** 2 + (0.5 - 1) ** 2 + (1.0 - 1) ** 2) / 3
    batch_norm = (math.sqrt(25 + 0.25 + 1) - 1) ** 2  # what a batch-wide norm would give
    assert penalty.item() == pytest.approx(per_sample)
    assert penalty.item() != pytest.approx(batch_norm)


def test_gradient_penalty_of_a_linear_critic_is_norm_of_weights_minus_one():
    weight = torch.tensor([0.6, 0.8, 2.0])
    real, fake = torch.randn(4, 3), torch.randn(4, 3)
    penalty = gradient_penalty(lambda x: x @ weight, real, fake, torch.Generator().manual_seed(1))
    assert penalty.item() == pytest.approx((weight.norm().item() - 1) ** 2, rel=1e-6)


def test_gradient_penalty_keeps_the_graph_to_the_critic():
    weight = torch.tensor([2.0, 0.0], requires_grad=True)
    penalty = gradient_penalty(
        lambda x: x @ weight, torch.zeros(2, 2), torch.ones(2, 2), torch.Generator()
    )
    penalty.backward()
    # d/dw (‖w‖ - 1)² = 2 (‖w‖ - 1) w / ‖w‖ = (2, 0) at w = (2, 0).
    assert torch.allclose(weight.grad, torch.tensor([2.0, 0.0]))


def test_nonsaturating_losses_match_the_formulas():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    sigmoid = torch.sigmoid
    expected_d = -torch.log(sigmoid(real)).mean() - torch.log(1 - sigmoid(fake)).mean()
    expected_g = -torch.log(sigmoid(fake)).mean()
    assert discriminator_loss("nonsaturating", real, fake).item() == pytest.approx(
        expected_d.item(), rel=1e-6
    )
    assert generator_loss("nonsaturating", fake).item() == pytest.approx(
        expected_g.item(), rel=1e-6
    )


def test_least_squares_and_wasserstein_losses_match_the_formulas():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # ½ mean((r-1)²) + ½ mean(f²) = ½ (0 + 4)/2 + ½ (0 + 4)/2 = 2
    assert discriminator_loss("least_squares", real, fake).item() == pytest.approx(2.0)
    # ½ mean((f-1)²) = ½ (1 + 1)/2 = 0.5
    assert generator_loss("least_squares", fake).item() == pytest.approx(0.5)
    assert discriminator_loss("wgan_gp", real, fake).item() == pytest.approx(1.0 - 2.0)
    assert generator_loss("wgan_gp", fake).item() == pytest.approx(-1.0)


def test_pack_concatenates_consecutive_samples():
    samples = torch.arange(12.0).reshape(6, 2)
    packed = pack(samples, 3)
    assert packed.shape == (2, 6)
    assert packed[1].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]


def test_bad_pack_and_loss_names_raise():
    with pytest.raises(ValueError, match="not divisible by pack size 4"):
        pack(torch.zeros(6, 2), 4)
    with pytest.raises(ValueError, match="unknown GAN loss 'hinge'"):
        generator_loss("hinge", torch.zeros(2))


def test_every_loss_states_both_objectives():
    assert set(OBJECTIVES) == set(LOSSES) == set(LOSS_TITLES)
    for objective in OBJECTIVES.values():
        assert "L_D &=" in objective.latex and "L_G &=" in objective.latex
    assert "\\lambda" in OBJECTIVES["wgan_gp"].latex  # the penalty belongs to WGAN-GP only
    assert "\\lambda" not in OBJECTIVES["least_squares"].latex
