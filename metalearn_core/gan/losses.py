r"""GAN objectives, written on discriminator *scores* (logits, or critic values for WGAN).

With real data x ~ p, fakes G(z) and the discriminator score s(·):

**Non-saturating** (Goodfellow et al. 2014, the practical variant):
    L_D = -E[log σ(s(x))] - E[log(1 - σ(s(G(z))))]
    L_G = -E[log σ(s(G(z)))]

**Least squares** (LSGAN, Mao et al. 2017, targets a=0, b=c=1):
    L_D = ½ E[(s(x) - 1)²] + ½ E[s(G(z))²]
    L_G = ½ E[(s(G(z)) - 1)²]

**Wasserstein with gradient penalty** (WGAN-GP, Gulrajani et al. 2017):
    L_D = E[s(G(z))] - E[s(x)] + λ E_x̂[(‖∇_x̂ s(x̂)‖₂ - 1)²],  x̂ = εx + (1-ε)G(z), ε ~ U[0,1]
    L_G = -E[s(G(z))]
The norm is taken *per sample* (one norm per row of x̂), not over the whole batch.

**Packing** (PacGAN, Lin et al. 2018): the discriminator judges m samples at once,
all real or all fake, by concatenating them: (B, 2) → (B/m, 2m).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSSES = ("nonsaturating", "least_squares", "wgan_gp")


def pack(samples: torch.Tensor, pack_size: int) -> torch.Tensor:
    """Group consecutive samples for a packed discriminator: (B, *X) → (B/m, m·prod(X))."""
    if pack_size < 1:
        raise ValueError(f"pack size must be at least 1, got {pack_size}")
    if len(samples) % pack_size:
        raise ValueError(
            f"batch of {len(samples)} samples is not divisible by pack size {pack_size}"
        )
    return samples.reshape(len(samples) // pack_size, -1)


def gradient_penalty(
    score: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    r"""WGAN-GP's penalty E[(‖∇_x̂ s(x̂)‖₂ - 1)²] with one norm per sample.

    Args:
        score: the critic, (B, D) → (B, 1) or (B,).
        real, fake: (B, D) inputs the critic sees (already packed).
        generator: draws the interpolation weights ε, one per sample.
    Returns:
        A scalar tensor that keeps the graph (so it can be minimised through the critic).
    """
    epsilon = torch.rand(len(real), 1, generator=generator)
    mixed = (epsilon * real + (1 - epsilon) * fake.detach()).requires_grad_(True)
    # Each critic output depends on its own row only, so the gradient of the sum
    # gives every sample's own input gradient in one backward pass.
    (gradients,) = torch.autograd.grad(score(mixed).sum(), mixed, create_graph=True)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def discriminator_loss(
    loss: str, real_scores: torch.Tensor, fake_scores: torch.Tensor
) -> torch.Tensor:
    """L_D without the gradient penalty (added by the caller for ``wgan_gp``)."""
    if loss == "nonsaturating":
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
    if loss == "least_squares":
        return 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores**2).mean()
    if loss == "wgan_gp":
        return fake_scores.mean() - real_scores.mean()
    raise ValueError(f"unknown GAN loss {loss!r}; choose one of {LOSSES}")


def generator_loss(loss: str, fake_scores: torch.Tensor) -> torch.Tensor:
    """L_G for the given objective."""
    if loss == "nonsaturating":
        return F.softplus(-fake_scores).mean()
    if loss == "least_squares":
        return 0.5 * ((fake_scores - 1) ** 2).mean()
    if loss == "wgan_gp":
        return -fake_scores.mean()
    raise ValueError(f"unknown GAN loss {loss!r}; choose one of {LOSSES}")
