"""Draw the pictures of docs/datasets.md: glyph and digit grids, a blobs episode.

    python bench/make_dataset_pictures.py [--out docs/img]

Writes glyphs_grid.png (each row one character, each column a new drawing of it),
digits_grid.png (a row per digit, its rotation classes side by side) and blobs_episode.png (a 5-way
5-shot episode of the test split over all of the split's blobs). Uses only PIL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from metalearn_core.data import EpisodeSampler, load_task_source  # noqa: E402
from metalearn_core.data.glyphs import GlyphsSource  # noqa: E402

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]


def image_grid(rows: torch.Tensor, zoom: int = 3, gap: int = 4) -> Image.Image:
    """(R, C, H, W) ink images in [0, 1] -> dark ink on white paper, with gaps."""
    R, C, H, W = rows.shape
    paper = np.full((R * (H * zoom + gap) + gap, C * (W * zoom + gap) + gap), 235, np.uint8)
    for r in range(R):
        for c in range(C):
            tile = ((1 - rows[r, c].clamp(0, 1)).numpy() * 255).astype(np.uint8)
            tile = np.kron(tile, np.ones((zoom, zoom), np.uint8))
            y, x = gap + r * (H * zoom + gap), gap + c * (W * zoom + gap)
            paper[y : y + H * zoom, x : x + W * zoom] = tile
    return Image.fromarray(paper)


def glyphs_grid(rows: int = 10, drawings: int = 10) -> Image.Image:
    source = GlyphsSource("val", seed=0, num_classes=rows)
    grid = torch.stack([source.class_tensor(i)[:drawings, 0] for i in range(rows)])
    return image_grid(grid)


def digits_grid(per_class: int = 3) -> Image.Image:
    """One row per digit (0-5 train, 6-7 val, 8-9 test), its rotation classes side by side."""
    grid = torch.zeros(10, 4 * per_class, 8, 8)
    for split in ("train", "val", "test"):
        source = load_task_source("digits", split)
        for i, name in enumerate(source.class_names):  # "digit 6 (rot 90)"
            digit = int(name.split()[1])
            turn = int(name.split("rot ")[1].rstrip(")")) // 90 if "rot" in name else 0
            grid[digit, turn * per_class : (turn + 1) * per_class] = source.class_tensor(i)[
                :per_class, 0
            ]
    return image_grid(grid, zoom=4, gap=3)


def blobs_episode(size: int = 560) -> Image.Image:
    source = load_task_source("blobs", "test")
    episode = EpisodeSampler(source, 5, 5, 30, seed=2).sample()
    every = torch.cat([source.class_tensor(i) for i in range(source.num_classes)])
    low, high = every.min(0).values, every.max(0).values
    middle, span = (low + high) / 2, float((high - low).max()) + 1.0

    def to_px(p: torch.Tensor) -> tuple[float, float]:  # equal scales on both axes
        x, y = ((p - middle) / span * size + size / 2).tolist()
        return x, size - y

    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for p in every[::4]:  # the split's other blobs, faint
        x, y = to_px(p)
        draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill="#d9d9d9")
    for x_, y_ in zip(episode.query_x, episode.query_y.tolist(), strict=True):
        x, y = to_px(x_)
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=PALETTE[y_])
    for x_, y_ in zip(episode.support_x, episode.support_y.tolist(), strict=True):
        x, y = to_px(x_)
        draw.rectangle([x - 5, y - 5, x + 5, y + 5], fill=PALETTE[y_], outline="black")
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, picture in [
        ("glyphs_grid.png", glyphs_grid()),
        ("digits_grid.png", digits_grid()),
        ("blobs_episode.png", blobs_episode()),
    ]:
        picture.save(args.out / name, optimize=True)
        print(f"wrote {args.out / name} ({picture.width}x{picture.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
