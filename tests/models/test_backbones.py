"""Backbones: shapes against hand-computed sizes, parameter counts, batch-statistics norm."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metalearn_core.models import backbone_width, build_backbone, embedding_dim
from metalearn_core.models.backbones import BatchStatNorm2d
from metalearn_core.spec import ProblemSpec


def image_spec(size: int, channels: int = 1, **changes) -> ProblemSpec:
    return ProblemSpec("classification", (channels, size, size), n_way=5, **changes)


# 28->14->7->3->1; 84->42->21->10->5; 105->52->26->13->6; 8->4->2->1 (4th pool skipped)
@pytest.mark.parametrize(("size", "side"), [(28, 1), (84, 5), (105, 6), (8, 1), (14, 1)])
def test_conv4_embedding_size_matches_hand_computed_map(size, side):
    spec = image_spec(size, width=8)
    net = build_backbone(spec, None)
    out = net(torch.zeros(2, 1, size, size))
    assert out.shape == (2, 8 * side * side)
    assert embedding_dim(net) == embedding_dim(spec) == 8 * side * side


def test_conv4_takes_channels_from_the_spec_and_adds_a_head():
    net = build_backbone(image_spec(28, channels=3, width=16), out_features=7)
    assert net.features[0].in_channels == 3 and net.features[0].out_channels == 16
    assert net(torch.zeros(4, 3, 28, 28)).shape == (4, 7)


def test_mlp_is_the_maml_sinusoid_net_by_default():
    spec = ProblemSpec("regression", (1,), n_way=1, backbone="mlp")
    net = build_backbone(spec, out_features=1)
    # 1 -> 40 -> 40 -> 1: (1*40 + 40) + (40*40 + 40) + (40*1 + 1) parameters
    assert sum(p.numel() for p in net.parameters()) == 80 + 1640 + 41
    assert backbone_width(spec) == 40
    assert net(torch.zeros(5, 1)).shape == (5, 1)


@pytest.mark.parametrize("width", [16, 64])  # 64, the Conv4 default, once fell back to 40
def test_a_given_mlp_width_is_the_hidden_units(width):
    spec = ProblemSpec("classification", (2,), n_way=5, backbone="mlp", width=width)
    net = build_backbone(spec, None)
    assert embedding_dim(net) == embedding_dim(spec) == width
    assert net(torch.zeros(3, 2)).shape == (3, width)


def test_conv4_has_64_filters_unless_told_otherwise():
    spec = ProblemSpec("classification", (1, 28, 28), n_way=5)
    assert spec.width is None and backbone_width(spec) == 64
    assert build_backbone(spec, None).features[0].out_channels == 64


@pytest.mark.parametrize("backbone", ["mlp", "conv4"])
def test_embedding_2d_adds_a_final_two_dimensional_layer(backbone):
    shape = (2,) if backbone == "mlp" else (1, 28, 28)
    spec = ProblemSpec("classification", shape, 5, backbone=backbone, width=8, embedding_2d=True)
    net = build_backbone(spec, None)
    assert embedding_dim(net) == embedding_dim(spec) == 2
    assert isinstance(net.features[-1], nn.Linear) and net.features[-1].out_features == 2
    assert net(torch.zeros(3, *shape)).shape == (3, 2)
    assert build_backbone(spec, 4)(torch.zeros(3, *shape)).shape == (3, 4)


def test_batch_statistics_norm_matches_the_formula_and_the_native_layer():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 4, 4, generator=g) * 3 + 1
    norm = BatchStatNorm2d(3)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, -0.5]))
        norm.bias.copy_(torch.tensor([0.0, 1.0, 3.0]))
    c = 1  # channel 1 by hand: (x - mean) / sqrt(var + eps) * 2 + 1, biased variance
    xc = x[:, c]
    expected = (xc - xc.mean()) / torch.sqrt(((xc - xc.mean()) ** 2).mean() + 1e-5) * 2 + 1
    torch.testing.assert_close(norm(x)[:, c], expected)
    native = nn.BatchNorm2d(3, track_running_stats=False)
    native.load_state_dict(norm.state_dict())
    torch.testing.assert_close(norm(x), native(x))


def test_batch_statistics_backbone_has_no_buffers_and_ignores_eval_mode():
    net = build_backbone(image_spec(28, width=4), None, track_running_stats=False)
    assert not list(net.buffers())
    x = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    train_out = net(x)
    net.eval()
    torch.testing.assert_close(net(x), train_out)


def test_running_statistics_backbone_keeps_them():
    net = build_backbone(image_spec(28, width=4), None)
    assert any(isinstance(m, nn.BatchNorm2d) and m.track_running_stats for m in net.modules())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ProblemSpec("classification", (2,), 5, backbone="conv4"), "input_shape=(2,)"),
        (ProblemSpec("classification", (2,), 5, backbone="resnet"), "'resnet'"),
        (ProblemSpec("classification", (2,), 5, backbone="mlp", width=0), "width"),
        (ProblemSpec("classification", (2,), 5, backbone="mlp", width=2.5), "width"),
    ],
)
def test_bad_specs_raise_value_errors_naming_the_value(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_backbone(spec, None)


def test_bad_out_features_raise():
    with pytest.raises(ValueError, match="out_features"):
        build_backbone(ProblemSpec("regression", (1,), 1, backbone="mlp"), 0)
