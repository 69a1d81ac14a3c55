"""Weights drawn from a run's own generator, with torch's default distributions."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from metalearn_core.models.init import reset_parameters


def _draw(module: nn.Module, seed: int) -> dict[str, torch.Tensor]:
    reset_parameters(module, torch.Generator().manual_seed(seed))
    return {name: value.clone() for name, value in module.state_dict().items()}


def test_linear_and_conv_are_uniform_within_one_over_root_fan_in():
    linear, conv = nn.Linear(400, 300), nn.Conv2d(8, 16, kernel_size=3)
    reset_parameters([linear, conv], torch.Generator().manual_seed(0))
    for module, fan_in in ((linear, 400), (conv, 8 * 3 * 3)):
        bound = 1 / math.sqrt(fan_in)
        for tensor in (module.weight, module.bias):
            assert tensor.abs().max() <= bound
        # U(-b, b) has standard deviation b / sqrt(3)
        assert module.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_recurrent_and_embedding_follow_torchs_defaults():
    lstm, embedding = nn.LSTM(20, 50), nn.Embedding(1000, 40, padding_idx=3)
    reset_parameters([lstm, embedding], torch.Generator().manual_seed(0))
    assert all(p.abs().max() <= 1 / math.sqrt(50) for p in lstm.parameters())
    assert embedding.weight.std().item() == pytest.approx(1.0, rel=0.05)
    assert torch.equal(embedding.weight[3], torch.zeros(40))


def test_the_same_seed_gives_the_same_weights_whatever_the_global_generator_holds():
    torch.manual_seed(1)
    a = _draw(nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2)), seed=7)
    torch.manual_seed(2)
    b = _draw(nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2)), seed=7)
    c = _draw(nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2)), seed=8)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["0.weight"], c["0.weight"])
    assert torch.equal(a["1.weight"], torch.ones(8))  # layer norm keeps its constants


def test_a_module_held_twice_is_drawn_once():
    shared = nn.Linear(3, 3)
    generator = torch.Generator().manual_seed(0)
    reset_parameters([shared, nn.Sequential(shared)], generator)
    once = torch.Generator().manual_seed(0)
    reset_parameters(nn.Linear(3, 3), once)
    assert torch.equal(generator.get_state(), once.get_state())


def test_a_module_of_unknown_initialisation_is_refused_by_name():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.randn(3))

    with pytest.raises(TypeError, match="Odd initialises scale"):
        reset_parameters(nn.Sequential(Odd()), torch.Generator())
