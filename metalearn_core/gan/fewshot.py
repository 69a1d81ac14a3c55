r"""A meta-learned few-shot GAN in the style of FIGR (Clouâtre & Demers 2019).

Each *task* is one distribution (a ring of Gaussians) or one class (all the images of
a digit), seen through K examples. Reptile (Nichol et al. 2018) meta-learns a starting
point θ = (θ_G, θ_D) for both networks from which a few GAN steps on a new task's K
examples already give a generator for that task. Each meta-iteration draws B tasks
:math:`T_i`, runs k = ``inner_steps`` GAN updates of both networks on each task's K
examples from θ (a fresh Adam per task), then moves θ towards the average result:

.. math::
    \begin{aligned}
    \phi_i^{(0)} &= \theta = (\theta_G, \theta_D), \qquad
    \phi_i^{(s+1)} = \mathrm{GANstep}\big(\phi_i^{(s)};\, T_i\big) \\
    \theta &\leftarrow \theta + \epsilon \Big(\frac{1}{B}\sum_{i=1}^{B} \phi_i^{(k)} - \theta\Big)
    \end{aligned}

Adaptation to an unseen task is the inner loop alone, run for ``adapt_steps``. The same
loop from a freshly initialised (θ_G, θ_D) is the *from scratch* baseline, so the two
differ only in where they start (and, if asked, in the learning rate, which may be tuned
for each separately).

With ``condition_on_mean`` both networks also see the mean x̄_K of the task's K examples
(the generator G(z, x̄_K), the discriminator D(x, x̄_K)), so that one meta-learned start
can already draw something of the task's class before any step; from scratch gets the
same inputs.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from metalearn_core.gan.conv_models import ConvDiscriminator, ConvGenerator, reinitialise_conv
from metalearn_core.gan.losses import LOSSES, discriminator_loss, generator_loss
from metalearn_core.gan.models import mlp
from metalearn_core.gan.toy_gan import MAX_BATCH_SIZE, MAX_LAYERS, MAX_WIDTH, check_seed

logger = logging.getLogger(__name__)

ARCHITECTURES = ("mlp", "conv")
# Upper bounds of the integer settings, far above the task sets' needs (hidden 128, K 32,
# 20 adaptation steps, 400 meta-iterations), so that a typo fails at once with a message
# instead of asking for gigabytes or days.
SIZE_LIMITS = {
    "data_dim": 256 * 256, "noise_dim": MAX_WIDTH, "g_hidden": MAX_WIDTH, "g_layers": MAX_LAYERS,
    "d_hidden": MAX_WIDTH, "d_layers": MAX_LAYERS, "k_shot": 10_000, "fake_batch": MAX_BATCH_SIZE,
    "inner_steps": 1_000, "adapt_steps": 1_000, "meta_batch": 1_024,
    "meta_iterations": 1_000_000, "conv_channels": 512,
}  # fmt: skip


@dataclass(frozen=True)
class FewShotGANConfig:
    """Networks, inner loop and outer loop of the meta-learned GAN."""

    data_dim: int = 2  # 2 for points, H*W for flattened images
    image_output: bool = False  # sigmoid output in [0, 1] for images
    noise_dim: int = 8
    g_hidden: int = 128
    g_layers: int = 2
    d_hidden: int = 128
    d_layers: int = 2
    loss: str = "nonsaturating"
    k_shot: int = 32  # examples per task
    fake_batch: int = 64  # generated samples per inner step
    inner_steps: int = 10  # GAN updates per task while meta-training
    inner_lr: float = 2e-3  # Adam, both networks, reset for every task
    adapt_steps: int = 20  # GAN updates on an unseen task
    meta_batch: int = 4  # tasks per meta-iteration
    outer_lr: float = 0.5  # Reptile's ε, annealed linearly to 0 over meta_iterations
    meta_iterations: int = 400
    condition_on_mean: bool = False  # G and D also see the mean of the task's K examples
    architecture: str = "mlp"  # "mlp", or "conv" for square images (data_dim = side²)
    conv_channels: int = 32  # width of the convolutional networks
    seed: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES or self.loss == "wgan_gp":
            raise ValueError(
                f"few-shot GAN loss must be 'nonsaturating' or 'least_squares', got {self.loss!r}"
            )
        for name, high in SIZE_LIMITS.items():
            value = getattr(self, name)
            low = 0 if name in ("adapt_steps", "meta_iterations") else 1
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"{name} must be a whole number from {low} to {high}, got {value!r}"
                )
        check_seed(self.seed)
        if not 0 < self.inner_lr <= 1:
            raise ValueError(f"inner_lr must be in (0, 1], got {self.inner_lr}")
        if not 0 < self.outer_lr <= 1:
            raise ValueError(f"outer_lr must be in (0, 1], got {self.outer_lr}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}"
            )
        if self.architecture == "conv" and (
            not self.image_output or math.isqrt(self.data_dim) ** 2 != self.data_dim
        ):
            raise ValueError(
                f"the conv architecture needs square images (image_output and data_dim a "
                f"square), got data_dim={self.data_dim}, image_output={self.image_output}"
            )

    @property
    def image_side(self) -> int:
        """Side of the (square) images: √data_dim."""
        return math.isqrt(self.data_dim)

    def replace(self, **changes: Any) -> FewShotGANConfig:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MeanConditioned(nn.Module):
    """``network([x, c])``: a network that also sees a per-task condition c (data_dim,).

    The condition is a buffer, not a parameter: Reptile never averages it, and each
    adapted copy holds its own task's condition (set by ``set_condition``).
    """

    def __init__(self, network: nn.Module, condition_dim: int):
        super().__init__()
        self.network = network
        self.register_buffer("condition", torch.zeros(condition_dim))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, F) → network((N, F + condition_dim))."""
        return self.network(torch.cat([inputs, self.condition.expand(len(inputs), -1)], dim=1))


