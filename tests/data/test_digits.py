"""Digits: 0-5 train, 6-7 val, 8-9 test, rotated copies as extra classes."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from metalearn_core.data import EpisodeSampler, load_task_source


def test_split_by_digit_with_rotations():
    names = {s: load_task_source("digits", s).class_names for s in ("train", "val", "test")}
    assert len(names["train"]) == 20 and len(names["val"]) == 8 and len(names["test"]) == 6
    digits_in = {s: {n.split()[1] for n in v} for s, v in names.items()}
    assert digits_in == {"train": set("012345"), "val": set("67"), "test": set("89")}
    # near-symmetric digits keep only their quarter turn
    assert [n for n in names["test"] if n.startswith("digit 8")] == ["digit 8", "digit 8 (rot 90)"]
    assert "digit 9 (rot 270)" in names["test"]


def test_test_split_allows_five_way_episodes():
    source = load_task_source("digits", "test")
    episode = EpisodeSampler(source, 5, 5, 15, seed=0).sample()
    assert episode.support_x.shape == (25, 1, 8, 8)


def test_pixels_are_the_scaled_originals_and_rotations_are_quarter_turns():
    raw = load_digits()
    eights = torch.tensor(raw.images[raw.target == 8], dtype=torch.float32) / 16
    source = load_task_source("digits", "test")
    upright = source.class_tensor(source.class_names.index("digit 8"))
    turned = source.class_tensor(source.class_names.index("digit 8 (rot 90)"))
    assert torch.equal(upright[:, 0], eights)
    assert torch.equal(turned, torch.rot90(upright, 1, dims=(2, 3)))
    assert upright.min() == 0 and upright.max() == 1


def test_image_size_resizes():
    source = load_task_source("digits", "val", image_size=28)
    assert source.input_shape == (1, 28, 28)
    x = source.class_tensor(0)
    assert x.shape[1:] == (1, 28, 28) and 0 <= x.min() and x.max() <= 1
