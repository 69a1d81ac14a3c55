"""Episodic tasks: every data set a lesson needs, sampled as N-way K-shot episodes.

>>> from metalearn_core.data import load_task_source, EpisodeSampler
>>> source = load_task_source("glyphs", "train", seed=0)
>>> sampler = EpisodeSampler(source, n_way=5, k_shot=1, q_query=15, seed=0)
>>> batch = sampler.sample_batch(32)        # support_x: (32, 5, 1, 28, 28)

Data sets (``DATASETS``) and their splits (``SPLITS``; classes never overlap between them):

- ``sinusoid``: regression, y = A sin(x - phase) as in MAML; unlimited tasks.
- ``blobs``: 2-D classification, each class a Gaussian blob; inputs drawn with no projection.
- ``digits``: scikit-learn's 8x8 digits with rotated copies; test digits 8 and 9.
- ``glyphs``: procedurally drawn Omniglot-like characters (the default for image tasks).
- ``omniglot``: the real Omniglot from a folder (official zips or extracted); cached.
- ``folder``: your own images, one sub-folder per class (a directory or a zip).

See docs/datasets.md for the splits and the reasons behind them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from metalearn_core.data.episodes import (
    ClassificationSource,
    Episode,
    EpisodeBatch,
    EpisodeSampler,
    TaskKind,
    TaskSource,
)
from metalearn_core.data.guards import DEFAULT_CAPS, InputCaps
from metalearn_core.words import N_

DATASETS = ("sinusoid", "blobs", "digits", "glyphs", "omniglot", "folder")
SPLITS = ("train", "val", "test")

__all__ = [
    "DATASETS",
    "SPLITS",
    "ClassificationSource",
    "DatasetInfo",
    "Episode",
    "EpisodeBatch",
    "EpisodeSampler",
    "TaskSource",
    "dataset_info",
    "load_task_source",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What a page or the CLI needs to know about a data set before loading it.

    ``classes_per_split`` is None where it depends on the user's files (folder); for
    Omniglot it gives the official background/evaluation sets without rotations (each
    rotation multiplies it by 4). ``default_image_size`` is None for non-image data.
    """

    name: str
    title: str
    task_kind: TaskKind
    description: str
    needs_data_dir: bool
    default_image_size: int | None
    n_way: int  # suggested defaults for a first lesson
    k_shot: int
    q_query: int
    classes_per_split: dict[str, int] | None = None
    samples_per_class: int | None = None  # None: unlimited or varies
    is_image: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_image", self.default_image_size is not None)

    def input_shape(self, image_size: int | None = None) -> tuple[int, ...]:
        """Shape of one input: (1,) sinusoid, (2,) blobs, (C, H, W) images.

        ``image_size`` None means the data set's default; folder images are grayscale
        (C = 1) unless loaded with ``grayscale=False``.
        """
        if self.name == "sinusoid":
            return (1,)
        if self.name == "blobs":
            return (2,)
        size = self.default_image_size if image_size is None else int(image_size)
        return (1, size, size)


def _info() -> dict[str, DatasetInfo]:
    from metalearn_core.data import blobs, digits, glyphs, omniglot

    return {
        info.name: info
        for info in (
            DatasetInfo(
                "sinusoid",
                N_("Sinusoid regression"),
                "regression",
                N_(
                    "Each task is a sine wave y = A sin(x - phase), A in [0.1, 5], phase in [0, pi], "
                    "x in [-5, 5] (the MAML paper's toy problem). Fit a new wave from K points."
                ),
                needs_data_dir=False,
                default_image_size=None,
                n_way=1,
                k_shot=10,
                q_query=10,
            ),
            DatasetInfo(
                "blobs",
                N_("2-D blobs"),
                "classification",
                N_(
                    "Each class is a Gaussian blob in the plane, all stretched along one shared "
                    "direction: raw distances mislead, a learned metric does not. Inputs are drawn "
                    "as they are, no projection needed."
                ),
                needs_data_dir=False,
                default_image_size=None,
                n_way=5,
                k_shot=1,
                q_query=15,
                classes_per_split=dict(blobs.CLASSES_PER_SPLIT),
                samples_per_class=blobs.SAMPLES_PER_CLASS,
            ),
            DatasetInfo(
                "digits",
                N_("Handwritten digits (8x8)"),
                "classification",
                N_(
                    "scikit-learn's 1,797 8x8 digits; each digit and its rotations are classes. "
                    "Train on 0-5, validate on 6-7, test on 8-9."
                ),
                needs_data_dir=False,
                default_image_size=digits.NATIVE_SIZE,
                n_way=5,
                k_shot=1,
                q_query=15,
                classes_per_split={s: len(digits.split_class_names(s)) for s in SPLITS},
            ),
            DatasetInfo(
                "glyphs",
                N_("Glyphs (drawn on the fly)"),
                "classification",
                N_(
                    "Omniglot-like characters drawn by a program: each class a character of a few "
                    "pen strokes, each sample a new drawing of it. No download, unlimited classes."
                ),
                needs_data_dir=False,
                default_image_size=28,
                n_way=5,
                k_shot=1,
                q_query=15,
                classes_per_split=dict(glyphs.CLASSES_PER_SPLIT),
                samples_per_class=glyphs.DRAWINGS_PER_CLASS,
            ),
            DatasetInfo(
                "omniglot",
                N_("Omniglot"),
                "classification",
                N_(
                    "1,623 handwritten characters from 50 alphabets, 20 drawings each (Lake et al. "
                    "2015). Train and val: background alphabets; test: the evaluation alphabets."
                ),
                needs_data_dir=True,
                default_image_size=28,
                n_way=5,
                k_shot=1,
                q_query=15,
                classes_per_split=dict(omniglot.OFFICIAL_CLASSES_PER_SPLIT),
                samples_per_class=20,
            ),
            DatasetInfo(
                "folder",
                N_("Your own images"),
                "classification",
                N_(
                    "A folder (or zip) of images, one sub-folder per class, split by class into "
                    "train, val and test."
                ),
                needs_data_dir=True,
                default_image_size=28,
                n_way=5,
                k_shot=1,
                q_query=5,
            ),
        )
    }


