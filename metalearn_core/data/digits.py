"""Digits: scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download).

Ten digits are too few classes to meta-learn from, so each digit also gives rotated
copies (90, 180 and 270 degrees) as extra classes, as is usual for Omniglot. Splits by
digit, so that test episodes hold digits the learner never saw:

- train: digits 0-5 (20 classes)
- val: digits 6 and 7 (8 classes)
- test: digits 8 and 9 (6 classes), the digits the GAN lessons also hold out.

Digits 0, 1 and 8 look nearly the same turned by 180 degrees (and so by 270 as by 90),
so they only get their 90-degree copy: a 5-way task never holds two near-identical
classes. Note that a 6 turned by 180 degrees resembles a 9: that links val and test,
never train and test.

Images are (1, 8, 8) with ink = high in [0, 1] (the raw 0..16 scaled by 1/16); ask for
another ``image_size`` and they are resized (bilinear) to (1, image_size, image_size).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from metalearn_core.data.episodes import ClassificationSource

SPLIT_DIGITS = {"train": (0, 1, 2, 3, 4, 5), "val": (6, 7), "test": (8, 9)}
SYMMETRIC_DIGITS = (0, 1, 8)  # the same (nearly) after a half turn
NATIVE_SIZE = 8


def digit_rotations(digit: int) -> tuple[int, ...]:
    """Quarter turns (0..3) that give distinct classes for ``digit``."""
    return (0, 1) if digit in SYMMETRIC_DIGITS else (0, 1, 2, 3)


def split_class_names(split: str) -> list[str]:
    """Class names of a split, cheap: no data is loaded."""
    return [
        f"digit {d}" + (f" (rot {90 * k})" if k else "")
        for d in SPLIT_DIGITS[split]
        for k in digit_rotations(d)
    ]


class DigitsSource(ClassificationSource):
    """One split of the digits data set, each class a digit at one rotation.

    Args:
        split: ``"train"`` (0-5), ``"val"`` (6, 7) or ``"test"`` (8, 9).
        image_size: side of the images; 8 keeps the native resolution.
    """

    def __init__(self, split: str = "train", image_size: int = NATIVE_SIZE):
        if split not in SPLIT_DIGITS:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_DIGITS)}")
        from sklearn.datasets import load_digits  # bundled with scikit-learn, no download

        bunch = load_digits()
        images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (n, 1, 8, 8)
        if image_size != NATIVE_SIZE:
            images = F.interpolate(
                images, size=(image_size, image_size), mode="bilinear", align_corners=False
            ).clamp_(0, 1)
        targets = torch.tensor(bunch.target)
        examples = []
        for digit in SPLIT_DIGITS[split]:
            own = images[targets == digit]  # (S_d, 1, H, W)
            examples += [
                torch.rot90(own, k, dims=(2, 3)).contiguous() for k in digit_rotations(digit)
            ]
        super().__init__("digits", split, examples, split_class_names(split))
