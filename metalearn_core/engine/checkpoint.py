"""Checkpoints and run directories, loaded safely.

A run directory holds::

    RUN_DIR/config.json             the RunConfig (hyperparameters written out in full)
    RUN_DIR/metrics.csv             the bounded history, one row per point
    RUN_DIR/checkpoint.safetensors  model, optimiser, RNG states, history, config

The checkpoint is a single ``safetensors`` file: tensors in the body, and in its
metadata a format marker, a version, a JSON description of everything that is not a
tensor (the structure of ``learner.state_dict()``, counters, history, config) and a
SHA-256 digest over all of it. Loading never unpickles anything; it checks the marker
(a foreign file is rejected), lets safetensors check the layout (a truncated file is
rejected) and recomputes the digest (a damaged file is rejected). The digest guards
against accidents (a truncated copy, a flipped bit, a hand edit), not tampering: anyone
can recompute it, so a run from someone else is checked against the server's limits
(``engine.limits``) before anything is built from it. A run's three files are written
as one unit (``write_run_folder``: a new folder, flushed, swapped into place), so a
crash leaves the old run or the new one, never files of two different moments.

A run directory travels between the app and the command line as a zip
(``export_run_zip`` / ``import_run_zip``).

Reading a run back: ``read_saved_run`` checks a checkpoint's run state (what
``Trainer.load`` restores to continue the run), ``load_learner`` rebuilds just the trained
learner (what evaluation needs, without opening any data).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import io
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from metalearn_core.algorithms.base import MetaLearner
from metalearn_core.data.guards import InputCaps, check_zip_directory
from metalearn_core.engine.build import build_learner, resolve_device
from metalearn_core.engine.config import RunConfig
from metalearn_core.spec import ProblemSpec

logger = logging.getLogger(__name__)

FORMAT_MARKER = "metalearn-studio/checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
CHECKPOINT_FILE = "checkpoint.safetensors"
RUN_FILES = (CONFIG_FILE, METRICS_FILE, CHECKPOINT_FILE)
MAX_ZIP_BYTES = 1 << 30  # 1 GiB uncompressed: far above any run, far below a zip bomb
RUN_ZIP_MEMBERS = 16  # the run's files and folders, with room for a zip tool's extras


class CheckpointError(ValueError):
    """A checkpoint that is missing, truncated, edited, or not one of ours."""


# ----- state trees <-> (JSON structure, flat tensors) -------------------------------------
def flatten_state(tree: Any) -> tuple[Any, dict[str, torch.Tensor]]:
    """Split a nested state (dicts, lists, tuples, tensors, numbers, strings) in two.

    Returns a JSON-able structure in which every container is tagged (``{"d": [[key,
    value], ...]}``, ``{"l": [...]}``, ``{"u": [...]}`` for tuples) and every tensor is
    ``{"t": name}``, plus the tensors by name (CPU, contiguous, unshared). Dict keys
    keep their type (optimiser states use integer keys).
    """
    tensors: dict[str, torch.Tensor] = {}

    def encode(node: Any) -> Any:
        if isinstance(node, torch.Tensor):
            name = f"t{len(tensors)}"
            tensors[name] = node.detach().to("cpu", copy=True).contiguous()
            return {"t": name}
        if isinstance(node, Mapping):
            for key in node:
                if not isinstance(key, str | int) or isinstance(key, bool):
                    raise ValueError(f"state key {key!r} must be a string or an integer")
            return {"d": [[key, encode(value)] for key, value in node.items()]}
        if isinstance(node, tuple):
            return {"u": [encode(value) for value in node]}
        if isinstance(node, list):
            return {"l": [encode(value) for value in node]}
        if node is None or isinstance(node, bool | int | float | str):
            return node
        raise ValueError(f"cannot checkpoint a value of type {type(node).__name__}: {node!r}")

    return encode(tree), tensors


def unflatten_state(structure: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Inverse of ``flatten_state``."""
    if isinstance(structure, dict):
        if "t" in structure:
            name = structure["t"]
            if name not in tensors:
                raise CheckpointError(
                    f"checkpoint refers to tensor {name!r}, which it does not hold"
                )
            return tensors[name]
        if "d" in structure:
            return {key: unflatten_state(value, tensors) for key, value in structure["d"]}
        if "u" in structure:
            return tuple(unflatten_state(value, tensors) for value in structure["u"])
        if "l" in structure:
            return [unflatten_state(value, tensors) for value in structure["l"]]
        raise CheckpointError(f"unknown node in checkpoint structure: {sorted(structure)}")
    return structure


