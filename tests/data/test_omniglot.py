"""Omniglot: the official zips or folders, alphabet splits, inversion, rotations, the cache,
and every way the files can be missing or broken."""

from __future__ import annotations

import time
import zipfile

import numpy as np
import pytest
import torch

from metalearn_core.data import EpisodeSampler, load_task_source
from metalearn_core.data import omniglot as omniglot_module
from metalearn_core.data.omniglot import OFFICIAL_URL, VAL_ALPHABETS, split_alphabets
from tests.data.helpers import png_bytes, write_omniglot_zip

SMALL = {"Latin": 2, "Greek": 3, "Hebrew": 2}  # Hebrew is a validation alphabet


@pytest.fixture
def small_dir(tmp_path):
    write_omniglot_zip(tmp_path / "images_background.zip", alphabets=SMALL)
    write_omniglot_zip(
        tmp_path / "images_evaluation.zip", "images_evaluation", {"Kannada": 3, "Atlantean": 2}
    )
    return tmp_path


def _load(data_dir, split, tmp_path, **kwargs):
    return load_task_source(
        "omniglot", split, data_dir=data_dir, cache_dir=tmp_path / "cache", **kwargs
    )


def test_small_zip_in_the_official_layout(small_dir, tmp_path):
    train = _load(small_dir, "train", tmp_path)
    val = _load(small_dir, "val", tmp_path)
    test = _load(small_dir, "test", tmp_path)
    assert train.class_names == [f"Greek/character0{i}" for i in (1, 2, 3)] + [
        "Latin/character01",
        "Latin/character02",
    ]
    assert val.class_names == ["Hebrew/character01", "Hebrew/character02"]
    assert test.num_classes == 5 and test.class_names[0] == "Atlantean/character01"
    assert train.samples_per_class == [4] * 5
    assert train.input_shape == (1, 28, 28)


def test_ink_is_high_and_resized_with_antialiasing(small_dir, tmp_path):
    source = _load(small_dir, "train", tmp_path, image_size=35)
    x = source.class_tensor(0)  # (4, 1, 35, 35)
    assert x.shape == (4, 1, 35, 35) and x.dtype == torch.float32
    # white paper -> 0, a 20x4 black bar -> high values; antialiasing gives grey edges
    assert (x == 0).float().mean() > 0.8
    assert x.max() > 0.8
    assert ((x > 0.05) & (x < 0.95)).any()


def test_extracted_folders_read_like_the_zips(small_dir, tmp_path):
    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(small_dir / "images_background.zip") as archive:
        archive.extractall(extracted)
    from_zip = _load(small_dir, "train", tmp_path)
    from_folder = _load(extracted, "train", tmp_path)
    assert from_folder.class_names == from_zip.class_names
    for i in range(from_zip.num_classes):
        assert torch.equal(from_folder.class_tensor(i), from_zip.class_tensor(i))
    # the set's folder or zip itself is accepted too
    assert _load(extracted / "images_background", "val", tmp_path).num_classes == 2
    assert _load(small_dir / "images_background.zip", "val", tmp_path).num_classes == 2


def test_rotations_are_extra_classes(small_dir, tmp_path):
    source = _load(small_dir, "val", tmp_path, rotations=True)
    assert source.num_classes == 8
    assert source.class_names[:4] == [
        "Hebrew/character01",
        "Hebrew/character01 (rot 90)",
        "Hebrew/character01 (rot 180)",
        "Hebrew/character01 (rot 270)",
    ]
    assert torch.equal(source.class_tensor(1), torch.rot90(source.class_tensor(0), 1, (2, 3)))


def test_cache_is_written_then_used(small_dir, tmp_path, monkeypatch):
    first = _load(small_dir, "train", tmp_path)
    cached = list((tmp_path / "cache").glob("omniglot-images_background-28px-*.npz"))
    assert len(cached) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again although a cache exists")

    monkeypatch.setattr(omniglot_module, "decode_set", no_decoding)
    second = _load(small_dir, "train", tmp_path)
    assert second.class_names == first.class_names
    assert torch.equal(second.class_tensor(2), first.class_tensor(2))
    # another image size is another cache entry, so it must decode
    with pytest.raises(AssertionError, match="decoded again"):
        _load(small_dir, "train", tmp_path, image_size=20)


def test_cache_follows_changes_to_the_source(small_dir, tmp_path):
    _load(small_dir, "train", tmp_path)
    write_omniglot_zip(small_dir / "images_background.zip", alphabets={"Latin": 3, "Hebrew": 1})
    changed = _load(small_dir, "train", tmp_path)
    assert changed.class_names == [f"Latin/character0{i}" for i in (1, 2, 3)]


