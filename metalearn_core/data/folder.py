"""Folder: your own images, one sub-folder per class, from a directory or a zip.

::

    my_data/                 or  my_data.zip (the same inside; one wrapping folder is fine)
      cats/   001.jpg 002.png ...
      dogs/   ...
      owls/   ...

- Images: PNG, JPEG, BMP, GIF, WebP or TIFF, found anywhere below a class folder. Files
  and folders whose names start with "." and ``__MACOSX`` are skipped.
- Each image is cropped to its central square, resized with antialiasing to
  ``image_size`` (28 by default) and made grayscale, (1, H, W), unless ``grayscale=False``
  asks for RGB, (3, H, W). Values are in [0, 1] as stored (no inversion: for drawings
  on white paper, ink is *low*). Transparent pixels are laid over white.
- Splits are by class: the classes, sorted by name, are shuffled by ``seed``; 20% go to
  test, 20% to val (each at least one class) and the rest to train. So at least three
  classes are needed, and every class needs at least two images (one to learn from, one
  to be tested on); fewer raise a ``ValueError`` that names them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np
import torch
from PIL import Image, ImageOps

from metalearn_core.data.guards import (
    DEFAULT_CAPS,
    InputCaps,
    check_zip,
    check_zip_directory,
    decode_image,
)
from metalearn_core.data.images import ByteImageSource, add_rotations

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SPLIT_FRACTIONS = {"test": 0.2, "val": 0.2}  # the rest is train
MIN_IMAGES_PER_CLASS = 2
LAYOUT = (
    "expected one sub-folder per class, each holding that class's images "
    "(a directory, or a zip of one), e.g. my_data/cats/001.jpg, my_data/dogs/001.jpg, ..."
)

FolderInput = str | Path | bytes | IO[bytes]


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _class_tree(paths: list[PurePosixPath]) -> dict[str, list[str]]:
    """Group image paths (relative to the root) by class folder.

    A chain of single wrapping folders (``my_data.zip`` holding ``my_data/``) is looked
    through; images lying directly in the root are not in a class and are ignored.
    """
    images = [p for p in paths if p.suffix.lower() in IMAGE_EXTENSIONS and not _skipped(p.parts)]
    depth = 0
    while True:
        tops = {p.parts[depth] for p in images if len(p.parts) > depth + 1}
        loose = [p for p in images if len(p.parts) == depth + 1]
        if len(tops) == 1 and not loose:
            depth += 1
            continue
        break
    classes: dict[str, list[str]] = {}
    for p in images:
        if len(p.parts) > depth + 1:
            classes.setdefault(p.parts[depth], []).append(str(p))
    if not classes and depth > 0:  # one class folder, looked through as if it wrapped others
        classes = {images[0].parts[depth - 1]: [str(p) for p in images]}
    return {name: sorted(members) for name, members in sorted(classes.items())}


class _Reader:
    """Lists and reads the images of a directory or a zip (path, bytes or file object)."""

    def __init__(self, data: FolderInput | None, caps: InputCaps = DEFAULT_CAPS):
        self.root: Path | None = None
        self.caps = caps
        self.archive: zipfile.ZipFile | None = None
        if data is None:
            raise FileNotFoundError("the folder data set needs data_dir: " + LAYOUT)
        if isinstance(data, str | Path):
            path = Path(data).expanduser()
            if not path.exists():
                raise FileNotFoundError(f"{path} does not exist; " + LAYOUT)
            if path.is_dir():
                self.root, self.label = path, str(path)
                return
            opened: IO[bytes] | Path = path
            self.label = str(path)
        else:
            raw = data if isinstance(data, bytes) else data.read()
            opened, self.label = io.BytesIO(raw), "the uploaded zip"
        check_zip_directory(opened, self.label, caps)  # before zipfile parses it
        try:
            self.archive = zipfile.ZipFile(opened)
        except (zipfile.BadZipFile, OSError) as error:
            raise ValueError(
                f"{self.label} is neither a folder nor a readable zip ({error}); " + LAYOUT
            ) from error
        try:
            check_zip(self.archive, self.label, caps)  # before any member is inflated
        except ValueError:
            self.archive.close()
            raise

    def paths(self) -> list[PurePosixPath]:
        if self.archive is not None:
            return [PurePosixPath(n) for n in self.archive.namelist() if not n.endswith("/")]
        found = []
        for p in self.root.rglob("*"):
            if p.is_file():
                found.append(PurePosixPath(p.relative_to(self.root).as_posix()))
                if len(found) > self.caps.zip_members:  # a folder is capped like a zip
                    raise ValueError(
                        f"{self.label} holds more than {self.caps.zip_members:,} files, "
                        "the most allowed"
                    )
        return found

    def read(self, member: str) -> bytes:
        if self.archive is not None:
            return self.archive.read(member)
        return (self.root / member).read_bytes()

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def _decode(
    data: bytes, size: int, grayscale: bool, label: str = "image", caps: InputCaps = DEFAULT_CAPS
) -> np.ndarray:
    """One image -> (C, size, size) uint8: central square, resized, gray or RGB."""
    with decode_image(data, label, caps) as image:
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
        image = image.convert("L" if grayscale else "RGB")
        image = ImageOps.fit(image, (size, size), method=Image.Resampling.BILINEAR)
        array = np.asarray(image)
    return array[None] if grayscale else array.transpose(2, 0, 1)


def split_classes(names: list[str], seed: int) -> dict[str, list[str]]:
    """Assign class names to train/val/test: sorted, shuffled by ``seed``, 20/20/rest.

    Raises:
        ValueError: fewer than three classes (every split needs one).
    """
    ordered = sorted(names)
    if len(ordered) < 3:
        raise ValueError(
            f"the folder data set needs at least 3 classes (one each for train, val and "
            f"test) but has {len(ordered)}: {', '.join(ordered) or 'none'}; " + LAYOUT
        )
    order = torch.randperm(len(ordered), generator=torch.Generator().manual_seed(int(seed)))
    shuffled = [ordered[i] for i in order.tolist()]
    n_test = max(1, round(SPLIT_FRACTIONS["test"] * len(ordered)))
    n_val = max(1, round(SPLIT_FRACTIONS["val"] * len(ordered)))
    n_test, n_val = min(n_test, len(ordered) - 2), min(n_val, len(ordered) - 2)
    return {
        "test": sorted(shuffled[:n_test]),
        "val": sorted(shuffled[n_test : n_test + n_val]),
        "train": sorted(shuffled[n_test + n_val :]),
    }


class FolderSource(ByteImageSource):
    """One split of a user's image folder (or zip), classes split by ``seed``.

    Args:
        data: a directory, a zip file's path, or a zip's bytes / file object (an upload).
        split: ``"train"``, ``"val"`` or ``"test"``.
        image_size: side of the square images (28 by default).
        rotations: add each class turned by 90, 180 and 270 degrees as new classes.
        seed: which classes go to which split.
        grayscale: one channel (default) or three (RGB).
        caps: the largest zip (bytes, files; a folder: files) and image (pixels) read.

    Attributes:
        splits: the class names of every split, for showing the whole assignment.
    """

    def __init__(
        self,
        data: FolderInput | None,
        split: str = "train",
        image_size: int = 28,
        rotations: bool = False,
        seed: int = 0,
        grayscale: bool = True,
        caps: InputCaps = DEFAULT_CAPS,
    ):
        if split not in ("train", "val", "test"):
            raise ValueError(f"unknown split {split!r}; choose one of train, val, test")
        reader = _Reader(data, caps)
        try:
            tree = _class_tree(reader.paths())
            if not tree:
                raise ValueError(f"{reader.label} holds no images in class sub-folders; " + LAYOUT)
            small = {name: len(m) for name, m in tree.items() if len(m) < MIN_IMAGES_PER_CLASS}
            if small:
                listed = ", ".join(f"{name} ({count})" for name, count in small.items())
                raise ValueError(
                    f"every class needs at least {MIN_IMAGES_PER_CLASS} images (one to learn "
                    f"from, one to test on); too few in {reader.label}: {listed}"
                )
            self.splits = split_classes(list(tree), seed)
            names = self.splits[split]
            examples = []
            for name in names:
                arrays = []
                for member in tree[name]:
                    try:
                        image = reader.read(member)
                        arrays.append(_decode(image, image_size, grayscale, member, caps))
                    except (OSError, ValueError, zipfile.BadZipFile) as error:
                        raise ValueError(
                            f"cannot read image {member} in {reader.label}: {error}"
                        ) from error
                examples.append(torch.from_numpy(np.stack(arrays)))
        finally:
            reader.close()
        if rotations:
            examples, names = add_rotations(examples, names)
        self.label = reader.label
        super().__init__("folder", split, examples, names)