@dataclass
class GANPair:
    """A generator and a discriminator that travel together."""

    generator: nn.Module
    discriminator: nn.Module

    def clone(self) -> GANPair:
        return GANPair(copy.deepcopy(self.generator), copy.deepcopy(self.discriminator))

    def parameters(self) -> list[torch.Tensor]:
        return [*self.generator.parameters(), *self.discriminator.parameters()]


def build_pair(config: FewShotGANConfig, generator: torch.Generator) -> GANPair:
    """Freshly initialised networks for ``config``, weights drawn from ``generator``."""
    extra = config.data_dim if config.condition_on_mean else 0
    if config.architecture == "conv":
        conditioned, side, width = bool(extra), config.image_side, config.conv_channels
        g_net: nn.Module = ConvGenerator(config.noise_dim, side, width, conditioned=conditioned)
        d_net: nn.Module = ConvDiscriminator(side, width, conditioned=conditioned)
        reinitialise_conv(g_net, generator)
        reinitialise_conv(d_net, generator)
    else:
        output = nn.Sigmoid() if config.image_output else None
        g_net = mlp(config.noise_dim + extra, config.g_hidden, config.g_layers,
                    config.data_dim, output=output, generator=generator)  # fmt: skip
        d_net = mlp(config.data_dim + extra, config.d_hidden, config.d_layers, 1,
                    generator=generator)  # fmt: skip
    if config.condition_on_mean:
        return GANPair(MeanConditioned(g_net, extra), MeanConditioned(d_net, extra))
    return GANPair(g_net, d_net)


def set_condition(pair: GANPair, examples: torch.Tensor) -> None:
    """Give a mean-conditioned ``pair`` its task: the mean of (K, data_dim) ``examples``."""
    mean = examples.mean(dim=0)
    for network in (pair.generator, pair.discriminator):
        if isinstance(network, MeanConditioned):
            network.condition.copy_(mean)


@dataclass
class AdaptationTrace:
    """What adapting on one task produced.

    pair: the adapted networks.
    d_losses, g_losses: one value per step.
    snapshots: generated samples for the fixed ``view_noise`` after steps 0..k
        (index 0 is the start), each (V, data_dim); empty if not asked for.
    """

    pair: GANPair
    d_losses: list[float]
    g_losses: list[float]
    snapshots: list[torch.Tensor]


def gan_updates(
    pair: GANPair,
    examples: torch.Tensor,
    steps: int,
    config: FewShotGANConfig,
    rng: torch.Generator,
    *,
    view_noise: torch.Tensor | None = None,
    lr: float | None = None,
) -> AdaptationTrace:
    """``steps`` GAN updates of ``pair`` in place on the K real ``examples`` (K, data_dim).

    Each step updates the discriminator once on (all K examples, ``fake_batch`` fakes),
    then the generator once, both with Adam(``lr``, default ``inner_lr``) created here, as
    FIGR does. A mean-conditioned pair first gets the examples' mean as its condition.
    """
    lr = config.inner_lr if lr is None else lr
    if not 0 < lr <= 1:
        raise ValueError(f"lr must be in (0, 1], got {lr}")
    set_condition(pair, examples)
    betas = (0.5, 0.999)
    d_optimizer = torch.optim.Adam(pair.discriminator.parameters(), lr=lr, betas=betas)
    g_optimizer = torch.optim.Adam(pair.generator.parameters(), lr=lr, betas=betas)
    d_losses: list[float] = []
    g_losses: list[float] = []
    snapshots: list[torch.Tensor] = []
    if view_noise is not None:
        with torch.no_grad():
            snapshots.append(pair.generator(view_noise))
    for _ in range(steps):
        noise = torch.randn(config.fake_batch, config.noise_dim, generator=rng)
        fake = pair.generator(noise)
        d_loss = discriminator_loss(
            config.loss, pair.discriminator(examples).squeeze(-1),
            pair.discriminator(fake.detach()).squeeze(-1),
        )  # fmt: skip
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        d_optimizer.step()
        g_loss = generator_loss(config.loss, pair.discriminator(fake).squeeze(-1))
        g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimizer.step()
        d_losses.append(d_loss.item())
        g_losses.append(g_loss.item())
        if view_noise is not None:
            with torch.no_grad():
                snapshots.append(pair.generator(view_noise))
    return AdaptationTrace(pair, d_losses, g_losses, snapshots)


