"""A character drawn in the browser, made into an input like the data set's own images.

The page's canvas sends its ink as a square of ``CANVAS_SIDE`` x ``CANVAS_SIDE`` bytes
(0 = paper, 255 = full ink), base64-encoded. What a browser sends is hostile until
checked: ``decode_drawing`` accepts exactly that many bytes and nothing else.
``drawing_to_input`` then prepares it the way the glyphs and Omniglot loaders prepare
their images: resized with antialiasing to the data set's side, ink high (1.0) on a zero
background (Omniglot's black-on-white scans are inverted to that on loading).
"""

from __future__ import annotations

import base64
import binascii

import torch

from metalearn_core.data.images import resize_images

CANVAS_SIDE = 64  # the canvas's ink is sent at this resolution, whatever its size on screen
DRAWING_BYTES = CANVAS_SIDE * CANVAS_SIDE
MAX_PAYLOAD_CHARS = 4 * ((DRAWING_BYTES + 2) // 3)  # base64 of exactly DRAWING_BYTES
# The data sets a drawing can stand in for: images of one channel, ink high on zero.
DRAWABLE_DATASETS = ("glyphs", "omniglot")


def decode_drawing(payload: object) -> torch.Tensor:
    """The canvas's ink, (CANVAS_SIDE, CANVAS_SIDE) uint8, from its base64 text.

    Raises:
        ValueError: not text, longer than ``MAX_PAYLOAD_CHARS``, not base64, or not
            exactly ``DRAWING_BYTES`` bytes once decoded.
    """
    if not isinstance(payload, str):
        raise ValueError(f"a drawing is base64 text, got {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise ValueError(f"a drawing is at most {MAX_PAYLOAD_CHARS} characters, got {len(payload)}")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a drawing must be base64 text") from None
    if len(raw) != DRAWING_BYTES:
        raise ValueError(f"a drawing has {DRAWING_BYTES} bytes of ink, got {len(raw)}")
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(CANVAS_SIDE, CANVAS_SIDE)


def encode_drawing(ink: torch.Tensor) -> str:
    """The canvas's message for ``ink`` (CANVAS_SIDE, CANVAS_SIDE) uint8 (tests, scripts)."""
    if ink.shape != (CANVAS_SIDE, CANVAS_SIDE) or ink.dtype != torch.uint8:
        raise ValueError(f"ink must be ({CANVAS_SIDE}, {CANVAS_SIDE}) uint8, got {ink.shape}")
    return base64.b64encode(ink.contiguous().numpy().tobytes()).decode("ascii")


def drawing_to_input(ink: torch.Tensor, input_shape: tuple[int, ...]) -> torch.Tensor:
    """The drawing as one example of ``input_shape`` (1, H, H): float32 in [0, 1], ink = 1.

    Args:
        ink: (S, S) uint8, 255 = full ink.
        input_shape: the data set's example shape, one channel, square.
    """
    if len(input_shape) != 3 or input_shape[0] != 1 or input_shape[1] != input_shape[2]:
        raise ValueError(f"a drawing stands in for square 1-channel images, not {input_shape}")
    if ink.dim() != 2 or ink.shape[0] != ink.shape[1]:
        raise ValueError(f"ink must be a square (S, S), got {tuple(ink.shape)}")
    resized = resize_images(ink.reshape(1, 1, *ink.shape).float() / 255.0, input_shape[1])
    return resized[0].clamp(0.0, 1.0)  # (1, H, H)


def is_blank(ink: torch.Tensor) -> bool:
    """Nothing drawn yet (or erased)."""
    return not bool((ink > 0).any())
