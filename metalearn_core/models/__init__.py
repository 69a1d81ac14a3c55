"""Backbones for the meta-learners: an MLP and the standard Conv4.

``build_backbone(spec, out_features)`` is the one constructor the algorithms use:

- ``spec.backbone == "mlp"``: flatten, 2 hidden layers with ReLU (the MAML sinusoid
  net) of ``backbone_width(spec)`` units: ``spec.width``, or 40 when it is None.
- ``spec.backbone == "conv4"``: 4 x [3x3 conv with ``backbone_width(spec)`` filters
  (``spec.width``, or 64 when it is None), batch norm,
  ReLU, 2x2 max-pool], for images from 8x8 to 105x105 (a pool is skipped where the
  map would vanish), ``in_channels = spec.input_shape[0]``.
- ``spec.embedding_2d``: a final ``Linear(D, 2)`` so that embeddings can be drawn
  without projection; ``embedding_dim`` is then 2.

Batch norm: ``track_running_stats=False`` makes every forward pass use the batch's
own statistics, in training and evaluation alike. MAML and Reptile build their
backbones that way, as in the MAML paper (each task normalised by its own support or
query batch, and ``vmap`` over tasks needs no shared buffers).

>>> spec = ProblemSpec("classification", (1, 28, 28), n_way=5)
>>> net = build_backbone(spec, out_features=None)
>>> net(torch.zeros(10, 1, 28, 28)).shape, embedding_dim(net)
(torch.Size([10, 64]), 64)
"""

from __future__ import annotations

from torch import nn

from metalearn_core.models.backbones import (
    CONV4_FILTERS_DEFAULT,
    MLP_HIDDEN_DEFAULT,
    Backbone,
    conv4_embedding_dim,
    conv4_feature_map_size,
    conv4_features,
    mlp_features,
)
from metalearn_core.spec import ProblemSpec

BACKBONES = ("conv4", "mlp")

__all__ = [
    "BACKBONES",
    "Backbone",
    "DEFAULT_WIDTHS",
    "backbone_width",
    "build_backbone",
    "conv4_feature_map_size",
    "embedding_dim",
]


DEFAULT_WIDTHS = {"conv4": CONV4_FILTERS_DEFAULT, "mlp": MLP_HIDDEN_DEFAULT}


def backbone_width(spec: ProblemSpec) -> int:
    """Conv4 filters or MLP hidden units: ``spec.width``, or the backbone's default."""
    return DEFAULT_WIDTHS[spec.backbone] if spec.width is None else spec.width


def _check_spec(spec: ProblemSpec) -> None:
    if spec.backbone not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES}, got {spec.backbone!r}")
    if spec.width is not None and (not isinstance(spec.width, int) or spec.width < 1):
        raise ValueError(f"width must be a positive integer or None, got {spec.width!r}")
    if spec.backbone == "conv4" and len(spec.input_shape) != 3:
        raise ValueError(
            f"conv4 needs image inputs (C, H, W), got input_shape={spec.input_shape}; "
            "use backbone='mlp'"
        )


def _feature_dim(spec: ProblemSpec) -> int:
    if spec.backbone == "mlp":
        return backbone_width(spec)
    return conv4_embedding_dim(spec.input_shape, backbone_width(spec))


def build_backbone(
    spec: ProblemSpec,
    out_features: int | None = None,
    *,
    track_running_stats: bool = True,
    channels_last: bool = False,
) -> Backbone:
    """Build the backbone named by ``spec.backbone``.

    Args:
        spec: input shape, backbone name, width and the 2-D embedding option.
        out_features: size of a final linear head; None for an embedding network.
        track_running_stats: Conv4 batch norm keeps running statistics (used in
            ``eval()`` mode) when True; when False every pass uses batch statistics.
        channels_last: Conv4 weights and inputs in NHWC memory layout (faster on CPU);
            ignored by the MLP.

    Returns:
        A ``Backbone``: (B, *spec.input_shape) -> (B, out_features or embedding_dim).
    """
    _check_spec(spec)
    if out_features is not None and out_features < 1:
        raise ValueError(f"out_features must be a positive integer or None, got {out_features}")
    if spec.backbone == "mlp":
        features: nn.Sequential = mlp_features(spec.input_shape, backbone_width(spec))
    else:
        features = conv4_features(spec.input_shape, backbone_width(spec), track_running_stats)
    dim = _feature_dim(spec)
    if spec.embedding_2d:
        features.append(nn.Linear(dim, 2))
        dim = 2
    return Backbone(features, dim, out_features, channels_last and spec.backbone == "conv4")


def embedding_dim(module_or_spec: nn.Module | ProblemSpec) -> int:
    """D, the embedding size of a ``Backbone`` or of the backbone a spec would build."""
    if not isinstance(module_or_spec, nn.Module):  # a ProblemSpec
        _check_spec(module_or_spec)
        return 2 if module_or_spec.embedding_2d else _feature_dim(module_or_spec)
    dim = getattr(module_or_spec, "embedding_dim", None)
    if dim is None:
        raise ValueError(f"{type(module_or_spec).__name__} has no embedding_dim attribute")
    return int(dim)
