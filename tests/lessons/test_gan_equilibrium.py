"""The GAN equilibrium lesson: D read as a probability, ½ and 2 log 2 at the equilibrium."""

from __future__ import annotations

import math

import pytest
import torch

from metalearn_core.gan.losses import discriminator_loss
from metalearn_core.lessons import gan_equilibrium as ge


def test_at_the_equilibrium_d_is_a_half_and_its_loss_two_log_two():
    logits = torch.zeros(8)  # σ(0) = ½ on every point
    assert discriminator_loss("nonsaturating", logits, logits).item() == pytest.approx(
        ge.EQUILIBRIUM_D_LOSS
    )
    assert ge.EQUILIBRIUM_D_LOSS == pytest.approx(2 * math.log(2))


def test_a_trace_records_d_on_real_and_generated_points():
    config = ge.lesson_config(balanced=True).replace(g_hidden=16, d_hidden=16, batch_size=32)
    trace = ge.equilibrium_trace(config, steps=6, record_every=3)
    assert trace.steps == (0, 3, 6)
    assert all(0.0 < v < 1.0 for v in trace.d_real + trace.d_fake)
    assert trace.real.shape == trace.fake.shape == (ge.LESSON_SAMPLES, 2)
    assert trace.modes_total == 8 and 0 <= trace.modes_covered <= 8
    again = ge.equilibrium_trace(config, steps=6, record_every=3)
    assert again.d_real == trace.d_real  # seeded


def test_the_lesson_refuses_what_it_cannot_read_as_a_probability():
    with pytest.raises(ValueError, match="non-saturating"):
        ge.equilibrium_trace(ge.lesson_config(True).replace(loss="wgan_gp"), 1)
    with pytest.raises(ValueError, match="steps"):
        ge.equilibrium_trace(ge.lesson_config(True), ge.MAX_LESSON_STEPS + 1)
    assert ge.lesson_config(False).g_steps == 5 and ge.lesson_config(True).g_steps == 1
