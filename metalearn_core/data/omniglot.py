"""Omniglot (Lake, Salakhutdinov & Tenenbaum, Science 2015), read from the official files.

1,623 handwritten characters from 50 alphabets, 20 drawings each, 105x105 black on white.
``data_dir`` holds the *background* set (30 alphabets, 964 characters) and/or the
*evaluation* set (20 alphabets, 659 characters), each either as the official zip or
extracted::

    data_dir/
      images_background.zip     or  images_background/<Alphabet>/<characterNN>/<id>_<dd>.png
      images_evaluation.zip     or  images_evaluation/<Alphabet>/<characterNN>/<id>_<dd>.png

Splits (fixed, whatever the seed):

- ``train``: the background alphabets except ``VAL_ALPHABETS`` (25 alphabets, 813 characters);
- ``val``: the five ``VAL_ALPHABETS`` of the background set (151 characters);
- ``test``: the evaluation set (659 characters), never seen in training or validation.

Images are resized with antialiasing (28x28 by default) and inverted so that ink is high
(1.0) on a zero background. ``rotations=True`` adds each character turned by 90, 180 and
270 degrees as three more classes (as in Santoro et al. 2016 and MAML), 4x the classes.

The first load of a set decodes its 19,280 (or 13,180) PNGs and writes the result to a
cache folder, keyed by the source file's path, size and modification time and by the
image size; later loads read that one file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from metalearn_core.data.guards import (
    DEFAULT_CAPS,
    InputCaps,
    check_zip,
    check_zip_directory,
    decode_image,
)
from metalearn_core.data.images import ByteImageSource, add_rotations, resize_images, to_bytes

log = logging.getLogger(__name__)

OFFICIAL_URL = "https://github.com/brendenlake/omniglot/tree/master/python"
SETS = {"background": "images_background", "evaluation": "images_evaluation"}
SPLIT_SET = {"train": "background", "val": "background", "test": "evaluation"}
# Five background alphabets held out for validation: scripts of different families and sizes.
VAL_ALPHABETS = ("Bengali", "Futurama", "Hebrew", "Korean", "Tagalog")
OFFICIAL_CLASSES_PER_SPLIT = {"train": 813, "val": 151, "test": 659}
CACHE_VERSION = 1
DATA_DIR_ENV = "METALEARN_OMNIGLOT_DIR"

LAYOUT = (
    "expected {where} to hold images_background.zip and/or images_evaluation.zip (the "
    "official Omniglot zips), or the extracted folders images_background/ and "
    "images_evaluation/, laid out as <set>/<Alphabet>/<characterNN>/<image>.png. "
    f"Download the zips from {OFFICIAL_URL}"
)


def default_data_dir() -> str | None:
    """``$METALEARN_OMNIGLOT_DIR``: where a machine keeps Omniglot, so that a classroom
    server (or a shell) names the folder once instead of every run naming it."""
    return os.environ.get(DATA_DIR_ENV) or None


def default_cache_dir() -> Path:
    """``$METALEARN_CACHE_DIR`` or ``~/.cache/metalearn_studio``."""
    env = os.environ.get("METALEARN_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "metalearn_studio"


def find_set(data_dir: str | Path, which: str) -> Path | None:
    """The folder or zip of set ``which`` ("background"/"evaluation") in ``data_dir``, if any.

    ``data_dir`` may also be the set's folder or zip itself.
    """
    base = Path(data_dir).expanduser()
    stem = SETS[which]
    if base.name in (stem, f"{stem}.zip") and base.exists():
        return base
    for candidate in (base / stem, base / f"{stem}.zip"):
        if candidate.is_dir() or candidate.is_file():
            return candidate
    return None


def _source_identity(path: Path) -> str:
    """A string that changes whenever the set's files change: path, size and mtime."""
    path = path.resolve()
    if path.is_file():
        stat = path.stat()
        return f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    count = total = newest = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            if name.lower().endswith(".png"):
                stat = os.stat(os.path.join(root, name))
                count, total = count + 1, total + stat.st_size
                newest = max(newest, stat.st_mtime_ns)
    return f"{path}|{count}|{total}|{newest}"