def clone_state(tree: Any) -> Any:
    """A deep copy of a state tree whose tensors no longer share memory with the live ones."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone()
    if isinstance(tree, Mapping):
        return {key: clone_state(value) for key, value in tree.items()}
    if isinstance(tree, tuple):
        return tuple(clone_state(value) for value in tree)
    if isinstance(tree, list):
        return [clone_state(value) for value in tree]
    return tree


def _floating_tensors(tree: Any) -> list[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return [tree] if tree.is_floating_point() else []
    if isinstance(tree, Mapping):
        return [t for value in tree.values() for t in _floating_tensors(value)]
    if isinstance(tree, list | tuple):
        return [t for value in tree for t in _floating_tensors(value)]
    return []


def state_is_finite(tree: Any) -> bool:
    """True when every floating-point tensor in the tree holds only finite numbers."""
    by_device: dict[torch.device, list[torch.Tensor]] = {}
    for tensor in _floating_tensors(tree):
        by_device.setdefault(tensor.device, []).append(torch.isfinite(tensor).all())
    # one read per device (Adam keeps its step counts on the CPU even for GPU weights),
    # not one GPU sync per tensor
    return all(bool(torch.stack(flags).all()) for flags in by_device.values())


# ----- the checkpoint file ------------------------------------------------------------------
def _digest(state_json: str, tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over the JSON state and every tensor's name, dtype, shape and bytes."""
    sha = hashlib.sha256(state_json.encode("utf-8"))
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        sha.update(f"\n{name}:{tensor.dtype}:{tuple(tensor.shape)}\n".encode())
        sha.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()


def encode_checkpoint(payload: dict[str, Any]) -> bytes:
    """Serialise a checkpoint payload (nested state with tensors) to safetensors bytes."""
    structure, tensors = flatten_state(payload)
    state_json = json.dumps(structure, separators=(",", ":"), allow_nan=True)
    metadata = {
        "format": FORMAT_MARKER,
        "version": str(FORMAT_VERSION),
        "state": state_json,
        "sha256": _digest(state_json, tensors),
    }
    return save_safetensors(tensors, metadata=metadata)