_INFO_CACHE: dict[str, DatasetInfo] = {}


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")


def dataset_info(name: str) -> DatasetInfo:
    """Facts about data set ``name`` (no data is loaded)."""
    _check_name(name)
    if not _INFO_CACHE:
        _INFO_CACHE.update(_info())
    return _INFO_CACHE[name]


def load_task_source(
    name: str,
    split: str = "train",
    *,
    data_dir: str | Path | bytes | io.IOBase | None = None,
    image_size: int | None = None,
    rotations: bool = False,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    grayscale: bool = True,
    caps: InputCaps = DEFAULT_CAPS,
) -> TaskSource:
    """One split of a data set, ready to draw episodes from.

    Args:
        name: one of ``DATASETS``.
        split: ``"train"``, ``"val"`` or ``"test"``; their classes never overlap.
        data_dir: omniglot: a folder holding ``images_background`` / ``images_evaluation``
            (zips or extracted; None: ``$METALEARN_OMNIGLOT_DIR``); folder: a directory or a zip (path, bytes or file object)
            with one sub-folder per class. Ignored by the other data sets.
        image_size: side of square images; None gives the data set's default (28, and 8
            for digits). Ignored by sinusoid and blobs.
        rotations: add copies turned by 90, 180 and 270 degrees as extra classes (glyphs,
            omniglot, folder). Digits always include their rotations.
        seed: picks the generated classes (blobs, glyphs), the class split (folder) and the
            task stream (sinusoid). Omniglot and digits splits are fixed.
        cache_dir: where Omniglot's decoded arrays are kept (default: ``$METALEARN_CACHE_DIR``
            or ``~/.cache/metalearn_studio``).
        grayscale: folder images as one channel (default) or three (RGB).
        caps: the largest zip and image read (omniglot, folder); refused before reading.

    Raises:
        ValueError: unknown name or split, a bad image size, unusable data, or a zip or
            image past ``caps``.
        FileNotFoundError: a missing Omniglot set or folder.
    """
    _check_name(name)
    _check_split(split)
    if image_size is not None and (not isinstance(image_size, int) or image_size < 4):
        raise ValueError(f"image_size must be an integer of at least 4, got {image_size!r}")
    size = dataset_info(name).default_image_size if image_size is None else image_size

    if name == "sinusoid":
        from metalearn_core.data.sinusoid import SinusoidSource

        return SinusoidSource(split, seed=seed)
    if name == "blobs":
        from metalearn_core.data.blobs import BlobsSource

        return BlobsSource(split, seed=seed)
    if name == "digits":
        from metalearn_core.data.digits import DigitsSource

        return DigitsSource(split, image_size=size)
    if name == "glyphs":
        from metalearn_core.data.glyphs import GlyphsSource

        return GlyphsSource(split, seed=seed, image_size=size, rotations=rotations)
    if name == "omniglot":
        from metalearn_core.data.omniglot import OmniglotSource

        return OmniglotSource(
            data_dir, split, image_size=size, rotations=rotations, cache_dir=cache_dir, caps=caps
        )
    from metalearn_core.data.folder import FolderSource

    return FolderSource(
        data_dir,
        split,
        image_size=size,
        rotations=rotations,
        seed=seed,
        grayscale=grayscale,
        caps=caps,
    )
