"""A drawn character: the canvas's message checked, then prepared like the data set's images."""

from __future__ import annotations

import base64

import pytest
import torch

from metalearn_core.data.drawing import (
    CANVAS_SIDE,
    DRAWING_BYTES,
    MAX_PAYLOAD_CHARS,
    decode_drawing,
    drawing_to_input,
    encode_drawing,
    is_blank,
)


def bar_ink() -> torch.Tensor:
    """A vertical stroke down the middle of the canvas, full ink."""
    ink = torch.zeros(CANVAS_SIDE, CANVAS_SIDE, dtype=torch.uint8)
    ink[8:56, 28:36] = 255
    return ink


def test_round_trip_and_shape_and_range():
    ink = bar_ink()
    decoded = decode_drawing(encode_drawing(ink))
    assert torch.equal(decoded, ink)
    image = drawing_to_input(decoded, (1, 28, 28))
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    # ink stays high and paper zero, as in the glyphs and Omniglot images
    assert image[0, 14, 14] > 0.9 and image[0, 14, 2] == 0.0 and image[0, 1, 14] == 0.0
    assert drawing_to_input(decoded, (1, 14, 14)).shape == (1, 14, 14)


def test_blank():
    assert is_blank(torch.zeros(CANVAS_SIDE, CANVAS_SIDE, dtype=torch.uint8))
    assert not is_blank(bar_ink())


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "base64 text"),
        (["AAAA"], "base64 text"),
        ("A" * (MAX_PAYLOAD_CHARS + 1), "at most"),
        ("not base64!!", "must be base64"),
        (base64.b64encode(b"\x00" * (DRAWING_BYTES - 1)).decode(), "bytes of ink"),
    ],
)
def test_hostile_payloads_are_refused(payload, message):
    with pytest.raises(ValueError, match=message):
        decode_drawing(payload)


def test_input_shape_must_be_one_square_channel():
    with pytest.raises(ValueError, match="square 1-channel"):
        drawing_to_input(bar_ink(), (3, 28, 28))