def test_cache_dir_from_the_environment(small_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("METALEARN_CACHE_DIR", str(tmp_path / "from_env"))
    load_task_source("omniglot", "val", data_dir=small_dir)
    assert list((tmp_path / "from_env").glob("*.npz"))


def test_unreadable_cache_is_rebuilt(small_dir, tmp_path):
    _load(small_dir, "val", tmp_path)
    (cached,) = (tmp_path / "cache").glob("*.npz")
    cached.write_bytes(b"garbage")
    assert _load(small_dir, "val", tmp_path).num_classes == 2


# ----------------------------------------------------------------------------- bad input


def _layout_message(error: pytest.ExceptionInfo) -> None:
    text = str(error.value)
    assert "images_background" in text and "images_evaluation" in text
    assert "<Alphabet>/<characterNN>" in text and OFFICIAL_URL in text


def test_no_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("METALEARN_OMNIGLOT_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="METALEARN_OMNIGLOT_DIR") as error:
        load_task_source("omniglot", cache_dir=tmp_path)
    _layout_message(error)


def test_no_data_dir_reads_the_machines_folder(small_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("METALEARN_OMNIGLOT_DIR", str(small_dir))
    source = load_task_source("omniglot", "val", cache_dir=tmp_path / "cache")
    assert source.class_names == ["Hebrew/character01", "Hebrew/character02"]
    monkeypatch.setenv("METALEARN_OMNIGLOT_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_task_source("omniglot", "val", cache_dir=tmp_path / "cache")


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist") as error:
        _load(tmp_path / "nowhere", "train", tmp_path)
    _layout_message(error)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="background set") as error:
        _load(tmp_path / "empty", "train", tmp_path)
    _layout_message(error)


def test_missing_evaluation_set_for_test(small_dir, tmp_path):
    (small_dir / "images_evaluation.zip").unlink()
    with pytest.raises(FileNotFoundError, match="evaluation set.*'test'") as error:
        _load(small_dir, "test", tmp_path)
    _layout_message(error)


def test_corrupt_zip(tmp_path):
    (tmp_path / "images_background.zip").write_bytes(b"this is not a zip")
    with pytest.raises(ValueError, match="not a readable zip") as error:
        _load(tmp_path, "train", tmp_path)
    _layout_message(error)


def test_zip_without_drawings(tmp_path):
    with zipfile.ZipFile(tmp_path / "images_background.zip", "w") as archive:
        archive.writestr("images_background/readme.txt", "nothing here")
    with pytest.raises(ValueError, match="no PNG drawings") as error:
        _load(tmp_path, "train", tmp_path)
    _layout_message(error)


def test_empty_extracted_set(tmp_path):
    (tmp_path / "images_background" / "Latin").mkdir(parents=True)
    with pytest.raises(ValueError, match="no PNG drawings"):
        _load(tmp_path, "train", tmp_path)


def test_corrupt_png(tmp_path):
    with zipfile.ZipFile(tmp_path / "images_background.zip", "w") as archive:
        good = png_bytes(np.full((105, 105), 255, np.uint8))
        archive.writestr("images_background/Latin/character01/0001_01.png", good)
        archive.writestr("images_background/Latin/character01/0002_02.png", b"\x89PNG broken")
    with pytest.raises(ValueError, match="0002_02.png.*corrupt") as error:
        _load(tmp_path, "train", tmp_path)
    _layout_message(error)


def test_one_alphabet_cannot_form_train_and_val(tmp_path):
    write_omniglot_zip(tmp_path / "images_background.zip", alphabets={"Latin": 3})
    with pytest.raises(ValueError, match="too few alphabets"):
        _load(tmp_path, "val", tmp_path)


def test_alphabet_split_rule():
    official = ["Bengali", "Futurama", "Greek", "Hebrew", "Korean", "Latin", "Tagalog"]
    assert split_alphabets(official, "val") == sorted(VAL_ALPHABETS)
    assert split_alphabets(official, "train") == ["Greek", "Latin"]
    others = [f"A{i:02d}" for i in range(13)]  # none of the named ones: every sixth
    assert split_alphabets(others, "val") == ["A05", "A11"]
    assert split_alphabets(others[:3], "val") == ["A02"]


# ----------------------------------------------------------------------------- the real set


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    """The shared background set, decoded once for this module (a few seconds)."""
    from tests.conftest import OMNIGLOT_DIR

    if not (OMNIGLOT_DIR / "images_background.zip").exists():
        pytest.skip(f"Omniglot background set not found at {OMNIGLOT_DIR}")
    cache = tmp_path_factory.mktemp("omniglot_cache")
    started = time.perf_counter()
    train = load_task_source("omniglot", "train", data_dir=OMNIGLOT_DIR, cache_dir=cache)
    decode_seconds = time.perf_counter() - started
    return OMNIGLOT_DIR, cache, train, decode_seconds


@pytest.mark.omniglot
def test_background_set(background, omniglot_dir):
    data_dir, cache, train, _ = background
    assert data_dir == omniglot_dir
    val = load_task_source("omniglot", "val", data_dir=omniglot_dir, cache_dir=cache)
    assert train.num_classes + val.num_classes == 964
    assert (train.num_classes, val.num_classes) == (813, 151)
    assert set(train.samples_per_class) == {20} and set(val.samples_per_class) == {20}
    assert {n.split("/")[0] for n in val.class_names} == set(VAL_ALPHABETS)
    assert "Greek/character07" in train.class_names
    episode = EpisodeSampler(train, 20, 5, 15, seed=0).sample()
    assert episode.support_x.shape == (100, 1, 28, 28) and episode.query_x.shape == (300, 1, 28, 28)
    assert 0 <= episode.query_x.min() and 0.5 < episode.query_x.max() <= 1
    ink = train.class_tensor(0).mean()
    assert 0.02 < ink < 0.3  # strokes on empty paper, not inverted paper


@pytest.mark.omniglot
def test_background_set_rotations_from_the_cache(background, omniglot_dir, monkeypatch):
    _, cache, train, _ = background
    monkeypatch.setattr(omniglot_module, "decode_set", lambda *a, **k: pytest.fail("decoded"))
    rotated = load_task_source(
        "omniglot", "train", data_dir=omniglot_dir, cache_dir=cache, rotations=True
    )
    assert rotated.num_classes == 4 * train.num_classes
    assert "Greek/character07 (rot 270)" in rotated.class_names
