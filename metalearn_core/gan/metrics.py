"""Mode coverage of a 2-D generator, as defined by VEEGAN and PacGAN.

Draw S samples (2,500 in the papers), assign each to its nearest mode, and call it
*high quality* when it lies within 3 sigma of that mode's centre. Then report

* ``modes``: how many modes have at least one high-quality sample assigned;
* ``high_quality``: the share of all samples that are high quality;
* ``reverse_kl``: KL(q ‖ p) between the generated distribution over modes q
  (every sample counted at its nearest mode, high quality or not) and the true
  mode weights p (uniform, 1/M).

Empty modes need no smoothing in this direction: a mode with q_i = 0 contributes
0·ln(0/p_i) = 0 by the usual convention, and p_i = 1/M is never zero. So all
samples on one mode give exactly ln M, and a perfect spread gives 0.

For real samples of a 2-D isotropic Gaussian, P(|x - μ| ≤ 3σ) = 1 - exp(-9/2) ≈ 0.989,
the high-quality share a perfect generator reaches.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

PAPER_SAMPLE_COUNT = 2500
HIGH_QUALITY_SIGMAS = 3.0


@dataclass(frozen=True)
class ModeCoverage:
    """The three numbers of the PacGAN table, plus the per-mode counts to draw."""

    modes: int  # modes with at least one high-quality sample
    num_modes: int  # M
    high_quality: float  # share of samples within 3 sigma of their nearest mode
    reverse_kl: float  # KL(q ‖ uniform) of nearest-mode counts, in nats
    counts: tuple[int, ...]  # samples per nearest mode (all samples)
    high_quality_counts: tuple[int, ...]  # high-quality samples per mode

    def as_dict(self) -> dict:
        return asdict(self)


def nearest_mode(samples: torch.Tensor, modes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of and distance to the nearest mode for each sample.

    Args:
        samples: (S, 2) points.
        modes: (M, 2) mode centres.
    Returns:
        ``(index (S,) int64, distance (S,) float)``.
    """
    distances = torch.cdist(samples.float(), modes.float())  # (S, M)
    distance, index = distances.min(dim=1)
    return index, distance


def reverse_kl_uniform(counts: torch.Tensor) -> float:
    """KL(q ‖ uniform) in nats for q = counts / counts.sum(); empty bins contribute 0."""
    total = counts.sum()
    if total <= 0:
        raise ValueError(f"reverse KL needs at least one sample, got counts {counts.tolist()}")
    q = counts.double() / total
    nonzero = q > 0
    return float((q[nonzero] * torch.log(q[nonzero] * len(counts))).sum())


def mode_coverage(
    samples: torch.Tensor,
    modes: torch.Tensor,
    sigma: float,
    *,
    threshold_sigmas: float = HIGH_QUALITY_SIGMAS,
) -> ModeCoverage:
    """Measure how well ``samples`` (S, 2) cover the Gaussian ``modes`` (M, 2) of std ``sigma``.

    Non-finite samples (a diverged generator) count as assigned to no mode and never high
    quality, so they lower ``high_quality`` without breaking the other numbers.
    """
    if samples.ndim != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(
            f"samples must have shape (S, {modes.shape[1]}), got {tuple(samples.shape)}"
        )
    if len(samples) == 0:
        raise ValueError("mode coverage needs at least one sample, got 0")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    finite = torch.isfinite(samples).all(dim=1)
    index, distance = nearest_mode(samples[finite], modes)
    high = distance <= threshold_sigmas * sigma
    num_modes = len(modes)
    counts = torch.bincount(index, minlength=num_modes)
    high_counts = torch.bincount(index[high], minlength=num_modes)
    reverse_kl = reverse_kl_uniform(counts) if counts.sum() > 0 else math.log(num_modes)
    return ModeCoverage(
        modes=int((high_counts > 0).sum()),
        num_modes=num_modes,
        high_quality=float(high.sum()) / len(samples),
        reverse_kl=reverse_kl,
        counts=tuple(counts.tolist()),
        high_quality_counts=tuple(high_counts.tolist()),
    )