def _read_metadata(data: bytes, label: str) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors header, parsed by hand with bounds checks."""
    if len(data) < 8:
        raise CheckpointError(f"{label} is truncated: {len(data)} bytes, not even a header")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > len(data) - 8:
        raise CheckpointError(
            f"{label} is truncated or not a safetensors file: its header claims {header_size} "
            f"bytes but only {len(data) - 8} follow"
        )
    try:
        header = json.loads(data[8 : 8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise CheckpointError(f"{label} is not a safetensors file (unreadable header)") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_MARKER:
        raise CheckpointError(
            f"{label} is not a MetaLearn Studio checkpoint (format marker {FORMAT_MARKER!r} missing)"
        )
    return metadata


def decode_checkpoint(data: bytes, label: str = "checkpoint") -> dict[str, Any]:
    """Parse and verify checkpoint bytes; raise ``CheckpointError`` on any mismatch."""
    metadata = _read_metadata(data, label)
    if metadata.get("version") != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{label} has format version {metadata.get('version')!r}; this version reads {FORMAT_VERSION}"
        )
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{label} is truncated or corrupted: {error}") from None
    state_json = metadata.get("state", "")
    if _digest(state_json, tensors) != metadata.get("sha256"):
        raise CheckpointError(
            f"{label} failed its SHA-256 check: the file was modified or damaged after it was written"
        )
    try:
        return unflatten_state(json.loads(state_json), tensors)
    except RecursionError:  # a crafted state nested thousands deep
        raise CheckpointError(f"{label}'s state is nested too deeply to be a run") from None


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_run_folder(run_dir: str | os.PathLike[str], files: Mapping[str, bytes]) -> Path:
    """Write a run's files as one unit: a new folder beside ``run_dir``, each file flushed
    to disk, then swapped into place, so a reader sees the old run or the new one, never
    a checkpoint of one moment beside the metrics of another.

    Other entries of an existing ``run_dir`` (a user's notes) are carried over (hard
    links where possible). On Linux the swap is one atomic ``renameat2`` exchange;
    elsewhere the old folder is renamed aside first, so a crash at that instant leaves
    the old run complete under a ``.<name>.*.old`` name beside it.
    """
    run = Path(run_dir)
    if run.exists() and not run.is_dir():
        raise ValueError(f"{str(run)!r} is a file, not a run folder")
    run.parent.mkdir(parents=True, exist_ok=True)
    staging = run.parent / f".{run.name}.{uuid.uuid4().hex[:12]}.new"
    staging.mkdir()  # the umask's permissions, like any new folder
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        if run.is_dir():
            for entry in run.iterdir():
                if entry.name not in files:
                    _carry_over(entry, staging / entry.name)
            if _exchange(staging, run):
                shutil.rmtree(staging, ignore_errors=True)  # now the old run
            else:
                aside = run.parent / f".{run.name}.{uuid.uuid4().hex[:12]}.old"
                os.rename(run, aside)
                os.rename(staging, run)
                shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(staging, run)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_folder(run.parent)
    return run


def _carry_over(source: Path, target: Path) -> None:
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True)
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is unavailable."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a file system without it
        return False
    raise OSError(code, f"cannot swap {str(second)!r} into place: {os.strerror(code)}")


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    atomic_write(Path(path), encode_checkpoint(payload))


def read_checkpoint(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    return decode_checkpoint(path.read_bytes(), label=str(path))


def checkpoint_path(run_dir: str | os.PathLike[str]) -> Path:
    """The checkpoint inside a run directory; ``FileNotFoundError`` naming it if absent."""
    run = Path(run_dir)
    if not run.is_dir():
        raise FileNotFoundError(f"run directory {str(run)!r} does not exist")
    path = run / CHECKPOINT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{str(run)!r} holds no {CHECKPOINT_FILE}: is it a run directory?")
    return path


# ----- zip transport -------------------------------------------------------------------------
def zip_run_dir(run_dir: Path, folder_name: str | None = None) -> bytes:
    """The run directory's files in a zip, under one folder (the run's name)."""
    run = Path(run_dir)
    checkpoint_path(run)  # must be a run
    folder = folder_name or run.resolve().name or "run"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in RUN_FILES:
            if (run / name).is_file():
                archive.write(run / name, arcname=f"{folder}/{name}")
    return buffer.getvalue()


def unzip_run(
    data: bytes, dest_dir: str | os.PathLike[str], max_bytes: int = MAX_ZIP_BYTES
) -> Path:
    """Extract a run zip into ``dest_dir`` (created; must be empty) and verify its checkpoint.

    Accepts the run files at the zip's root or inside one folder. Anything else (other
    files, paths leaving the folder, more than ``max_bytes`` unpacked) is refused before
    writing; a member that inflates past its announced size fails its CRC check.
    """
    try:
        # a run zip holds three files (and maybe their folder): a long file list is
        # refused before it is parsed
        check_zip_directory(io.BytesIO(data), "the run zip", InputCaps(max_bytes, RUN_ZIP_MEMBERS))
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CheckpointError("the upload is not a zip file") from None
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    with archive:
        members = _run_members(archive, max_bytes)
        dest = Path(dest_dir)
        if dest.exists() and any(dest.iterdir()):
            raise FileExistsError(f"{str(dest)!r} is not empty; choose a new folder for the run")
        dest.mkdir(parents=True, exist_ok=True)
        for name, info in members.items():
            try:
                atomic_write(dest / name, archive.read(info))
            except (zipfile.BadZipFile, zlib.error) as error:  # a lying or damaged member
                raise CheckpointError(f"the run zip is damaged: {error}") from None
    read_checkpoint(dest / CHECKPOINT_FILE)  # refuse a damaged run now, not at first use
    return dest


def _run_members(archive: zipfile.ZipFile, max_bytes: int) -> dict[str, zipfile.ZipInfo]:
    files = [info for info in archive.infolist() if not info.is_dir()]
    prefixes = {info.filename.rsplit("/", 1)[0] if "/" in info.filename else "" for info in files}
    if len(prefixes) != 1 or ".." in next(iter(prefixes), "") or "/" in next(iter(prefixes), ""):
        raise CheckpointError(
            "a run zip holds config.json, metrics.csv and checkpoint.safetensors, at its root "
            f"or in one folder; this one holds {sorted(info.filename for info in files)[:6]}"
        )
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in files:
        name = info.filename.rsplit("/", 1)[-1]
        if name not in RUN_FILES:
            raise CheckpointError(
                f"unexpected file {info.filename!r} in run zip; allowed: {', '.join(RUN_FILES)}"
            )
        total += info.file_size
        members[name] = info
    if total > max_bytes:
        raise CheckpointError(
            f"run zip unpacks to {total:,} bytes, more than the {max_bytes:,} allowed"
        )
    if CHECKPOINT_FILE not in members:
        raise CheckpointError(f"run zip holds no {CHECKPOINT_FILE}")
    return members


# ----- saved runs: resuming and loading ------------------------------------------------------
@dataclass(frozen=True)
class SavedRun:
    """A checkpoint's run, its counters checked: what ``Trainer.load`` restores so that
    the run continues exactly as if it had never stopped."""

    config: RunConfig  # with the machine-specific overrides applied
    learner_state: dict[str, Any]  # model + optimiser, for ``MetaLearner.load_state_dict``
    sampler_state: torch.Tensor  # the training EpisodeSampler's generator
    rng_state: dict[str, torch.Tensor]  # the run's own random stream, by device type
    history_state: dict[str, Any]  # for ``History.from_state``
    iteration: int
    episodes_seen: int
    train_seconds: float
    elapsed_seconds: float
    divergence: str | None  # the message of a run that stopped diverging
    base_lrs: list[float] | None = None  # the optimiser's rates under a schedule


def config_from_payload(
    payload: dict[str, Any], *, device: str | None = None, data_dir: str | None = None
) -> RunConfig:
    """The run's config from a checkpoint, with machine-specific overrides."""
    try:
        config = RunConfig.from_dict(payload["config"])
    except KeyError:
        raise CheckpointError("checkpoint holds no run config") from None
    changes: dict[str, Any] = {}
    if data_dir is not None:
        changes["data_dir"] = data_dir
    if device is not None:
        changes["device"] = device
    elif config.device.startswith("cuda") and not torch.cuda.is_available():
        logger.info("run was saved on %s; no CUDA here, so it opens on the CPU", config.device)
        changes["device"] = "auto"
    return config.replace(**changes) if changes else config


