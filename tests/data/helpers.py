"""Small helpers for the data tests: Omniglot-layout zips and image folders written on the fly."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def png_bytes(array: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def drawing(seed: int, size: int = 105) -> np.ndarray:
    """A black-on-white 'drawing': a dark bar at a seed-dependent place on white paper."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size), 255, dtype=np.uint8)
    row, col = rng.integers(10, size - 30, size=2)
    image[row : row + 20, col : col + 4] = 0
    return image


def write_omniglot_zip(
    path: Path,
    set_name: str = "images_background",
    alphabets: dict[str, int] | None = None,
    drawings: int = 4,
) -> Path:
    """A zip in the official layout: <set>/<Alphabet>/<characterNN>/<id>_<dd>.png (1-bit)."""
    alphabets = alphabets or {"Latin": 2, "Greek": 2, "Hebrew": 2}
    seed = 0
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{set_name}/", "")
        for alphabet, characters in alphabets.items():
            for c in range(1, characters + 1):
                for d in range(1, drawings + 1):
                    seed += 1
                    name = f"{set_name}/{alphabet}/character{c:02d}/{seed:04d}_{d:02d}.png"
                    archive.writestr(name, png_bytes(drawing(seed), mode="1"))
    return path


def write_image_folder(
    root: Path, classes: dict[str, int], size: tuple[int, int] = (20, 30)
) -> Path:
    """``root/<class>/<i>.png`` with random RGB images; returns ``root``."""
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


def zip_folder(root: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(root.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(root).as_posix())
    return buffer.getvalue()
