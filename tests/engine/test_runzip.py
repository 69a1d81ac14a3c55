"""Run zips: the app's download is the CLI's run directory, and back."""

from __future__ import annotations

import io
import zipfile

import pytest

from metalearn_core.engine import CheckpointError, Trainer, export_run_zip, import_run_zip


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_export_import_round_trip(blobs_config, tmp_path):
    trainer = Trainer(blobs_config)
    trainer.run_tick(max_iterations=4)
    data = export_run_zip(trainer)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sorted(n.split("/")[1] for n in names) == [
        "checkpoint.safetensors", "config.json", "metrics.csv"
    ]  # fmt: skip
    run = import_run_zip(data, tmp_path / "uploaded")
    loaded = Trainer.load(run)
    assert loaded.iteration == 4
    assert loaded.step().loss == trainer.step().loss  # and it continues identically
    again = export_run_zip(run)  # a run directory exports too
    assert Trainer.load(import_run_zip(again, tmp_path / "second")).iteration == 4


def test_a_zip_with_files_at_the_root_is_accepted(blobs_config, tmp_path):
    run = Trainer(blobs_config).save(tmp_path / "run")
    flat = _zip({p.name: p.read_bytes() for p in run.iterdir()})
    assert Trainer.load(import_run_zip(flat, tmp_path / "flat")).iteration == 0


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"run/checkpoint.safetensors": b"x", "run/evil.py": b"x"}, "unexpected file"),
        ({"../checkpoint.safetensors": b"x"}, "one folder"),
        ({"a/b/checkpoint.safetensors": b"x"}, "one folder"),
        ({"run/config.json": b"{}"}, "no checkpoint"),
        ({"run/checkpoint.safetensors": b"garbage"}, "truncated"),
    ],
)
def test_bad_zips_are_refused(files, message, tmp_path):
    with pytest.raises(CheckpointError, match=message):
        import_run_zip(_zip(files), tmp_path / "dest")


def test_not_a_zip_and_non_empty_destination(blobs_config, tmp_path):
    with pytest.raises(CheckpointError, match="not a zip"):
        import_run_zip(b"hello", tmp_path / "dest")
    data = export_run_zip(Trainer(blobs_config))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        import_run_zip(data, tmp_path / "busy")
