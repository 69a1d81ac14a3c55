"""Invariants every classification source keeps: reproducible episodes, disjoint splits,
shapes and dtypes, labels remapped to 0..N-1 in class order, identities that match."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from metalearn_core.data import SPLITS, EpisodeSampler, load_task_source
from metalearn_core.data.glyphs import GlyphsSource
from tests.data.helpers import write_image_folder, write_omniglot_zip


def _open(name: str, split: str, tmp: Path, seed: int = 0):
    if name == "glyphs":
        return GlyphsSource(split, seed=seed, num_classes=30)
    if name == "omniglot":
        if not (tmp / "images_background.zip").exists():
            write_omniglot_zip(tmp / "images_background.zip")
            write_omniglot_zip(
                tmp / "images_evaluation.zip", "images_evaluation", {"Atlantean": 3, "Kannada": 3}
            )
        return load_task_source(name, split, data_dir=tmp, cache_dir=tmp / "cache")
    if name == "folder":
        root = tmp / "pictures"
        if not root.exists():
            write_image_folder(root, {f"class{i}": 5 for i in range(10)})
        return load_task_source(name, split, data_dir=root, seed=seed)
    return load_task_source(name, split, seed=seed)


NAMES = ["blobs", "digits", "glyphs", "omniglot", "folder"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sources")
    return {(n, s): _open(n, s, tmp) for n in NAMES for s in SPLITS}


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_episodes_other_seed_others(name, sources):
    source = sources[name, "train"]
    n = min(3, source.num_classes)
    a = EpisodeSampler(source, n, 1, 2, seed=7).sample_batch(3)
    b = EpisodeSampler(source, n, 1, 2, seed=7).sample_batch(3)
    c = EpisodeSampler(source, n, 1, 2, seed=8).sample_batch(3)
    assert torch.equal(a.support_x, b.support_x) and torch.equal(a.query_x, b.query_x)
    assert a.class_names == b.class_names
    assert not torch.equal(a.query_x, c.query_x)


@pytest.mark.parametrize("name", NAMES)
def test_sampler_state_round_trip(name, sources):
    sampler = EpisodeSampler(sources[name, "train"], 2, 1, 1, seed=0)
    state = sampler.get_state()
    first = sampler.sample()
    sampler.set_state(state)
    assert torch.equal(sampler.sample().query_x, first.query_x)


@pytest.mark.parametrize("name", NAMES)
def test_splits_are_disjoint(name, sources):
    names = {split: set(sources[name, split].class_names) for split in SPLITS}
    assert all(names.values())
    assert not names["train"] & names["val"]
    assert not names["train"] & names["test"]
    assert not names["val"] & names["test"]


@pytest.mark.parametrize("name", NAMES)
def test_shapes_dtypes_and_labels(name, sources):
    source = sources[name, "val"]
    n, k, q = min(2, source.num_classes), 1, 1
    episode = EpisodeSampler(source, n, k, q, seed=0).sample()
    shape = tuple(source.input_shape)
    assert episode.support_x.shape == (n * k, *shape) and episode.support_x.dtype == torch.float32
    assert episode.query_x.shape == (n * q, *shape) and episode.query_x.dtype == torch.float32
    assert episode.support_y.dtype == torch.int64 and episode.query_y.dtype == torch.int64
    assert torch.equal(episode.support_y, torch.arange(n).repeat_interleave(k))
    assert torch.equal(episode.query_y, torch.arange(n).repeat_interleave(q))
    assert (episode.n_way, episode.k_shot, episode.q_query) == (n, k, q)
    if len(shape) == 3:
        assert shape[0] in (1, 3) and shape[1] == shape[2]
        assert 0 <= episode.support_x.min() and episode.support_x.max() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_label_i_is_class_names_i(name, sources):
    """Every example labelled i in an episode is an example of class ``class_names[i]``."""
    source = sources[name, "train"]
    n, k, q = min(4, source.num_classes), 2, 2
    episode = EpisodeSampler(source, n, k, q, seed=3).sample()
    assert len(set(episode.class_names)) == n
    for x, y in [(episode.support_x, episode.support_y), (episode.query_x, episode.query_y)]:
        for example, label in zip(x, y.tolist(), strict=True):
            own = source.class_tensor(source.class_names.index(episode.class_names[label]))
            assert (own - example).flatten(1).abs().amax(1).min() < 1e-6
    # support and query never share an example
    for label in range(n):
        support = episode.support_x[episode.support_y == label].flatten(1)
        query = episode.query_x[episode.query_y == label].flatten(1)
        assert torch.cdist(support, query).min() > 0


@pytest.mark.parametrize("name", NAMES)
def test_batch_of_episodes(name, sources):
    source = sources[name, "train"]
    n = min(3, source.num_classes)
    batch = EpisodeSampler(source, n, 2, 1, seed=0).sample_batch(5)
    assert batch.support_x.shape == (5, n * 2, *source.input_shape)
    assert batch.query_y.shape == (5, n)
    assert len(batch) == 5 and len(batch.episodes()) == 5
