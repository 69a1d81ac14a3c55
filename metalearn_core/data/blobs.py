"""Blobs: 2-D classification tasks whose raw inputs can be drawn with no projection.

Every class is a Gaussian blob with its own centre and its own elliptical spread
(two standard deviations and an angle). Each split has a fixed pool of classes whose
centres keep a minimum distance from one another, so that a 5-way 1-shot episode is
solvable (Prototypical Networks reach 90%+ query accuracy) but not trivial: blobs of
different widths sit close enough that a one-shot prototype can land on the wrong side.
Train, val and test pools are drawn from separate random streams and never share a class.

>>> source = BlobsSource("train", seed=0)
>>> episode = EpisodeSampler(source, n_way=5, k_shot=1, q_query=15, seed=0).sample()
>>> episode.support_x.shape       # (5, 2): raw (x, y) points, ready to scatter-plot
"""

from __future__ import annotations

import math

import torch

from metalearn_core.data.episodes import ClassificationSource

CLASSES_PER_SPLIT = {"train": 32, "val": 12, "test": 12}
SAMPLES_PER_CLASS = 200
MIN_CENTRE_DISTANCE = 1.0  # between centres, measured in the "true" metric (before stretching)
SPREAD_RANGE = (0.12, 0.35)  # std along each principal axis, in the true metric
STRETCH = 4.0  # every blob is stretched by this factor along one shared direction ...
STRETCH_ANGLE = math.radians(30)  # ... this one, measured from the x axis

_SPLIT_SALT = {"train": 101, "val": 202, "test": 303}


def box_half_width(count: int) -> float:
    """Centres of a pool of ``count`` classes lie in [-h, h]^2 before stretching; the box
    grows with the pool so that the density of classes, and so the difficulty, stays put."""
    return 0.6 * MIN_CENTRE_DISTANCE * math.sqrt(count * STRETCH)


def stretch_matrix() -> torch.Tensor:
    """The linear map shared by all classes: (2, 2), scale STRETCH along STRETCH_ANGLE."""
    c, s = math.cos(STRETCH_ANGLE), math.sin(STRETCH_ANGLE)
    rotation = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    return rotation @ torch.diag(torch.tensor([STRETCH, 1.0], dtype=torch.float64)) @ rotation.T


def _draw_centres(count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` points in the box, each at least MIN_CENTRE_DISTANCE from the others: (count, 2).

    Random sequential placement: candidates too close to an accepted centre are dropped.
    """
    half = box_half_width(count)
    unstretch = torch.linalg.inv(stretch_matrix())
    centres = torch.empty(0, 2, dtype=torch.float64)
    for _ in range(1000):
        candidates = (torch.rand(64, 2, generator=generator, dtype=torch.float64) * 2 - 1) * half
        for point in candidates:
            gaps = (centres - point) @ unstretch.T  # (n, 2) in the true metric
            if len(centres) == 0 or gaps.norm(dim=1).min() >= MIN_CENTRE_DISTANCE:
                centres = torch.cat([centres, point[None]])
                if len(centres) == count:
                    return centres
    raise RuntimeError(f"could not place {count} blob centres")  # unreachable at this density


class BlobsSource(ClassificationSource):
    """One split of the blobs data set: a fixed pool of Gaussian classes in the plane.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``.
        seed: picks the pool of classes (centres, spreads) and their samples.
        num_classes: classes in this split (default ``CLASSES_PER_SPLIT[split]``).
        samples_per_class: points drawn once per class (the limit on K+Q).

    Attributes (for drawing the true blobs):
        centres: (C, 2) float64 class means.
        covariances: (C, 2, 2) float64 class covariance matrices.
    """

    def __init__(
        self,
        split: str = "train",
        seed: int = 0,
        num_classes: int | None = None,
        samples_per_class: int = SAMPLES_PER_CLASS,
    ):
        if split not in _SPLIT_SALT:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(_SPLIT_SALT)}")
        count = CLASSES_PER_SPLIT[split] if num_classes is None else int(num_classes)
        generator = torch.Generator().manual_seed(int(seed) * 1_000 + _SPLIT_SALT[split])
        stretch = stretch_matrix()
        self.centres = _draw_centres(count, generator)  # (C, 2)
        spreads = SPREAD_RANGE[0] + (SPREAD_RANGE[1] - SPREAD_RANGE[0]) * torch.rand(
            count, 2, generator=generator, dtype=torch.float64
        )  # (C, 2) std along each principal axis
        angles = torch.rand(count, generator=generator, dtype=torch.float64) * math.pi
        cos, sin = torch.cos(angles), torch.sin(angles)
        rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        scale = stretch @ (rotation * spreads.unsqueeze(1))  # (C, 2, 2): S @ R @ diag(spreads)
        self.covariances = scale @ scale.transpose(1, 2)  # (C, 2, 2)
        noise = torch.randn(count, samples_per_class, 2, generator=generator, dtype=torch.float64)
        points = self.centres.unsqueeze(1) + noise @ scale.transpose(1, 2)  # (C, S, 2)
        names = [
            f"blob {split}-{i:02d} at ({x:+.1f}, {y:+.1f})"
            for i, (x, y) in enumerate(self.centres.tolist())
        ]
        super().__init__("blobs", split, list(points.float()), names)
