"""Weight initialisation from a run's own ``torch.Generator``.

torch's modules draw their initial weights from the one global, per-process generator.
The app trains many students' runs in threads of one process, so a run's weights must
not depend on what other threads drew before it: ``reset_parameters`` redraws every
parameter with torch's default distribution (the same one each module's own
``reset_parameters`` uses) from the generator it is given. Numbers are drawn on the CPU
and copied, so a seed gives the same weights on every device.

>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> reset_parameters(net, torch.Generator().manual_seed(0))
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from metalearn_core.models.backbones import BatchStatNorm2d

# Modules whose own parameters start at constants (ones and zeros): nothing to draw.
CONSTANT_INIT = (
    nn.LayerNorm,
    nn.GroupNorm,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    BatchStatNorm2d,
)
RECURRENT = (nn.LSTM, nn.LSTMCell, nn.GRU, nn.GRUCell, nn.RNN, nn.RNNCell)


def _uniform_(tensor: torch.Tensor, bound: float, generator: torch.Generator) -> None:
    """U(-bound, bound), drawn on the CPU."""
    draw = torch.empty(tensor.shape, dtype=tensor.dtype).uniform_(
        -bound, bound, generator=generator
    )
    tensor.copy_(draw)


@torch.no_grad()
def reset_module(module: nn.Module, generator: torch.Generator) -> None:
    """Redraw ``module``'s own parameters (not its children's) as torch's default would.

    Raises:
        TypeError: a module with parameters whose default initialisation is not known
            here: it would draw from the global generator, so say so rather than guess.
    """
    own = dict(module.named_parameters(recurse=False))
    if not own or isinstance(module, CONSTANT_INIT):
        return
    if isinstance(module, nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d):
        # kaiming_uniform_(a=√5) for the weight and the bias bound: both U(±1/√fan_in)
        fan_in = module.weight[0].numel()  # in_features, or in_channels/groups · kernel size
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        _uniform_(module.weight, bound, generator)
        if module.bias is not None:
            _uniform_(module.bias, bound, generator)
    elif isinstance(module, RECURRENT):
        bound = 1.0 / math.sqrt(module.hidden_size)
        for parameter in own.values():
            _uniform_(parameter, bound, generator)
    elif isinstance(module, nn.Embedding):
        draw = torch.empty(module.weight.shape, dtype=module.weight.dtype)
        module.weight.copy_(draw.normal_(0.0, 1.0, generator=generator))
        if module.padding_idx is not None:
            module.weight[module.padding_idx].zero_()
    elif getattr(module, "constant_init", False):
        return  # a project module whose parameters start at given values
    else:
        raise TypeError(
            f"reset_parameters does not know how {type(module).__name__} initialises "
            f"{', '.join(own)}; add it to metalearn_core/models/init.py"
        )


def reset_parameters(modules: nn.Module | Iterable[nn.Module], generator: torch.Generator) -> None:
    """Redraw every parameter of ``modules`` (and their submodules) from ``generator``.

    Modules reached twice (one held inside another) are drawn once; the order is that of
    ``nn.Module.modules()``, so the same generator state gives the same weights.
    """
    roots = [modules] if isinstance(modules, nn.Module) else list(modules)
    seen: set[int] = set()
    for root in roots:
        for module in root.modules():
            if id(module) not in seen:
                seen.add(id(module))
                reset_module(module, generator)
