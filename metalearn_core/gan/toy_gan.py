"""A 2-D GAN that can be stepped one update at a time, in the spirit of GAN Lab.

The page and the command line drive the same object::

    gan = ToyGAN(ToyGANConfig(dataset="ring8", pack=2, seed=0))
    gan.train(3000)
    gan.evaluate().modes          # 8

Each step draws a real batch and a noise batch from the GAN's own
``torch.Generator`` (never the global RNG: several students share one process),
updates the discriminator ``d_steps`` times and the generator ``g_steps`` times.
A non-finite loss or weight restores the state from before that update and sets
``divergence``; later steps do nothing until ``reset``.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import torch
from torch import nn

from metalearn_core.gan.losses import (
    LOSSES,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    pack,
)
from metalearn_core.gan.metrics import PAPER_SAMPLE_COUNT, ModeCoverage, mode_coverage
from metalearn_core.gan.models import mlp
from metalearn_core.gan.toy_data import TOY_DATASETS, ToyDataset, make_toy_dataset
from metalearn_core.words import N_

logger = logging.getLogger(__name__)

HISTORY_LENGTH = 2000  # loss records kept (one per step)
COVERAGE_HISTORY_LENGTH = 300  # coverage records kept (one per ``coverage_every`` steps)
MAX_LEARNING_RATE = 1.0
MAX_STEPS_PER_SIDE = 50
# Bounds far above any lesson's need (batch 512, hidden 256), so that a typo fails at once
# instead of asking for gigabytes.
MAX_BATCH_SIZE = 65_536
MAX_WIDTH = 4_096  # noise dimension and hidden units
MAX_LAYERS = 32
MAX_SEED = 2**63 - 1  # as a training run's seed; derived seeds (seed + 5) still fit torch's
MAX_COVERAGE_EVERY = 1_000_000
MAX_TRAIN_STEPS = 1_000_000  # the command line's --steps (the page trains by the second)


@dataclass(frozen=True)
class ToyGANConfig:
    """Everything that defines a 2-D GAN run (the defaults are PacGAN's ring setting)."""

    dataset: str = "ring8"  # a key of TOY_DATASETS
    loss: str = "nonsaturating"  # "nonsaturating" | "least_squares" | "wgan_gp"
    pack: int = 2  # m samples per discriminator input (1 = plain GAN)
    batch_size: int = 256  # samples per side and step; divisible by pack
    noise_dim: int = 2  # 2 lets the page draw the warped noise grid
    g_hidden: int = 128
    g_layers: int = 3
    d_hidden: int = 128
    d_layers: int = 3
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    beta1: float = 0.5  # Adam's first-moment decay, the usual GAN choice
    d_steps: int = 1  # discriminator updates per step
    g_steps: int = 1  # generator updates per step
    gp_weight: float = 0.1  # λ of WGAN-GP (0.1 is the paper's value for toy data)
    coverage_every: int = 50  # steps between mode-coverage records (mixtures only)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.dataset not in TOY_DATASETS:
            raise ValueError(
                f"unknown 2-D data set {self.dataset!r}; choose one of {sorted(TOY_DATASETS)}"
            )
        if self.loss not in LOSSES:
            raise ValueError(f"unknown GAN loss {self.loss!r}; choose one of {LOSSES}")
        if not 1 <= self.pack <= 8:
            raise ValueError(f"pack must be between 1 and 8, got {self.pack}")
        if not self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be at most {MAX_BATCH_SIZE}, got {self.batch_size}")
        if self.batch_size < self.pack or self.batch_size % self.pack:
            raise ValueError(
                f"batch_size {self.batch_size} must be a positive multiple of pack {self.pack}"
            )
        for name in ("g_lr", "d_lr"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value <= MAX_LEARNING_RATE):
                raise ValueError(f"{name} must be in (0, {MAX_LEARNING_RATE}], got {value!r}")
        for name in ("d_steps", "g_steps"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_STEPS_PER_SIDE:
                raise ValueError(f"{name} must be between 1 and {MAX_STEPS_PER_SIDE}, got {value}")
        for name in ("noise_dim", "g_hidden", "g_layers", "d_hidden", "d_layers"):
            high = MAX_LAYERS if name.endswith("layers") else MAX_WIDTH
            if not 1 <= getattr(self, name) <= high:
                raise ValueError(f"{name} must be between 1 and {high}, got {getattr(self, name)}")
        if not 1 <= self.coverage_every <= MAX_COVERAGE_EVERY:
            raise ValueError(
                f"coverage_every must be between 1 and {MAX_COVERAGE_EVERY}, "
                f"got {self.coverage_every}"
            )
        check_seed(self.seed)

    def replace(self, **changes: Any) -> ToyGANConfig:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ToyGANConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown GAN settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


def check_seed(seed: Any, name: str = "seed") -> None:
    """Raise ``ValueError`` naming ``seed`` unless it is a whole number in 0..MAX_SEED.

    torch's generators take at most 64 bits; past that they fail with "Overflow when
    unpacking long long", which names neither the setting nor the limit.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_SEED}, got {seed!r}")


# Lesson presets: name -> (title, config). "mode_collapse" is the plain GAN of the lesson:
# the same networks as "pacgan", unpacked, and a generator that takes five updates per
# discriminator update; it chases whatever point the discriminator currently likes and
# ends on one mode (measured: 1 of 8 modes on seeds 0 and 1 after 1,000-2,000 steps).
PRESETS: dict[str, tuple[str, ToyGANConfig]] = {
    "pacgan": (N_("PacGAN (pairs) on the ring"), ToyGANConfig(pack=2)),
    "mode_collapse": (N_("Plain GAN: mode collapse"), ToyGANConfig(pack=1, g_steps=5)),
    "lsgan": (N_("Least squares GAN"), ToyGANConfig(loss="least_squares", pack=1)),
    "wgan_gp": (
        N_("WGAN-GP"),
        ToyGANConfig(loss="wgan_gp", pack=1, d_steps=5, g_lr=1e-3, d_lr=1e-3),
    ),
}


def preset(name: str, **changes: Any) -> ToyGANConfig:
    """The configuration of lesson preset ``name``, with optional changes."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name][1].replace(**changes)


@dataclass(frozen=True)
class GradientField:
    """Where the generator's update pushes each fake point.

    points: (n, 2) fake samples; directions: (n, 2) = -∂L_G/∂x per point (scaled so that
    the loss is a sum over points, not a mean: arrow length does not shrink with n).
    """

    points: torch.Tensor
    directions: torch.Tensor


class ToyGAN:
    """Generator, discriminator, their optimisers and a bounded history, for one student."""

    def __init__(self, config: ToyGANConfig):
        self.config = config
        self.dataset: ToyDataset = make_toy_dataset(config.dataset)
        self.rng = torch.Generator().manual_seed(config.seed)
        self.generator_net = mlp(
            config.noise_dim, config.g_hidden, config.g_layers, 2, generator=self.rng
        )
        self.discriminator_net = mlp(
            2 * config.pack, config.d_hidden, config.d_layers, 1, generator=self.rng
        )
        betas = (config.beta1, 0.999)
        self.g_optimizer = torch.optim.Adam(
            self.generator_net.parameters(), lr=config.g_lr, betas=betas
        )
        self.d_optimizer = torch.optim.Adam(
            self.discriminator_net.parameters(), lr=config.d_lr, betas=betas
        )
        # A fixed noise batch for the views, so that drawn points move smoothly between redraws.
        view_rng = torch.Generator().manual_seed(config.seed + 1)
        self.view_noise = torch.randn(256, config.noise_dim, generator=view_rng)
        self.steps = 0  # completed "step both" rounds and single-side steps alike
        self.d_updates = 0
        self.g_updates = 0
        self.history: deque[dict[str, float]] = deque(maxlen=HISTORY_LENGTH)
        self.coverage_history: deque[dict[str, float]] = deque(maxlen=COVERAGE_HISTORY_LENGTH)
        self.divergence: str | None = None
        self.last_d_loss = math.nan
        self.last_g_loss = math.nan

    # ---- training ---------------------------------------------------------------------

    def noise(self, n: int) -> torch.Tensor:
        """(n, noise_dim) standard normal noise from the GAN's generator."""
        return torch.randn(n, self.config.noise_dim, generator=self.rng)

    def score(self, points: torch.Tensor) -> torch.Tensor:
        """Discriminator scores of packed groups: (B, 2) → (B/m,)."""
        return self.discriminator_net(pack(points, self.config.pack)).squeeze(-1)

    def _discriminator_update(self) -> float:
        config = self.config
        real = self.dataset.sample(config.batch_size, self.rng)
        with torch.no_grad():
            fake = self.generator_net(self.noise(config.batch_size))
        loss = discriminator_loss(config.loss, self.score(real), self.score(fake))
        if config.loss == "wgan_gp":
            packed_real, packed_fake = pack(real, config.pack), pack(fake, config.pack)
            penalty = gradient_penalty(
                lambda x: self.discriminator_net(x), packed_real, packed_fake, self.rng
            )
            loss = loss + config.gp_weight * penalty
        self.d_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.d_optimizer.step()
        self.d_updates += 1
        return loss.item()

    def _generator_update(self) -> float:
        fake = self.generator_net(self.noise(self.config.batch_size))
        loss = generator_loss(self.config.loss, self.score(fake))
        self.g_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.g_optimizer.step()
        self.g_updates += 1
        return loss.item()

    def _snapshot(self) -> list[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
        """Copies of every weight and its Adam state (cheaper than deep-copying state dicts)."""
        saved = []
        for network, optimizer in self._pairs():
            for parameter in network.parameters():
                state = optimizer.state.get(parameter, {})
                saved.append((parameter.detach().clone(), {k: v.clone() for k, v in state.items()}))
        return saved

    def _restore(self, saved: list[tuple[torch.Tensor, dict[str, torch.Tensor]]]) -> None:
        parameters = [(p, opt) for net, opt in self._pairs() for p in net.parameters()]
        with torch.no_grad():
            for (parameter, optimizer), (weights, state) in zip(parameters, saved, strict=True):
                parameter.copy_(weights)
                optimizer.state[parameter] = dict(state)

    def _pairs(self) -> tuple[tuple[nn.Module, torch.optim.Optimizer], ...]:
        return (
            (self.generator_net, self.g_optimizer),
            (self.discriminator_net, self.d_optimizer),
        )

    def _weights_finite(self) -> bool:
        networks = (self.generator_net, self.discriminator_net)
        return all(bool(torch.isfinite(p).all()) for net in networks for p in net.parameters())

    def _guarded(self, d_steps: int, g_steps: int) -> bool:
        """Run the updates; on a non-finite loss or weight, roll back and record why."""
        if self.divergence is not None:
            return False
        snapshot = self._snapshot()
        counts = (self.d_updates, self.g_updates)
        d_loss, g_loss = self.last_d_loss, self.last_g_loss
        for _ in range(d_steps):
            d_loss = self._discriminator_update()
        for _ in range(g_steps):
            g_loss = self._generator_update()
        losses = ([d_loss] if d_steps else []) + ([g_loss] if g_steps else [])
        if not (all(math.isfinite(v) for v in losses) and self._weights_finite()):
            self._restore(snapshot)
            self.d_updates, self.g_updates = counts
            self.divergence = (
                f"training diverged at step {self.steps + 1} (discriminator loss {d_loss}, "
                f"generator loss {g_loss}); the state from step {self.steps} is kept. "
                "Lower the learning rates and press Reset."
            )
            logger.warning(self.divergence)
            return False
        self.steps += 1
        self.last_d_loss, self.last_g_loss = d_loss, g_loss
        self.history.append({"step": self.steps, "d_loss": d_loss, "g_loss": g_loss})
        if self.dataset.modes is not None and self.steps % self.config.coverage_every == 0:
            self.record_coverage()
        return True

    def step_discriminator(self) -> bool:
        """``d_steps`` discriminator updates; False if the run has diverged."""
        return self._guarded(self.config.d_steps, 0)

    def step_generator(self) -> bool:
        """``g_steps`` generator updates; False if the run has diverged."""
        return self._guarded(0, self.config.g_steps)

    def step(self) -> bool:
        """One round: ``d_steps`` discriminator then ``g_steps`` generator updates."""
        return self._guarded(self.config.d_steps, self.config.g_steps)

    def train(self, steps: int, max_seconds: float | None = None) -> int:
        """Up to ``steps`` rounds (fewer if ``max_seconds`` passes or it diverges); returns done."""
        if steps < 0:
            raise ValueError(f"steps must be non-negative, got {steps}")
        start = time.perf_counter()
        done = 0
        while done < steps:
            if not self.step():
                break
            done += 1
            if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                break
        return done

    def set_hyperparameters(self, **changes: Any) -> None:
        """Change learning rates or steps per side while training (optimiser state is kept).

        Accepts ``g_lr``, ``d_lr``, ``d_steps``, ``g_steps``, ``gp_weight``; values are
        validated as in ``ToyGANConfig``.
        """
        allowed = {"g_lr", "d_lr", "d_steps", "g_steps", "gp_weight"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(
                f"cannot change {sorted(unknown)} while training; only {sorted(allowed)}"
            )
        self.config = self.config.replace(**changes)
        for group in self.g_optimizer.param_groups:
            group["lr"] = self.config.g_lr
        for group in self.d_optimizer.param_groups:
            group["lr"] = self.config.d_lr

    # ---- measuring and drawing --------------------------------------------------------

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """(n, 2) generated points; from ``seed`` if given, else from the fixed view noise."""
        if seed is None and n <= len(self.view_noise):
            noise = self.view_noise[:n]
        else:
            rng = torch.Generator().manual_seed(self.config.seed + 2 if seed is None else seed)
            noise = torch.randn(n, self.config.noise_dim, generator=rng)
        return self.generator_net(noise)

    def evaluate(self, samples: int = PAPER_SAMPLE_COUNT, seed: int | None = None) -> ModeCoverage:
        """PacGAN's mode coverage on ``samples`` generated points (mixture data sets only)."""
        if self.dataset.modes is None:
            raise ValueError(
                f"mode coverage needs a Gaussian mixture; {self.config.dataset!r} has no modes"
            )
        points = self.sample(samples, seed=self.config.seed + 3 if seed is None else seed)
        return mode_coverage(points, self.dataset.modes, self.dataset.sigma)

    def record_coverage(self) -> ModeCoverage:
        coverage = self.evaluate()
        self.coverage_history.append(
            {
                "step": self.steps,
                "modes": coverage.modes,
                "high_quality": coverage.high_quality,
                "reverse_kl": coverage.reverse_kl,
            }
        )
        return coverage

    @torch.no_grad()
    def discriminator_map(self, resolution: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
        """The discriminator over a square grid covering the data.

        A point's value is the score of a pack made of m copies of it, passed through a
        sigmoid for the non-saturating loss (a probability of "real"), raw otherwise.

        Returns:
            ``(axis (R,), values (R, R))`` with ``values[i, j]`` at (x=axis[j], y=axis[i]).
        """
        if not 2 <= resolution <= 200:
            raise ValueError(f"resolution must be between 2 and 200, got {resolution}")
        axis = torch.linspace(-self.dataset.extent, self.dataset.extent, resolution)
        ys, xs = torch.meshgrid(axis, axis, indexing="ij")
        points = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)  # (R², 2)
        scores = self.discriminator_net(points.repeat(1, self.config.pack)).squeeze(-1)
        if self.config.loss == "nonsaturating":
            scores = torch.sigmoid(scores)
        return axis, scores.reshape(resolution, resolution)

    @torch.no_grad()
    def warped_noise_grid(self, lines: int = 9, points_per_line: int = 25) -> torch.Tensor:
        """Images under G of a grid in the first two noise coordinates (others zero).

        Returns:
            (2 * lines, points_per_line, 2): horizontal lines first, then vertical ones,
            from a grid spanning [-2, 2]² (±2 standard deviations of the noise).
        """
        t = torch.linspace(-2, 2, points_per_line)
        offsets = torch.linspace(-2, 2, lines)
        horizontal = torch.stack(
            [t.expand(lines, -1), offsets[:, None].expand(-1, points_per_line)], dim=-1
        )
        vertical = horizontal.flip(-1)
        grid2d = torch.cat([horizontal, vertical])  # (2L, P, 2)
        noise = torch.zeros(*grid2d.shape[:2], self.config.noise_dim)
        noise[..., : min(2, self.config.noise_dim)] = grid2d[..., : self.config.noise_dim]
        return self.generator_net(noise)

    def generator_gradients(self, n: int = 64) -> GradientField:
        """-∂L_G/∂x at ``n`` fake points from the view noise (n rounded down to the pack)."""
        n = max(self.config.pack, n - n % self.config.pack)
        with torch.no_grad():
            points = self.sample(n)
        points = points.clone().requires_grad_(True)
        loss = generator_loss(self.config.loss, self.score(points)) * (n // self.config.pack)
        (gradient,) = torch.autograd.grad(loss, points)
        return GradientField(points.detach(), -gradient)

    def networks(self) -> tuple[nn.Module, nn.Module]:
        return self.generator_net, self.discriminator_net
