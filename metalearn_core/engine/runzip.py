"""Moving a run between the app and the command line as one zip file.

>>> data = export_run_zip(trainer)            # or export_run_zip("runs/blobs-protonet")
>>> run_dir = import_run_zip(data, "uploads/run-1")
>>> Trainer.load(run_dir)                     # or: python -m metalearn_core evaluate uploads/run-1
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from metalearn_core.engine.checkpoint import MAX_ZIP_BYTES, unzip_run, zip_run_dir
from metalearn_core.engine.trainer import Trainer


def export_run_zip(run: Trainer | str | os.PathLike[str], name: str | None = None) -> bytes:
    """A zip of the run directory (``config.json``, ``metrics.csv``, checkpoint).

    Args:
        run: a saved run directory, or a live ``Trainer`` (saved to a temporary folder).
        name: the folder name inside the zip; defaults to the run directory's name, or
            ``<dataset>-<algo>-<n_way>w<k_shot>s-it<iteration>`` for a trainer.
    """
    if isinstance(run, Trainer):
        config = run.config
        folder = name or (
            f"{config.dataset}-{config.algo}-{config.n_way}w{config.k_shot}s-it{run.iteration}"
        )
        with tempfile.TemporaryDirectory(prefix="metalearn-run-") as tmp:
            return zip_run_dir(run.save(Path(tmp) / folder), folder)
    return zip_run_dir(Path(run), name)


def import_run_zip(
    data: bytes, dest_dir: str | os.PathLike[str], max_bytes: int = MAX_ZIP_BYTES
) -> Path:
    """Unpack a run zip into ``dest_dir`` (created, must be empty) and verify it.

    Returns ``dest_dir``, ready for ``Trainer.load`` or ``evaluate``. Raises
    ``CheckpointError`` (a ``ValueError``) for a zip that is not a run, unpacks to more
    than ``max_bytes`` or whose checkpoint fails its checks, and ``FileExistsError`` if
    ``dest_dir`` is not empty. A checkpoint's digest catches accidents, not tampering:
    check a run from someone else with ``limits.untrusted_run_config`` before building it.
    """
    return unzip_run(data, dest_dir, max_bytes)