TaskDrawer = Callable[[torch.Generator], torch.Tensor]  # rng -> (K, data_dim) examples


class FewShotGAN:
    """Reptile over GAN tasks: a meta-learned start for G and D, and adaptation from it.

    Args:
        config: the networks and both loops.
        draw_task: draws one meta-training task's K examples, (K, data_dim), from a generator.
    """

    def __init__(self, config: FewShotGANConfig, draw_task: TaskDrawer):
        self.config = config
        self.draw_task = draw_task
        self.rng = torch.Generator().manual_seed(config.seed)
        self.meta = build_pair(config, self.rng)
        self.iteration = 0
        self.history: list[dict[str, float]] = []  # one record per meta-iteration (bounded)
        self.divergence: str | None = None

    def outer_step_size(self) -> float:
        """ε for the current iteration: linear decay from ``outer_lr`` to 0 (Reptile paper)."""
        total = max(self.config.meta_iterations, 1)
        return self.config.outer_lr * max(0.0, 1.0 - self.iteration / total)

    def meta_train_step(self) -> dict[str, float]:
        """One Reptile iteration over ``meta_batch`` tasks: θ ← θ + ε(φ̄ − θ)."""
        if self.divergence is not None:
            return {}
        config = self.config
        theta = [p.detach().clone() for p in self.meta.parameters()]
        mean_phi = [torch.zeros_like(p) for p in theta]
        d_total = g_total = 0.0
        for _ in range(config.meta_batch):
            examples = self.draw_task(self.rng)
            trace = gan_updates(self.meta.clone(), examples, config.inner_steps, config, self.rng)
            for accumulated, phi in zip(mean_phi, trace.pair.parameters(), strict=True):
                accumulated += phi.detach() / config.meta_batch
            d_total += trace.d_losses[-1] / config.meta_batch
            g_total += trace.g_losses[-1] / config.meta_batch
        if not (math.isfinite(d_total) and math.isfinite(g_total)) or not all(
            bool(torch.isfinite(p).all()) for p in mean_phi
        ):
            self.divergence = f"meta-training diverged at iteration {self.iteration + 1}"
            logger.warning(self.divergence)
            return {}
        epsilon = self.outer_step_size()
        with torch.no_grad():
            for parameter, start, phi in zip(self.meta.parameters(), theta, mean_phi, strict=True):
                parameter.copy_(start + epsilon * (phi - start))
        self.iteration += 1
        record = {"iteration": self.iteration, "d_loss": d_total, "g_loss": g_total}
        self.history = [*self.history[-999:], record]
        return record

    def meta_train(self, iterations: int | None = None) -> None:
        """Run ``iterations`` (default: the rest of ``meta_iterations``) Reptile steps."""
        remaining = self.config.meta_iterations - self.iteration
        for _ in range(remaining if iterations is None else iterations):
            if not self.meta_train_step():
                break

    def adapt(
        self,
        examples: torch.Tensor,
        *,
        steps: int | None = None,
        from_scratch: bool = False,
        seed: int = 0,
        view_noise: torch.Tensor | None = None,
        lr: float | None = None,
    ) -> AdaptationTrace:
        """Adapt to an unseen task's K ``examples`` (K, data_dim) for ``steps`` GAN updates.

        ``from_scratch`` starts from networks freshly drawn from ``seed`` instead of the
        meta-learned start; everything else (architecture, optimiser, steps, noise) is the
        same. ``lr`` overrides ``inner_lr`` (e.g. a learning rate tuned for from scratch).
        """
        steps = self.config.adapt_steps if steps is None else steps
        rng = torch.Generator().manual_seed(seed)
        init_rng = torch.Generator().manual_seed(seed + 7919)
        pair = build_pair(self.config, init_rng) if from_scratch else self.meta.clone()
        return gan_updates(pair, examples, steps, self.config, rng, view_noise=view_noise, lr=lr)

    def view_noise(self, n: int, seed: int = 0) -> torch.Tensor:
        """Fixed noise (n, noise_dim) for drawing samples step after step."""
        return torch.randn(n, self.config.noise_dim, generator=torch.Generator().manual_seed(seed))

    def state_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.as_dict(),
            "generator": self.meta.generator.state_dict(),
            "discriminator": self.meta.discriminator.state_dict(),
            "iteration": self.iteration,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.meta.generator.load_state_dict(state["generator"])
        self.meta.discriminator.load_state_dict(state["discriminator"])
        self.iteration = int(state["iteration"])


def latent_walk(
    generator: Callable[[torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    end: torch.Tensor,
    steps: int,
) -> torch.Tensor:
    """Generator outputs along a straight line from noise ``start`` to ``end`` (noise_dim,).

    Returns:
        (steps, data_dim) outputs at evenly spaced points, both ends included.
    """
    if steps < 2:
        raise ValueError(f"a latent walk needs at least 2 steps, got {steps}")
    weights = torch.linspace(0, 1, steps)[:, None]
    with torch.no_grad():
        return generator((1 - weights) * start + weights * end)
