"""Folder: a user's images, one sub-folder per class, from a directory or a zip."""

from __future__ import annotations

import io
import zipfile

import pytest
import torch
from PIL import Image

from metalearn_core.data import SPLITS, EpisodeSampler, load_task_source
from metalearn_core.data.folder import FolderSource, split_classes
from tests.data.helpers import write_image_folder, zip_folder

TEN = {f"class{i}": 3 for i in range(10)}


def _all_splits(data, **kwargs):
    return {s: load_task_source("folder", s, data_dir=data, **kwargs) for s in SPLITS}


def test_directory_split_by_class(tmp_path):
    root = write_image_folder(tmp_path / "pics", TEN)
    sources = _all_splits(root)
    counts = {s: src.num_classes for s, src in sources.items()}
    assert counts == {"train": 6, "val": 2, "test": 2}
    names = [set(src.class_names) for src in sources.values()]
    assert set().union(*names) == set(TEN)
    assert sum(len(n) for n in names) == len(TEN)  # disjoint and complete
    assert sources["train"].input_shape == (1, 28, 28)
    assert sources["train"].samples_per_class == [3] * 6


def test_the_seed_decides_the_split():
    names = [f"c{i}" for i in range(20)]
    assert split_classes(names, 0) == split_classes(names, 0)
    assert split_classes(names, 0) != split_classes(names, 1)
    assert [len(split_classes(names, 0)[s]) for s in ("train", "val", "test")] == [12, 4, 4]
    assert [len(split_classes(names[:3], 0)[s]) for s in ("train", "val", "test")] == [1, 1, 1]


def test_zip_path_bytes_and_file_object_with_a_wrapping_folder(tmp_path):
    root = write_image_folder(tmp_path / "pics", TEN)
    data = zip_folder(root, prefix="my_pictures/")
    (tmp_path / "pics.zip").write_bytes(data)
    expected = load_task_source("folder", "val", data_dir=root)
    for given in (tmp_path / "pics.zip", str(tmp_path / "pics.zip"), data, io.BytesIO(data)):
        source = load_task_source("folder", "val", data_dir=given)
        assert source.class_names == expected.class_names
        assert torch.equal(source.class_tensor(0), expected.class_tensor(0))


def test_rgb_size_and_rotations(tmp_path):
    root = write_image_folder(tmp_path / "pics", TEN, size=(40, 60))
    source = load_task_source(
        "folder", "train", data_dir=root, grayscale=False, image_size=16, rotations=True
    )
    assert source.input_shape == (3, 16, 16) and source.num_classes == 24
    episode = EpisodeSampler(source, 5, 1, 2, seed=0).sample()
    assert episode.support_x.shape == (5, 3, 16, 16) and episode.support_x.dtype == torch.float32


def test_pixels_are_cropped_resized_and_scaled(tmp_path):
    root = tmp_path / "pics"
    for c in ("a", "b", "c"):
        (root / c).mkdir(parents=True)
        for i, value in enumerate((0, 255)):
            Image.new("L", (50, 30), value).save(root / c / f"{i}.png")
    # a transparent image counts as white paper
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(root / "a" / "2.png")
    source = FolderSource(root, "train", image_size=8, seed=0)
    x = source.class_tensor(0)
    assert x.shape == (len(x), 1, 8, 8)
    assert {float(v) for v in x.amax(dim=(1, 2, 3))} <= {0.0, 1.0}
    if source.class_names[0] == "a":
        assert float(x[2].min()) == 1.0


def test_hidden_files_and_loose_images_are_ignored(tmp_path):
    root = write_image_folder(tmp_path / "pics", {"a": 2, "b": 2, "c": 2})
    Image.new("L", (5, 5)).save(root / "loose.png")
    (root / ".hidden").mkdir()
    Image.new("L", (5, 5)).save(root / ".hidden" / "x.png")
    (root / "a" / "notes.txt").write_text("not an image")
    names = set().union(*(set(s.class_names) for s in _all_splits(root).values()))
    assert names == {"a", "b", "c"}


# ----------------------------------------------------------------------------- bad input


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*one sub-folder per class"):
        load_task_source("folder", data_dir=tmp_path / "nowhere")


def test_no_data_dir():
    with pytest.raises(FileNotFoundError, match="needs data_dir"):
        load_task_source("folder")


def test_not_a_zip(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="neither a folder nor a readable zip"):
        load_task_source("folder", data_dir=tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="uploaded zip"):
        load_task_source("folder", data_dir=b"not a zip")


def test_no_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="no images in class sub-folders"):
        load_task_source("folder", data_dir=tmp_path)


def test_too_few_classes(tmp_path):
    root = write_image_folder(tmp_path / "pics", {"cats": 4, "dogs": 4})
    with pytest.raises(ValueError, match="at least 3 classes.*has 2: cats, dogs"):
        load_task_source("folder", data_dir=root)


def test_too_few_images_in_a_class(tmp_path):
    root = write_image_folder(tmp_path / "pics", {"a": 3, "b": 3, "c": 1, "d": 3})
    with pytest.raises(ValueError, match=r"at least 2 images.*: c \(1\)"):
        load_task_source("folder", data_dir=root)


def test_corrupt_image(tmp_path):
    root = write_image_folder(tmp_path / "pics", {"a": 2, "b": 2, "c": 2})
    (root / "b" / "001.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="cannot read image b/001.png"):
        for split in SPLITS:  # whichever split holds class "b" decodes it
            load_task_source("folder", split, data_dir=root)


def test_episode_larger_than_a_small_folder(tmp_path):
    root = write_image_folder(tmp_path / "pics", TEN)
    source = load_task_source("folder", "test", data_dir=root)
    with pytest.raises(ValueError, match="n_way=3 is larger than the 2 classes"):
        EpisodeSampler(source, 3, 1, 1, seed=0)
    with pytest.raises(ValueError, match="2 \\+ 2 = 4 is larger than the 3 examples"):
        EpisodeSampler(source, 2, 2, 2, seed=0)


def test_zip_with_directory_entries_and_macos_metadata():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for c in ("x", "y", "z"):
            archive.writestr(f"{c}/", "")
            for i in range(2):
                image = io.BytesIO()
                Image.new("L", (12, 12), 40 * i).save(image, format="PNG")
                archive.writestr(f"{c}/{i}.png", image.getvalue())
        archive.writestr("__MACOSX/x/._0.png", b"resource fork")
    source = load_task_source("folder", "train", data_dir=buffer.getvalue())
    assert source.num_classes == 1
