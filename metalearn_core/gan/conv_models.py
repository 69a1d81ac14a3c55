"""Small convolutional generator and discriminator for few-shot image GANs (DCGAN-like).

Both take *flat* inputs, as the MLPs do, so that the few-shot GAN, its metrics and the
page treat every architecture alike; each reshapes to (channels, side, side) inside.
With ``conditioned`` the last ``side²`` inputs are a condition image (the mean of the
task's K examples), given to the convolutions as one more channel: a 3x3 filter then
sees the same neighbourhood of the condition as of what it draws or judges, a local
rule ("ink where the examples' average has ink, sharper") that carries over to classes
never seen while meta-training.

No batch normalisation: a GAN step on 10 real images would make its statistics
meaningless, and Reptile averages weights only.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvGenerator(nn.Module):
    """Noise (and a condition image) → an image in [0, 1], flat.

    Layout: z → linear → (channels, side, side) [+ condition channel] → three 3x3
    convolutions (channels, channels, 1) with LeakyReLU between → sigmoid.

    Args:
        noise_dim: length of z.
        side: image side (8 for digits, 14 for glyphs).
        channels: width of the convolutions.
        conditioned: the input is (N, noise_dim + side²), its tail a condition image.
    """

    def __init__(self, noise_dim: int, side: int, channels: int, *, conditioned: bool):
        super().__init__()
        self.noise_dim, self.side, self.channels = noise_dim, side, channels
        extra = 1 if conditioned else 0
        self.project = nn.Linear(noise_dim, channels * side * side)
        self.body = nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels + extra, channels, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 1, 3, padding=1),
            nn.Sigmoid(),
        )
        self.conditioned = conditioned

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, noise_dim [+ side²]) → (N, side²)."""
        n, s = len(inputs), self.side
        maps = self.project(inputs[:, : self.noise_dim]).view(n, self.channels, s, s)
        if self.conditioned:
            maps = torch.cat([maps, inputs[:, self.noise_dim :].view(n, 1, s, s)], dim=1)
        return self.body(maps).view(n, s * s)


class ConvDiscriminator(nn.Module):
    """An image (and a condition image) → one score.

    Layout: (1 [+ 1], side, side) → 3x3 conv (channels) → 3x3 conv stride 2
    (2·channels, ⌈side/2⌉²) → linear → 1, LeakyReLU(0.2) between.
    """

    def __init__(self, side: int, channels: int, *, conditioned: bool):
        super().__init__()
        self.side = side
        self.in_channels = 2 if conditioned else 1
        half = (side + 1) // 2
        self.body = nn.Sequential(
            nn.Conv2d(self.in_channels, channels, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * channels * half * half, 1),
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, side² [+ side²]) → (N, 1)."""
        return self.body(inputs.view(len(inputs), self.in_channels, self.side, self.side))


@torch.no_grad()
def reinitialise_conv(network: nn.Module, generator: torch.Generator) -> None:
    """Redraw every linear and convolution as PyTorch's default would, from ``generator``.

    PyTorch's default is U(-1/√fan_in, 1/√fan_in) for weights and biases, where fan_in
    is in_features, or in_channels·k_h·k_w for a convolution.
    """
    for module in network.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            fan_in = module.weight[0].numel()
            bound = 1.0 / fan_in**0.5
            for tensor in (module.weight, module.bias):
                tensor.copy_((torch.rand(tensor.shape, generator=generator) * 2 - 1) * bound)
