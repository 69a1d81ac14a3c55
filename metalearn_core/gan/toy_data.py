"""Two-dimensional data sets for the GAN lab.

Mixtures of Gaussians (the ring of 8 and the 5x5 grid used by VEEGAN and PacGAN)
have known modes, so mode coverage can be measured exactly; two moons and the
simple shapes are there to look at. Every sampler takes an explicit
``torch.Generator``.

>>> data = make_toy_dataset("ring8")
>>> points = data.sample(500, torch.Generator().manual_seed(0))   # (500, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from metalearn_core.words import N_

RING_RADIUS = 1.0
MODE_SIGMA = 0.05  # standard deviation of each Gaussian mode, in both coordinates


@dataclass(frozen=True)
class ToyDataset:
    """A 2-D distribution: a sampler plus, for mixtures, the mode centres.

    Attributes:
        name: registry name, e.g. ``"ring8"``.
        title: what the page shows.
        sampler: ``(n, generator) -> (n, 2)`` float32 points.
        modes: (M, 2) mode centres for Gaussian mixtures, ``None`` otherwise.
        sigma: standard deviation of each mode (mixtures only).
        extent: half-width of the square view that holds the data.
    """

    name: str
    title: str
    sampler: Callable[[int, torch.Generator], torch.Tensor]
    modes: torch.Tensor | None = None
    sigma: float = MODE_SIGMA
    extent: float = 1.6

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n`` points: (n, 2) float32."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive integer, got {n!r}")
        return self.sampler(n, generator)


def ring_modes(
    num_modes: int = 8,
    radius: float = RING_RADIUS,
    centre: tuple[float, float] = (0.0, 0.0),
    rotation: float = 0.0,
) -> torch.Tensor:
    """Centres of ``num_modes`` Gaussians evenly spaced on a circle: (num_modes, 2)."""
    angles = rotation + 2 * math.pi * torch.arange(num_modes, dtype=torch.float32) / num_modes
    points = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return points + torch.tensor(centre, dtype=torch.float32)


def grid_modes(side: int = 5, spacing: float = 0.5) -> torch.Tensor:
    """Centres of a ``side`` x ``side`` grid centred on the origin: (side², 2)."""
    coords = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    xs, ys = torch.meshgrid(coords, coords, indexing="xy")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def sample_mixture(
    modes: torch.Tensor, sigma: float, n: int, generator: torch.Generator
) -> torch.Tensor:
    """``n`` points from an equal-weight isotropic Gaussian mixture: (n, 2)."""
    which = torch.randint(len(modes), (n,), generator=generator)
    return modes[which] + sigma * torch.randn(n, 2, generator=generator)


def _mixture(name: str, title: str, modes: torch.Tensor, extent: float) -> ToyDataset:
    return ToyDataset(
        name=name,
        title=title,
        sampler=lambda n, g: sample_mixture(modes, MODE_SIGMA, n, g),
        modes=modes,
        sigma=MODE_SIGMA,
        extent=extent,
    )


def _two_moons(n: int, generator: torch.Generator) -> torch.Tensor:
    # Two interleaved half circles (as scikit-learn's make_moons), centred and scaled to ±1.
    upper = torch.rand(n, generator=generator) < 0.5
    angle = math.pi * torch.rand(n, generator=generator)
    x = torch.where(upper, torch.cos(angle), 1 - torch.cos(angle))
    y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
    points = torch.stack([x - 0.5, y - 0.25], dim=1) * 0.8
    return points + 0.05 * torch.randn(n, 2, generator=generator)


def _circle(n: int, generator: torch.Generator) -> torch.Tensor:
    angle = 2 * math.pi * torch.rand(n, generator=generator)
    points = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return points + 0.03 * torch.randn(n, 2, generator=generator)


def _square(n: int, generator: torch.Generator) -> torch.Tensor:
    # The outline of a square: pick a side, then a position along it.
    side = torch.randint(4, (n,), generator=generator)
    along = 2 * torch.rand(n, generator=generator) - 1
    ones = torch.ones(n)
    x = torch.stack([along, ones, along, -ones], dim=1).gather(1, side[:, None]).squeeze(1)
    y = torch.stack([ones, along, -ones, along], dim=1).gather(1, side[:, None]).squeeze(1)
    return 0.8 * torch.stack([x, y], dim=1) + 0.02 * torch.randn(n, 2, generator=generator)


def _spiral(n: int, generator: torch.Generator) -> torch.Tensor:
    turn = torch.rand(n, generator=generator)  # 0 at the centre, 1 at the outer end
    angle = 3 * math.pi * turn
    radius = 0.15 + 1.1 * turn
    points = radius[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return points + 0.03 * torch.randn(n, 2, generator=generator)


def _line(n: int, generator: torch.Generator) -> torch.Tensor:
    t = 2 * torch.rand(n, generator=generator) - 1
    return torch.stack([t, 0.5 * t], dim=1) + 0.03 * torch.randn(n, 2, generator=generator)


TOY_DATASETS: dict[str, Callable[[], ToyDataset]] = {
    "ring8": lambda: _mixture("ring8", N_("Ring of 8 Gaussians"), ring_modes(), 1.6),
    "grid25": lambda: _mixture("grid25", N_("5x5 grid of Gaussians"), grid_modes(), 1.6),
    "moons": lambda: ToyDataset("moons", N_("Two moons"), _two_moons, extent=1.6),
    "circle": lambda: ToyDataset("circle", N_("Circle"), _circle, extent=1.6),
    "square": lambda: ToyDataset("square", N_("Square outline"), _square, extent=1.6),
    "spiral": lambda: ToyDataset("spiral", N_("Spiral"), _spiral, extent=1.6),
    "line": lambda: ToyDataset("line", N_("Line segment"), _line, extent=1.6),
}


def make_toy_dataset(name: str) -> ToyDataset:
    """Build the 2-D data set ``name`` (one of ``TOY_DATASETS``)."""
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown 2-D data set {name!r}; choose one of {sorted(TOY_DATASETS)}")
    return TOY_DATASETS[name]()


@dataclass(frozen=True)
class RingTask:
    """One few-shot task: a ring of Gaussians with its own centre, radius and rotation."""

    centre: tuple[float, float]
    radius: float
    rotation: float
    num_modes: int = 8
    sigma: float = MODE_SIGMA

    @property
    def modes(self) -> torch.Tensor:
        """(num_modes, 2) mode centres."""
        return ring_modes(self.num_modes, self.radius, self.centre, self.rotation)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 2) points from this ring."""
        return sample_mixture(self.modes, self.sigma, n, generator)


@dataclass(frozen=True)
class RingTaskDistribution:
    """Random rings: centre uniform in ``[-centre_range, centre_range]²``, radius uniform
    in ``radius_range``, rotation uniform over one mode spacing (all rotations of an
    8-mode ring are reached within 2π/8)."""

    centre_range: float = 0.5
    radius_range: tuple[float, float] = (0.6, 1.2)
    num_modes: int = 8
    sigma: float = MODE_SIGMA

    def sample_task(self, generator: torch.Generator) -> RingTask:
        u = torch.rand(4, generator=generator).tolist()
        low, high = self.radius_range
        return RingTask(
            centre=((2 * u[0] - 1) * self.centre_range, (2 * u[1] - 1) * self.centre_range),
            radius=low + (high - low) * u[2],
            rotation=u[3] * 2 * math.pi / self.num_modes,
            num_modes=self.num_modes,
            sigma=self.sigma,
        )
