"""Backbones: the MAML sinusoid MLP and the standard four-block Conv4.

Both are a ``Backbone``: a feature extractor ``features`` mapping inputs to
embeddings (B, D), with ``embedding_dim`` = D, and an optional linear ``head``
to ``out_features`` outputs. Algorithms that need an embedding (ProtoNet,
Matching Networks, MAML's own head) build the backbone with
``out_features=None``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

MLP_HIDDEN_DEFAULT = 40  # the MAML sinusoid network (Finn et al., 2017): 2 hidden layers of 40
CONV4_FILTERS_DEFAULT = 64  # the standard Conv4 (Vinyals et al. 2016; Finn et al. 2017)
CONV4_BLOCKS = 4


class Backbone(nn.Module):
    """A feature extractor with an optional linear head.

    Args:
        features: maps (B, *input_shape) to (B, embedding_dim).
        embedding_dim: D, the size of an embedding.
        out_features: size of the linear head, or None for an embedding network.
    """

    def __init__(
        self,
        features: nn.Module,
        embedding_dim: int,
        out_features: int | None,
        channels_last: bool = False,
    ):
        super().__init__()
        self.features = features
        self.embedding_dim = embedding_dim
        self.out_features = out_features
        self.head = nn.Linear(embedding_dim, out_features) if out_features else None
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, *input_shape) -> (B, D)."""
        if self.channels_last:
            # NHWC convolutions: 2.6x faster than NCHW for Conv4 on this CPU (BENCHMARKS.md)
            x = x.contiguous(memory_format=torch.channels_last)
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, *input_shape) -> (B, out_features), or (B, D) without a head."""
        h = self.embed(x)
        return self.head(h) if self.head is not None else h


def mlp_features(input_shape: tuple[int, ...], hidden: int) -> nn.Sequential:
    """Flatten, then two hidden layers of ``hidden`` units with ReLU: (B, *X) -> (B, hidden)."""
    in_features = math.prod(input_shape)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
    )


def conv4_feature_map_size(height: int, width: int) -> tuple[int, int]:
    """Spatial size after the four blocks; a pool is skipped where the map would vanish.

    28x28 -> 1x1, 84x84 -> 5x5, 105x105 -> 6x6, 8x8 -> 1x1 (the fourth pool skipped).
    """
    for _ in range(CONV4_BLOCKS):
        if height >= 2 and width >= 2:
            height, width = height // 2, width // 2
    return height, width


class BatchStatNorm2d(nn.Module):
    """Batch norm that always uses the batch's own statistics (no running statistics).

    y = (x - mean) / sqrt(var + eps) * weight + bias, with the per-channel mean and the
    biased variance of the batch: what ``nn.BatchNorm2d(track_running_stats=False)``
    computes, with the same parameter names. Written with plain tensor operations
    because the native kernel's backward batching rule is wrong under ``vmap`` when
    differentiated twice (pytorch/functorch#534): MAML's vmapped meta-gradient came out
    1.4% off the per-task loop's with it, and agrees to 1e-15 with this module.

    Shapes: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)  # (1, C, 1, 1)
        var = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
        scale = self.weight.view(1, -1, 1, 1) * torch.rsqrt(var + self.eps)
        return (x - mean) * scale + self.bias.view(1, -1, 1, 1)


def conv4_features(
    input_shape: tuple[int, ...], filters: int, track_running_stats: bool
) -> nn.Sequential:
    """Four blocks of 3x3 conv (padding 1), batch norm, ReLU, 2x2 max-pool; then flatten.

    (B, C, H, W) -> (B, filters * H' * W') with H', W' from ``conv4_feature_map_size``.
    Whether each pool is applied is decided here from the input shape, so the
    forward pass has no data-dependent branches (``vmap`` friendly).
    """
    if len(input_shape) != 3:
        raise ValueError(f"conv4 needs image inputs (C, H, W), got input_shape={input_shape}")
    channels, height, width = input_shape
    layers: list[nn.Module] = []
    for block in range(CONV4_BLOCKS):
        layers += [
            nn.Conv2d(channels if block == 0 else filters, filters, kernel_size=3, padding=1),
            nn.BatchNorm2d(filters) if track_running_stats else BatchStatNorm2d(filters),
            nn.ReLU(),
        ]
        if height >= 2 and width >= 2:
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


def conv4_embedding_dim(input_shape: tuple[int, ...], filters: int) -> int:
    """D of a Conv4 embedding for ``input_shape`` (C, H, W)."""
    height, width = conv4_feature_map_size(input_shape[1], input_shape[2])
    return filters * height * width
