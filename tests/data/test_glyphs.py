"""Glyphs: characters drawn by a program, each sample a new drawing of its character."""

from __future__ import annotations

import pytest
import torch

from metalearn_core.data import load_task_source
from metalearn_core.data.glyphs import (
    CLASSES_PER_SPLIT,
    DRAWINGS_PER_CLASS,
    GlyphsSource,
    draw_characters,
    make_glyphs,
)


def test_images_look_like_ink_on_paper():
    images = make_glyphs(20, drawings=5, seed=0)  # (20, 5, 1, 28, 28)
    assert images.shape == (20, 5, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    ink = images.flatten(2)
    # mostly empty paper, some strong strokes in every drawing
    assert ((ink > 0.5).float().mean(2) < 0.35).all()
    assert (ink.amax(2) > 0.7).all()
    assert ((ink > 0.5).float().sum(2) >= 10).all()
    # a margin: the border is nearly blank on average
    border = torch.cat([images[..., 0, :], images[..., -1, :]], dim=-1)
    assert border.mean() < 0.05


def test_drawings_of_a_character_differ_but_resemble_each_other():
    images = make_glyphs(50, drawings=6, seed=1).flatten(2)  # (50, 6, 784)
    assert not torch.equal(images[:, 0], images[:, 1])
    # nearest-neighbour in pixels finds the drawing of the same character far above
    # chance (1 in 50), but not always: the drawings differ as a hand's would
    nearest = torch.cdist(images[:, 0], images[:, 1]).argmin(1)
    hits = (nearest == torch.arange(50)).float().mean()
    assert 0.15 < hits < 0.98


def test_characters_have_one_to_four_strokes():
    strokes, mask = draw_characters(500, torch.Generator().manual_seed(0))
    counts = mask.sum(1)
    assert counts.min() == 1 and counts.max() == 4
    assert strokes.shape[:2] == (500, 4) and strokes.shape[-1] == 2


def test_reproducible_and_seeded():
    assert torch.equal(make_glyphs(5, 3, seed=2), make_glyphs(5, 3, seed=2))
    assert not torch.equal(make_glyphs(5, 3, seed=2), make_glyphs(5, 3, seed=3))


def test_splits_draw_different_characters():
    train = GlyphsSource("train", num_classes=10).class_tensor(0)
    val = GlyphsSource("val", num_classes=10).class_tensor(0)
    assert not torch.allclose(train, val)


def test_default_source_through_load_task_source():
    source = load_task_source("glyphs", "val")
    assert source.num_classes == CLASSES_PER_SPLIT["val"]
    assert source.samples_per_class == [DRAWINGS_PER_CLASS] * source.num_classes
    assert source.input_shape == (1, 28, 28)


def test_image_size_and_rotations():
    source = GlyphsSource("test", num_classes=3, image_size=40, rotations=True)
    assert source.input_shape == (1, 40, 40) and source.num_classes == 12
    assert source.class_names[:4] == [
        "test/glyph0000",
        "test/glyph0000 (rot 90)",
        "test/glyph0000 (rot 180)",
        "test/glyph0000 (rot 270)",
    ]
    upright, turned = source.class_tensor(0), source.class_tensor(2)
    assert torch.equal(turned, torch.rot90(upright, 2, dims=(2, 3)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="too small"):
        GlyphsSource("train", image_size=4)
    with pytest.raises(ValueError, match="at least one class"):
        GlyphsSource("train", num_classes=0)