def saved_run_from_payload(
    payload: dict[str, Any], *, device: str | None = None, data_dir: str | None = None
) -> SavedRun:
    """``read_saved_run`` on an already-read checkpoint payload."""
    config = config_from_payload(payload, device=device, data_dir=data_dir)
    try:
        counters = payload["counters"]
        saved = SavedRun(
            config=config,
            learner_state=payload["learner"],
            sampler_state=payload["sampler"],
            rng_state=dict(payload["rng"]),
            history_state=payload["history"],
            iteration=int(counters["iteration"]),
            episodes_seen=int(counters["episodes_seen"]),
            train_seconds=float(counters["train_seconds"]),
            elapsed_seconds=float(counters["elapsed_seconds"]),
            divergence=counters["divergence"],
            base_lrs=(  # absent in runs saved before schedules, or never scheduled
                None
                if counters.get("base_lrs") is None
                else [float(lr) for lr in counters["base_lrs"]]
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint does not match its run: {error!r}") from None
    if (
        saved.iteration < 0
        or saved.episodes_seen < 0
        or not (saved.divergence is None or isinstance(saved.divergence, str))
    ):
        raise CheckpointError("checkpoint's counters are not those of a run")
    return saved


def read_saved_run(
    run_dir: str | os.PathLike[str], *, device: str | None = None, data_dir: str | None = None
) -> SavedRun:
    """A run directory's checkpoint, checked, for resuming.

    ``device`` and ``data_dir`` override the machine-specific settings (a run saved on
    CUDA opens on this machine's ``"auto"`` device when CUDA is missing here).
    """
    payload = read_checkpoint(checkpoint_path(run_dir))
    return saved_run_from_payload(payload, device=device, data_dir=data_dir)


def spec_from_payload(payload: dict[str, Any]) -> ProblemSpec:
    """The problem the checkpoint's learner was built for."""
    try:
        spec_values = dict(payload["spec"])
        spec_values["input_shape"] = tuple(spec_values["input_shape"])
        return ProblemSpec(**spec_values)
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"checkpoint holds no valid problem spec: {error}") from None


def load_learner(
    run_dir: str | os.PathLike[str], *, device: str | None = None
) -> tuple[RunConfig, MetaLearner]:
    """A saved run's config and trained learner, without opening any data split.

    This is what evaluation needs: the learner is rebuilt from the problem spec stored in
    the checkpoint, then its state (model + optimiser) is loaded.
    """
    return learner_from_payload(read_checkpoint(checkpoint_path(run_dir)), device=device)


def learner_from_payload(
    payload: dict[str, Any], *, device: str | None = None
) -> tuple[RunConfig, MetaLearner]:
    """``load_learner`` on an already-read checkpoint payload (in eval mode)."""
    config = config_from_payload(payload, device=device)
    spec = spec_from_payload(payload)
    learner = build_learner(config, spec, resolve_device(config.device))
    try:
        learner.load_state_dict(payload["learner"])
    except (KeyError, TypeError, RuntimeError) as error:
        raise CheckpointError(f"checkpoint does not match {config.algo}: {error}") from None
    learner.eval()
    return config, learner
