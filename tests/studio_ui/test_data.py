"""The app's data helpers: an uploaded zip becomes a path the folder data set reads."""

from __future__ import annotations

from metalearn_core.data import EpisodeSampler, load_task_source
from studio_ui.data import stored_upload
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
