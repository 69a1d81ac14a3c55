"""A few-shot GAN small enough for a Learn page: meta-learned over rings, adapted to a new one.

Every task is a ring of 8 Gaussians with its own centre, radius and rotation
(``gan.fewshot_tasks.RingDomain``). Reptile meta-learns a start for the generator and the
discriminator over many rings (``gan.fewshot.FewShotGAN``); on an unseen ring both that
start and freshly drawn networks take the same K examples, steps and noise
(``compare_on_task``). The networks and budgets are cut down from the Few-shot GAN page's
(``DOMAIN_CONFIGS["rings"]``) so that meta-training takes seconds on one CPU core; the
meta-learned start still covers more of the ring's modes after a few steps.

>>> model = meta_trained_gan(LESSON_META_ITERATIONS, seed=0)
>>> comparison = adapt_to_unseen_ring(model, number=3)
>>> comparison.snapshots_after(5)   # {"meta-learned start": (V, 2), "from scratch": (V, 2)}
"""

from __future__ import annotations

from metalearn_core.gan.fewshot import FewShotGAN, FewShotGANConfig
from metalearn_core.gan.fewshot_tasks import (
    RingDomain,
    TaskComparison,
    compare_on_task,
    unseen_task,
)

LESSON_META_ITERATIONS = 60  # ~4 s of one core: the start then covers a new ring's modes
MAX_LESSON_META_ITERATIONS = 400
MAX_UNSEEN_RING = 999
LESSON_GAN_CONFIG = FewShotGANConfig(
    data_dim=2, noise_dim=4, g_hidden=64, d_hidden=64, k_shot=32, fake_batch=64,
    inner_steps=10, inner_lr=2e-3, adapt_steps=20, meta_batch=2, outer_lr=0.5,
    meta_iterations=LESSON_META_ITERATIONS,
)  # fmt: skip


def lesson_domain() -> RingDomain:
    return RingDomain(LESSON_GAN_CONFIG.k_shot)


def meta_trained_gan(iterations: int = LESSON_META_ITERATIONS, seed: int = 0) -> FewShotGAN:
    """The lesson's GAN after ``iterations`` Reptile iterations over random rings."""
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise ValueError(f"iterations must be a whole number, got {iterations!r}")
    if not 0 <= iterations <= MAX_LESSON_META_ITERATIONS:
        raise ValueError(f"iterations must be in 0..{MAX_LESSON_META_ITERATIONS}, got {iterations}")
    config = LESSON_GAN_CONFIG.replace(meta_iterations=iterations, seed=seed)
    model = FewShotGAN(config, lesson_domain().draw_task)
    model.meta_train()
    return model


def adapt_to_unseen_ring(model: FewShotGAN, number: int, seed: int = 0) -> TaskComparison:
    """Unseen ring ``number`` learnt from K examples by the meta-learned start and from
    scratch: samples after each step and the modes each covers at the end."""
    if (
        isinstance(number, bool)
        or not isinstance(number, int)
        or not 0 <= number <= MAX_UNSEEN_RING
    ):
        raise ValueError(f"an unseen ring's number must be in 0..{MAX_UNSEEN_RING}, got {number!r}")
    domain = lesson_domain()
    return compare_on_task(model, domain, unseen_task(domain, number), seed=seed)
