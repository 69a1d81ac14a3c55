"""Zip and image bombs are refused from their announced sizes, before anything is inflated."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest

from metalearn_core.data import load_task_source
from metalearn_core.data.guards import InputCaps, check_zip, decode_image
from tests.data.helpers import png_bytes, write_image_folder, write_omniglot_zip, zip_folder

TEN = {f"class{i}": 3 for i in range(10)}


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header announces width x height pixels, with almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def zip_bomb(uncompressed: int) -> bytes:
    """A folder zip whose one extra member inflates to ``uncompressed`` zero bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in TEN:
            for i in range(3):
                archive.writestr(f"{name}/{i}.png", png_bytes(np.full((8, 8), 200, np.uint8)))
        archive.writestr("class0/zeros.png", b"\x00" * uncompressed)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_any_member_is_read():
    data = zip_bomb(20_000_000)
    assert len(data) < 100_000  # 20 MB of zeros deflate to a few KB
    caps = InputCaps(zip_bytes=1_000_000)
    with pytest.raises(ValueError, match=r"unpacks to 20,00\d,\d+ bytes, more than the 1,000,000"):
        load_task_source("folder", "train", data_dir=data, caps=caps)


def test_a_zip_listing_too_many_files_is_refused(tmp_path):
    root = write_image_folder(tmp_path / "pics", TEN)
    data = zip_folder(root)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        count = len(archive.infolist())
        check_zip(archive, "pics.zip", InputCaps(zip_members=count))  # at the cap: fine
        with pytest.raises(
            ValueError, match=f"pics.zip lists {count} files, more than the {count - 1}"
        ):
            check_zip(archive, "pics.zip", InputCaps(zip_members=count - 1))


def test_a_folder_is_capped_by_its_file_count(tmp_path):
    root = write_image_folder(tmp_path / "pics", TEN)
    with pytest.raises(ValueError, match="holds more than 29 files"):
        load_task_source("folder", "train", data_dir=root, caps=InputCaps(zip_members=29))


def test_an_image_announcing_too_many_pixels_is_refused_from_its_header():
    bomb = png_header_only(5_000, 5_000)
    with pytest.raises(
        ValueError, match=r"big.png is 5000 x 5000 = 25,000,000 pixels, more than the 16,777,216"
    ):
        decode_image(bomb, "big.png")


def test_pils_own_bomb_refusal_becomes_a_clear_message():
    bomb = png_header_only(100_000, 100_000)  # past PIL's own limit: refused by Image.open
    with pytest.raises(ValueError, match="huge.png announces more pixels than any image read here"):
        decode_image(bomb, "huge.png", InputCaps(image_pixels=10**12))


def test_an_image_bomb_in_a_folder_zip_names_the_member():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in TEN:
            for i in range(3):
                archive.writestr(f"{name}/{i}.png", png_bytes(np.full((8, 8), 200, np.uint8)))
        archive.writestr("class0/bomb.png", png_header_only(5_000, 5_000))
    with pytest.raises(ValueError, match="class0/bomb.png is 5000 x 5000"):
        for split in ("train", "val", "test"):  # whichever split holds class0
            load_task_source("folder", split, data_dir=buffer.getvalue())


def test_a_lying_zip_member_fails_its_crc_check_with_a_clear_message():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in TEN:
            for i in range(3):
                archive.writestr(f"{name}/{i}.png", png_bytes(np.full((8, 8), 200, np.uint8)))
    data = bytearray(buffer.getvalue())
    # flip one byte inside every stored PNG body: the CRC no longer matches
    for offset in range(0, len(data) - 4):
        if data[offset : offset + 4] == b"IDAT":
            data[offset + 6] ^= 0xFF
    with pytest.raises(ValueError, match="Bad CRC-32"):
        for split in ("train", "val", "test"):
            load_task_source("folder", split, data_dir=bytes(data))


def test_an_omniglot_zip_past_the_caps_is_refused(tmp_path):
    path = write_omniglot_zip(tmp_path / "images_background.zip")
    with pytest.raises(ValueError, match="images_background.zip lists .* files, more than the 5"):
        load_task_source(
            "omniglot",
            "train",
            data_dir=tmp_path,
            caps=InputCaps(zip_members=5),
            cache_dir=tmp_path / "cache",
        )
    assert path.exists()


def test_a_one_class_folder_says_it_needs_three_classes(tmp_path):
    root = write_image_folder(tmp_path / "pics", {"cats": 3})
    for data in (root, zip_folder(root, prefix="pics/")):
        with pytest.raises(ValueError, match="needs at least 3 classes .* has 1: cats"):
            load_task_source("folder", "train", data_dir=data)


def empty_members_zip(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(count):
            archive.writestr(f"{i}", b"")
    return buffer.getvalue()


def test_a_zip_announcing_too_many_members_is_refused_before_zipfile_parses_it(monkeypatch):
    from metalearn_core.data import guards

    data = empty_members_zip(200)
    parsed = []
    monkeypatch.setattr(zipfile.ZipFile, "__init__", lambda *args, **kwargs: parsed.append(1))
    with pytest.raises(ValueError, match="the uploaded zip lists 200 files, more than the 100"):
        load_task_source("folder", "train", data_dir=data, caps=InputCaps(zip_members=100))
    assert not parsed  # refused from the end record alone
    monkeypatch.undo()
    # a file list longer than its announced count could need (the count lies) is refused too
    lying = bytearray(data)
    end = lying.rfind(b"PK\x05\x06")
    lying[end + 8 : end + 12] = struct.pack("<HH", 1, 1)
    with pytest.raises(ValueError, match=r"x.zip has a \d,\d+-byte file list, more than the 3,000"):
        guards.check_zip_directory(io.BytesIO(bytes(lying)), "x.zip", InputCaps(zip_members=10))
    guards.check_zip_directory(io.BytesIO(data), "x.zip", InputCaps(zip_members=200))
    guards.check_zip_directory(io.BytesIO(b"not a zip"), "x.zip")  # zipfile will say so


def test_a_run_zip_with_a_long_file_list_is_refused(tmp_path):
    from metalearn_core.engine import CheckpointError, import_run_zip

    with pytest.raises(CheckpointError, match="the run zip lists 50 files, more than the 16"):
        import_run_zip(empty_members_zip(50), tmp_path / "run")
