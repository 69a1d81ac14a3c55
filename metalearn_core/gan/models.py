"""Small multilayer perceptrons for generators and discriminators.

No batch normalisation anywhere: a packed discriminator and the per-sample gradient
penalty both need each output to depend on its own input row only, and small MLPs
train well on 2-D data and 8x8 images without it.
"""

from __future__ import annotations

import torch
from torch import nn


def mlp(
    in_features: int,
    hidden: int,
    layers: int,
    out_features: int,
    *,
    activation: type[nn.Module] = nn.LeakyReLU,
    output: nn.Module | None = None,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """``layers`` hidden layers of width ``hidden``; weights drawn from ``generator``.

    Args:
        in_features, out_features: input and output widths.
        hidden: hidden width.
        layers: number of hidden layers (≥ 1).
        activation: hidden nonlinearity class.
        output: optional final module (e.g. ``nn.Sigmoid()`` for images).
        generator: seeds the initialisation (Kaiming-uniform, as ``nn.Linear``'s default)
            without touching the global random state.
    """
    if layers < 1 or hidden < 1:
        raise ValueError(f"an MLP needs layers >= 1 and hidden >= 1, got {layers} and {hidden}")
    widths = [in_features] + [hidden] * layers
    modules: list[nn.Module] = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        modules += [nn.Linear(fan_in, fan_out), activation()]
    modules.append(nn.Linear(widths[-1], out_features))
    if output is not None:
        modules.append(output)
    network = nn.Sequential(*modules)
    if generator is not None:
        reinitialise(network, generator)
    return network


@torch.no_grad()
def reinitialise(network: nn.Module, generator: torch.Generator) -> None:
    """Redraw every ``nn.Linear`` as PyTorch's default would, but from ``generator``.

    PyTorch's default is U(-1/√fan_in, 1/√fan_in) for weights and biases.
    """
    for module in network.modules():
        if isinstance(module, nn.Linear):
            bound = 1.0 / module.in_features**0.5
            for tensor in (module.weight, module.bias):
                tensor.copy_((torch.rand(tensor.shape, generator=generator) * 2 - 1) * bound)
