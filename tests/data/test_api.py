"""The public entry points: names, splits, dataset_info, and the errors for bad shapes."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from metalearn_core.data import (
    DATASETS,
    SPLITS,
    DatasetInfo,
    EpisodeSampler,
    dataset_info,
    load_task_source,
)

BUILT_IN = ("sinusoid", "blobs", "digits")  # cheap to load in every test


def test_names_and_splits():
    assert DATASETS == ("sinusoid", "blobs", "digits", "glyphs", "omniglot", "folder")
    assert SPLITS == ("train", "val", "test")


def test_unknown_name_lists_the_allowed_ones():
    with pytest.raises(
        ValueError, match="'mnist'.*sinusoid, blobs, digits, glyphs, omniglot, folder"
    ):
        load_task_source("mnist")
    with pytest.raises(ValueError, match="'mnist'"):
        dataset_info("mnist")


def test_unknown_split_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="'validation'.*train, val, test"):
        load_task_source("blobs", "validation")


@pytest.mark.parametrize("size", [0, 3, 2.5, "28"])
def test_bad_image_size(size):
    with pytest.raises(ValueError, match="image_size"):
        load_task_source("digits", image_size=size)


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_info(name):
    info = dataset_info(name)
    assert isinstance(info, DatasetInfo)
    assert info.name == name and info.title and info.description
    assert info.task_kind in ("classification", "regression")
    assert info.needs_data_dir == (name in ("omniglot", "folder"))
    if info.classes_per_split is not None:
        assert set(info.classes_per_split) == set(SPLITS)
        # the suggested episode fits every split
        assert info.n_way <= min(info.classes_per_split.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("name", BUILT_IN)
def test_info_matches_the_source(name):
    info = dataset_info(name)
    for split in SPLITS:
        source = load_task_source(name, split)
        assert source.task_kind == info.task_kind
        assert tuple(source.input_shape) == info.input_shape()
        if info.classes_per_split is not None:
            assert source.num_classes == info.classes_per_split[split]
        sampler = EpisodeSampler(source, info.n_way, info.k_shot, info.q_query, seed=0)
        episode = sampler.sample()
        assert episode.support_x.shape[0] == info.n_way * info.k_shot


def test_image_size_none_means_the_data_sets_own():
    assert load_task_source("digits").input_shape == (1, 8, 8)
    assert load_task_source("digits", image_size=28).input_shape == (1, 28, 28)
    assert dataset_info("digits").input_shape(16) == (1, 16, 16)
    assert dataset_info("glyphs").input_shape() == (1, 28, 28)
    assert dataset_info("blobs").input_shape(28) == (2,)


def test_n_way_larger_than_the_classes_names_both():
    source = load_task_source("digits", "test")  # 6 classes
    with pytest.raises(ValueError, match=r"n_way=7 is larger than the 6 classes in digits/test"):
        EpisodeSampler(source, n_way=7, k_shot=1, q_query=1, seed=0)


def test_k_plus_q_larger_than_the_samples_names_both():
    source = load_task_source("blobs", "train")  # 200 points per class
    with pytest.raises(ValueError, match=r"150 \+ 51 = 201 is larger than the 200 examples"):
        EpisodeSampler(source, n_way=5, k_shot=150, q_query=51, seed=0)


@pytest.mark.parametrize("field", ["n_way", "k_shot", "q_query"])
def test_non_positive_shape(field):
    shape = {"n_way": 5, "k_shot": 1, "q_query": 1, field: 0}
    with pytest.raises(ValueError, match=field):
        EpisodeSampler(load_task_source("blobs"), seed=0, **shape)


@pytest.mark.parametrize("name", ["blobs", "digits"])
def test_batches_stack_episodes(name):
    source = load_task_source(name, "train")
    batch = EpisodeSampler(source, 5, 2, 3, seed=0).sample_batch(4)
    assert batch.support_x.shape == (4, 10, *source.input_shape)
    assert batch.query_x.shape == (4, 15, *source.input_shape)
    assert batch.support_y.shape == (4, 10) and batch.query_y.shape == (4, 15)
    assert len(batch.class_names) == 4 and all(len(n) == 5 for n in batch.class_names)
    assert torch.equal(batch.episode(2).support_x, batch.support_x[2])
