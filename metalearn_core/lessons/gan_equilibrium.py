r"""A 2-D GAN watched for its Nash equilibrium.

At the equilibrium of the original GAN game the generator's distribution equals the data's
and the best discriminator answers :math:`D^*(x) = \tfrac12` everywhere, so that its loss
:math:`-\mathbb{E}\log D(x) - \mathbb{E}\log(1 - D(G(z)))` equals :math:`2\log 2`
(Goodfellow et al., 2014, Theorem 1). :func:`equilibrium_trace` trains the core's 2-D GAN
(``metalearn_core.gan.toy_gan``) a few steps at a time and records the mean D on real and on
generated points; a run that collapses onto a few modes keeps D away from ½ where the
missed modes are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from metalearn_core.gan.toy_gan import ToyGAN, ToyGANConfig

EQUILIBRIUM_D = 0.5
EQUILIBRIUM_D_LOSS = 2 * math.log(2)  # −log ½ − log(1 − ½)
MAX_LESSON_STEPS = 1000
LESSON_SAMPLES = 512


@dataclass(frozen=True)
class EquilibriumTrace:
    """Mean D(x) on real and generated points after each recorded step, and the last points."""

    steps: tuple[int, ...]
    d_real: tuple[float, ...]
    d_fake: tuple[float, ...]
    real: torch.Tensor  # (LESSON_SAMPLES, 2)
    fake: torch.Tensor  # (LESSON_SAMPLES, 2)
    modes_covered: int | None
    modes_total: int | None
    extent: float


def lesson_config(balanced: bool, seed: int = 0) -> ToyGANConfig:
    """A small unpacked GAN on the ring of 8 Gaussians: one D step per G step (``balanced``),
    or five G steps per D step, the generator-led setting that tends to collapse."""
    return ToyGANConfig(
        dataset="ring8",
        loss="nonsaturating",
        pack=1,
        batch_size=128,
        g_hidden=64,
        d_hidden=64,
        g_steps=1 if balanced else 5,
        seed=seed,
    )


def mean_discriminator(gan: ToyGAN, points: torch.Tensor) -> float:
    """Mean of D(x) = σ(score) over ``points`` (the non-saturating loss scores with logits)."""
    with torch.no_grad():
        return torch.sigmoid(gan.score(points)).mean().item()


def equilibrium_trace(config: ToyGANConfig, steps: int, record_every: int = 25) -> EquilibriumTrace:
    """Train ``steps`` rounds, recording mean D on fresh real and generated points."""
    if config.loss != "nonsaturating" or config.pack != 1:
        raise ValueError(
            "the equilibrium lesson reads D as a probability: unpacked, non-saturating"
        )
    if not 0 <= steps <= MAX_LESSON_STEPS:
        raise ValueError(f"steps must be between 0 and {MAX_LESSON_STEPS}, got {steps}")
    if record_every < 1:
        raise ValueError(f"record_every must be at least 1, got {record_every}")
    gan = ToyGAN(config)
    sample_rng = torch.Generator().manual_seed(config.seed + 2)
    real = gan.dataset.sample(LESSON_SAMPLES, sample_rng)
    recorded_steps, d_real, d_fake = [], [], []
    done = 0
    while True:
        fake = gan.sample(LESSON_SAMPLES, seed=config.seed + 3)
        recorded_steps.append(done)
        d_real.append(mean_discriminator(gan, real))
        d_fake.append(mean_discriminator(gan, fake))
        if done >= steps:
            break
        chunk = min(record_every, steps - done)
        if gan.train(chunk) < chunk:  # diverged: keep what was recorded
            break
        done += chunk
    coverage = gan.evaluate(seed=config.seed + 4) if gan.dataset.modes is not None else None
    return EquilibriumTrace(
        tuple(recorded_steps),
        tuple(d_real),
        tuple(d_fake),
        real,
        fake,
        None if coverage is None else coverage.modes,
        None if gan.dataset.modes is None else len(gan.dataset.modes),
        float(gan.dataset.extent),
    )