def cache_file(path: Path, image_size: int, cache_dir: Path) -> Path:
    """Where the decoded arrays of set ``path`` at ``image_size`` are kept."""
    key = f"{_source_identity(path)}|{image_size}|v{CACHE_VERSION}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    stem = path.name.removesuffix(".zip")
    return cache_dir / f"omniglot-{stem}-{image_size}px-{digest}.npz"


def _list_members(path: Path, caps: InputCaps = DEFAULT_CAPS) -> list[tuple[str, str, str]]:
    """(alphabet, character, member) of every PNG in a set, sorted; members are zip names
    or file paths."""
    entries = []
    if path.is_dir():
        for png in path.rglob("*.png"):
            parts = png.relative_to(path).parts
            if len(parts) == 3:
                entries.append((parts[0], parts[1], str(png)))
    else:
        try:
            check_zip_directory(path, str(path), caps)  # before zipfile parses it
            with zipfile.ZipFile(path) as archive:
                check_zip(archive, str(path), caps)  # before any drawing is inflated
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise ValueError(
                f"{path} is not a readable zip ({error}); {LAYOUT.format(where=path.parent)}"
            ) from error
        for name in names:
            parts = name.split("/")
            # <set>/<Alphabet>/<character>/<image>.png, maybe below one more folder
            if name.lower().endswith(".png") and len(parts) >= 4 and "__MACOSX" not in parts:
                entries.append((parts[-3], parts[-2], name))
    return sorted(entries)


def _decode(path: Path, members: list[str], caps: InputCaps = DEFAULT_CAPS) -> list[np.ndarray]:
    """Decode PNGs (zip members or files) to grayscale uint8 arrays, 255 = white paper."""
    arrays = []
    archive = zipfile.ZipFile(path) if path.is_file() else None
    try:
        for member in members:
            try:
                data = archive.read(member) if archive else Path(member).read_bytes()
                with decode_image(data, member, caps) as image:
                    arrays.append(np.asarray(image.convert("L")))
            except (OSError, zipfile.BadZipFile, ValueError) as error:
                raise ValueError(
                    f"cannot decode {member} in {path}: {error}; the file looks corrupt. "
                    + LAYOUT.format(where=path.parent)
                ) from error
    finally:
        if archive:
            archive.close()
    return arrays


