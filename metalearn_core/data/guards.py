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
import os
import struct
import zipfile
from dataclasses import dataclass
from typing import IO

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


# A central-directory entry is 46 bytes and its name; names average far less than this
# (Omniglot's: 60 characters), so a larger directory is refused before Python parses it.
DIRECTORY_BYTES_PER_MEMBER = 300


def check_zip_directory(
    source: str | os.PathLike[str] | IO[bytes], label: str, caps: InputCaps = DEFAULT_CAPS
) -> None:
    """Refuse a zip whose end record announces too many members or too large a central
    directory, before ``zipfile`` parses that directory (one Python object per member:
    a 100 MB zip of empty members would take gigabytes). A file that is not a zip passes:
    ``zipfile`` then says so.

    Raises:
        ValueError: naming the zip, the announced count or size, and the cap.
    """
    handle = open(source, "rb") if isinstance(source, str | os.PathLike) else source  # noqa: SIM115
    try:
        start = handle.tell()
        handle.seek(0, io.SEEK_END)
        size = handle.tell()
        tail_size = min(size, 22 + 0xFFFF + 20)  # end record, longest comment, zip64 locator
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return
        members, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
        locator = at - 20
        if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
            (record_at,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
            handle.seek(record_at)
            record = handle.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                members, directory = struct.unpack("<QQ", record[32:48])
        handle.seek(start)
    finally:
        if handle is not source:
            handle.close()
    if members > caps.zip_members:
        raise ValueError(
            f"{label} lists {members:,} files, more than the {caps.zip_members:,} allowed"
        )
    if directory > caps.zip_members * DIRECTORY_BYTES_PER_MEMBER:
        raise ValueError(
            f"{label} has a {directory:,}-byte file list, more than the "
            f"{caps.zip_members * DIRECTORY_BYTES_PER_MEMBER:,} allowed"
        )


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
