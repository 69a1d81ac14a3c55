r"""GAN objectives, written on discriminator *scores* (logits, or critic values for WGAN).

With real data x ~ p, fakes G(z) and the discriminator score s(·) (σ: the logistic
function), each objective is a discriminator loss and a generator loss, both minimised.

Non-saturating (Goodfellow et al. 2014, the practical variant: the generator maximises
log D(G(z)) rather than minimising log(1 - D(G(z))), which saturates early on):

.. math::
    \begin{aligned}
    L_D &= -\mathbb{E}_x\big[\log \sigma(s(x))\big]
    - \mathbb{E}_z\big[\log(1 - \sigma(s(G(z))))\big] \\
    L_G &= -\mathbb{E}_z\big[\log \sigma(s(G(z)))\big]
    \end{aligned}

Least squares (LSGAN, Mao et al. 2017, with targets a = 0, b = c = 1):

.. math::
    \begin{aligned}
    L_D &= \tfrac{1}{2}\,\mathbb{E}_x\big[(s(x) - 1)^2\big]
    + \tfrac{1}{2}\,\mathbb{E}_z\big[s(G(z))^2\big] \\
    L_G &= \tfrac{1}{2}\,\mathbb{E}_z\big[(s(G(z)) - 1)^2\big]
    \end{aligned}

Wasserstein with gradient penalty (WGAN-GP, Gulrajani et al. 2017), on points between real
and fake ones, with the norm taken *per sample* (one norm per row), not over the batch:

.. math::
    \begin{aligned}
    L_D &= \mathbb{E}_z\big[s(G(z))\big] - \mathbb{E}_x\big[s(x)\big]
    + \lambda\, \mathbb{E}_{\hat x}\big[(\lVert \nabla_{\hat x} s(\hat x) \rVert_2 - 1)^2\big] \\
    L_G &= -\mathbb{E}_z\big[s(G(z))\big] \\
    \hat x &= \epsilon x + (1 - \epsilon) G(z), \qquad \epsilon \sim U[0, 1]
    \end{aligned}

**Packing** (PacGAN, Lin et al. 2018): the discriminator judges m samples at once,
all real or all fake, by concatenating them: (B, 2) → (B/m, 2m).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from metalearn_core.docmath import MathBlock, parse_math_blocks
from metalearn_core.words import N_

LOSSES = ("nonsaturating", "least_squares", "wgan_gp")
LOSS_TITLES = {
    "nonsaturating": N_("Non-saturating"),
    "least_squares": N_("Least squares"),
    "wgan_gp": N_("Wasserstein + gradient penalty"),
}
# each loss's objective, as the module docstring states it (in LOSSES order)
OBJECTIVES: dict[str, MathBlock] = dict(zip(LOSSES, parse_math_blocks(__doc__ or ""), strict=True))


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