def decode_set(
    path: Path, image_size: int, caps: InputCaps = DEFAULT_CAPS
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read every drawing of an Omniglot set, resized and inverted (ink = 255).

    Returns:
        images: (N, image_size, image_size) uint8, class by class.
        counts: (C,) int64 drawings per class.
        names: C names like ``"Greek/character07"``.
    """
    entries = _list_members(path, caps)
    if not entries:
        raise ValueError(
            f"{path} holds no PNG drawings in the expected layout; "
            + LAYOUT.format(where=path.parent)
        )
    arrays = _decode(path, [member for _, _, member in entries], caps)
    # Omniglot's PNGs are all 105x105; resize each group of equal shape in one batch.
    resized = torch.empty(len(arrays), image_size, image_size, dtype=torch.uint8)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, array in enumerate(arrays):
        by_shape.setdefault(array.shape, []).append(i)
    for indices in by_shape.values():
        batch = torch.from_numpy(np.stack([arrays[i] for i in indices])).unsqueeze(1)  # (n,1,H,W)
        ink = 1 - resize_images(batch, image_size) / 255.0  # black strokes -> high values
        resized[indices] = to_bytes(ink[:, 0])
    names, counts = [], []
    for alphabet, character, _ in entries:
        name = f"{alphabet}/{character}"
        if names and names[-1] == name:
            counts[-1] += 1
        else:
            names.append(name)
            counts.append(1)
    return resized.numpy(), np.array(counts, dtype=np.int64), names


def load_set(
    path: Path,
    image_size: int,
    cache_dir: str | Path | None = None,
    caps: InputCaps = DEFAULT_CAPS,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``decode_set`` through the on-disk cache: decoded once, then read back."""
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = cache_file(path, image_size, folder)
    if target.exists():
        try:
            with np.load(target, allow_pickle=False) as saved:
                return saved["images"], saved["counts"], [str(n) for n in saved["names"]]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            log.warning("ignoring unreadable Omniglot cache %s (%s)", target, error)
    images, counts, names = decode_set(path, image_size, caps)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp.npz", delete=False) as handle:
            np.savez_compressed(handle, images=images, counts=counts, names=np.array(names))
        os.replace(handle.name, target)  # atomic: readers never see half a file
    except OSError as error:
        log.warning(
            "could not write the Omniglot cache in %s (%s); decoding each time", folder, error
        )
    return images, counts, names


def split_alphabets(alphabets: list[str], split: str) -> list[str]:
    """The background alphabets of ``split`` ("train" or "val").

    ``VAL_ALPHABETS`` go to val. A set holding none of them (not the official one) sends
    every sixth alphabet in sorted order (the 6th, 12th, ...; the last if there are
    fewer than six) to val instead.
    """
    ordered = sorted(alphabets)
    held_out = [a for a in ordered if a in VAL_ALPHABETS]
    if not held_out and len(ordered) > 1:
        held_out = ordered[5::6] or ordered[-1:]
    chosen = held_out if split == "val" else [a for a in ordered if a not in held_out]
    return chosen


class OmniglotSource(ByteImageSource):
    """One split of Omniglot, kept as uint8 and handed out as float32 in [0, 1].

    Args:
        data_dir: folder holding ``images_background``/``images_evaluation`` (zips or folders);
            None reads ``$METALEARN_OMNIGLOT_DIR``.
        split: ``"train"``, ``"val"`` (background alphabets) or ``"test"`` (evaluation set).
        image_size: side of the resized images (28 by default).
        rotations: add 90/180/270-degree copies of every character as new classes.
        cache_dir: where decoded sets are cached (default ``default_cache_dir()``).
        caps: the largest zip (bytes, files) and drawing (pixels) read.
    """

    def __init__(
        self,
        data_dir: str | Path | None,
        split: str = "train",
        image_size: int = 28,
        rotations: bool = False,
        cache_dir: str | Path | None = None,
        caps: InputCaps = DEFAULT_CAPS,
    ):
        if split not in SPLIT_SET:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_SET)}")
        data_dir = data_dir if data_dir is not None else default_data_dir()
        if data_dir is None:
            raise FileNotFoundError(
                f"omniglot needs data_dir (or the environment variable {DATA_DIR_ENV}): "
                + LAYOUT.format(where="data_dir")
            )
        if not Path(data_dir).expanduser().exists():
            raise FileNotFoundError(
                f"Omniglot folder {data_dir} does not exist; " + LAYOUT.format(where="it")
            )
        which = SPLIT_SET[split]
        path = find_set(data_dir, which)
        if path is None:
            raise FileNotFoundError(
                f"the Omniglot {which} set (needed for split {split!r}) is not in {data_dir}; "
                + LAYOUT.format(where=data_dir)
            )
        images, counts, names = load_set(path, image_size, cache_dir, caps)
        examples = list(torch.from_numpy(images).unsqueeze(1).split(counts.tolist()))
        if split != "test":
            keep = set(split_alphabets(sorted({n.split("/")[0] for n in names}), split))
            chosen = [i for i, n in enumerate(names) if n.split("/")[0] in keep]
            if not chosen:
                raise ValueError(
                    f"the Omniglot background set in {path} has too few alphabets to form a "
                    f"{split!r} split (train and val need at least two alphabets)"
                )
            examples, names = [examples[i] for i in chosen], [names[i] for i in chosen]
        if rotations:
            examples, names = add_rotations(examples, names)
        self.set_path = path
        super().__init__("omniglot", split, examples, names)
