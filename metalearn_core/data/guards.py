"""Caps on what a zip or an image may unpack to, checked before anything is read.

A 300 KB zip can inflate to gigabytes and a 50 KB PNG can announce a 50,000 x 50,000
canvas. Both announce their size up front (a zip's directory lists every member's
uncompressed size, an image's header its width and height), so the checks below read
only those announcements and refuse before a member is inflated or a pixel decoded.
A member that inflates to more than it announced is cut off at the announced size by
``zipfile`` and then fails its CRC check.

>>> caps = InputCaps(zip_bytes=10_000_000, zip_members=1_000, image_pixels=1_000_000)
>>> with zipfile.ZipFile("my_data.zip") as archive:
...     check_zip(archive, "my_data.zip", caps)       # ValueError naming value and limit
>>> array = decode_image(data, "cats/001.png", caps)  # a PIL image, fully loaded
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class InputCaps:
    """The largest zip and image that a data set or a run zip may hold.

    The defaults fit the official Omniglot zips (19,280 and 13,180 drawings of 105 x 105
    pixels) with room to spare; a classroom server sets its own (``ServerLimits``).
    """

    zip_bytes: int = 1 << 30  # uncompressed bytes of all members together (1 GiB)
    zip_members: int = 50_000  # files and folders listed in one zip
    image_pixels: int = 1 << 24  # width x height of one image (4096 x 4096)

    def __post_init__(self) -> None:
        for name in ("zip_bytes", "zip_members", "image_pixels"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r} is invalid: must be an integer >= 1")


DEFAULT_CAPS = InputCaps()


def check_zip(archive: zipfile.ZipFile, label: str, caps: InputCaps = DEFAULT_CAPS) -> None:
    """Refuse a zip whose directory lists too many members or too many uncompressed bytes.

    Raises:
        ValueError: naming the zip (as ``label``), the count or size, and the cap.
    """
    members = archive.infolist()
    if len(members) > caps.zip_members:
        raise ValueError(
            f"{label} lists {len(members):,} files, more than the {caps.zip_members:,} allowed"
        )
    total = sum(info.file_size for info in members)
    if total > caps.zip_bytes:
        raise ValueError(
            f"{label} unpacks to {total:,} bytes, more than the {caps.zip_bytes:,} allowed"
        )


def decode_image(data: bytes, label: str, caps: InputCaps = DEFAULT_CAPS) -> Image.Image:
    """Open an image, refuse it if its header announces too many pixels, then decode it.

    Raises:
        ValueError: too many pixels (named with the cap), or PIL's own decompression-bomb
            refusal, both as one clear sentence.
        OSError: not an image PIL can read (PIL's own error).
    """
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ValueError(f"{label} announces more pixels than any image read here") from None
    width, height = image.size
    if width * height > caps.image_pixels:
        image.close()
        raise ValueError(
            f"{label} is {width} x {height} = {width * height:,} pixels, more than the "
            f"{caps.image_pixels:,} allowed"
        )
    try:
        image.load()
    except Image.DecompressionBombError:  # frames of an animation, each within the cap
        image.close()
        raise ValueError(f"{label} decodes to more pixels than any image read here") from None
    return image
