"""The app's data helpers: an uploaded zip becomes a path the folder data set reads."""

from __future__ import annotations

from metalearn_core.data import EpisodeSampler, load_task_source
from metalearn_core.engine import RunConfig
from studio_ui.data import sources_for, stored_upload
from tests.data.helpers import write_image_folder, zip_folder


def test_an_uploaded_zip_is_stored_once_and_reads_as_a_folder_data_set(tmp_path):
    data = zip_folder(write_image_folder(tmp_path / "mine", {f"c{i}": 4 for i in range(6)}))
    first = stored_upload(data, tmp_path / "uploads")
    again = stored_upload(data, tmp_path / "uploads")
    assert first == again and first.read_bytes() == data
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [first.name]  # no leftovers
    source = load_task_source("folder", "train", data_dir=str(first))
    episode = EpisodeSampler(source, 2, 1, 2, seed=0).sample()
    assert episode.support_x.shape[0] == 2
    assert set(episode.class_names) <= {f"c{i}" for i in range(6)}


def test_different_uploads_get_different_paths(tmp_path):
    one = zip_folder(write_image_folder(tmp_path / "a", {"x": 3, "y": 3, "z": 3}))
    two = zip_folder(write_image_folder(tmp_path / "b", {"x": 3, "y": 3, "w": 3}))
    assert stored_upload(one, tmp_path) != stored_upload(two, tmp_path)


def test_cached_sources_are_keyed_by_every_data_field():
    config = RunConfig(dataset="glyphs", image_size=12)
    first = sources_for(config, ("train",))["train"]
    assert sources_for(config.replace(seed=5, algo="maml"), ("train",))["train"] is first
    assert first.input_shape == (1, 12, 12)
    rotated = sources_for(config.replace(rotations=True), ("train",))["train"]
    assert len(rotated.class_names) == 4 * len(first.class_names)
    larger = sources_for(config.replace(image_size=16), ("train",))["train"]
    assert larger.input_shape == (1, 16, 16)
    other_seed = sources_for(config.replace(data_seed=1), ("train",))["train"]
    assert other_seed is not first
