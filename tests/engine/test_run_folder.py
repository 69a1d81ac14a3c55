"""A run folder is saved as one unit: the old run or the new one, never a mix."""

from __future__ import annotations

import csv

import pytest

import metalearn_core.engine.checkpoint as checkpoint
from metalearn_core.engine import Trainer
from metalearn_core.engine.checkpoint import read_checkpoint, write_run_folder


def saved_iterations(run) -> tuple[int, int]:
    """(the checkpoint's iteration, the last iteration in metrics.csv)."""
    payload = read_checkpoint(run / "checkpoint.safetensors")
    with open(run / "metrics.csv") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("iteration")]
    return payload["counters"]["iteration"], max(int(float(r["iteration"])) for r in rows)


def test_a_crash_while_saving_leaves_the_old_run_whole(blobs_config, tmp_path, monkeypatch):
    run = tmp_path / "run"
    trainer = Trainer(blobs_config.replace(val_every=0))
    trainer.run_tick(max_iterations=20)
    trainer.save(run)
    assert saved_iterations(run) == (20, 20)
    trainer.run_tick(max_iterations=3)

    real_open = open

    def crash_after_the_checkpoint(path, *args, **kwargs):
        if str(path).endswith("metrics.csv") and ".new" in str(path):
            raise OSError(28, "No space left on device")  # after the checkpoint was written
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "open", crash_after_the_checkpoint, raising=False)
    with pytest.raises(OSError, match="No space left"):
        trainer.save(run)
    monkeypatch.undo()
    assert saved_iterations(run) == (20, 20)  # not a checkpoint at 23 beside metrics at 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left
    trainer.save(run)
    assert saved_iterations(run) == (23, 23)
    assert Trainer.load(run).iteration == 23


def test_saving_over_a_run_keeps_other_files_and_leaves_nothing_beside_it(blobs_config, tmp_path):
    run = tmp_path / "run"
    trainer = Trainer(blobs_config)
    trainer.save(run)
    (run / "notes.txt").write_text("lesson 3")
    (run / "plots").mkdir()
    (run / "plots" / "a.txt").write_text("a")
    trainer.step()
    trainer.save(run)
    assert (run / "notes.txt").read_text() == "lesson 3" and (run / "plots" / "a.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("exchange", [True, False])
def test_the_swap_works_with_and_without_an_atomic_exchange(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(checkpoint, "_exchange", lambda first, second: False)
    run = tmp_path / "run"
    write_run_folder(run, {"a.txt": b"old", "b.txt": b"old"})
    write_run_folder(run, {"a.txt": b"new", "b.txt": b"new"})
    assert {p.name: p.read_bytes() for p in run.iterdir()} == {"a.txt": b"new", "b.txt": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "run").write_text("not a folder")
    with pytest.raises(ValueError, match="is a file, not a run folder"):
        write_run_folder(tmp_path / "run", {"a.txt": b"x"})
