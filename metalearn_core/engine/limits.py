"""Limits for a shared server, in one place: a ``[classroom]`` section of a TOML file.

Many students train on one teacher's machine. Every way into a run (the Train page's
settings, an uploaded run, a typed data folder) is checked against these limits before
anything is built, so that one student cannot take the memory or the CPU of the
whole class, nor read the server's files.

The file is the one named by ``$METALEARN_CLASSROOM_CONFIG``, else ``classroom.toml``
in the folder the server starts in; with neither, the defaults below (sized for a
2-core classroom server) hold::

    [classroom]
    max_parameters = 5_000_000     # weights of one model
    max_inner_steps = 100          # inner_steps, inner_steps_test, finetune_steps, fce_steps
    max_val_episodes = 1000
    max_history_length = 10_000
    max_runs_per_session = 6       # models one browser session holds (see below)
    max_training_sessions = 2      # sessions training at once: one per core
    training_slice_seconds = 1.5   # a trainer's turn when others wait in line
    max_upload_bytes = 100_000_000
    max_zip_bytes = 500_000_000    # uncompressed, all members of one zip
    max_zip_members = 50_000
    max_image_pixels = 16_777_216
    data_roots = ["/srv/class-data"]   # folders students may name; none by default

>>> limits = load_server_limits()
>>> check_run_config(RunConfig(dataset="blobs", val_episodes=10**6), limits)
ConfigError: val_episodes=1000000 is invalid: this server allows at most 1000 (...)

A session's runs are the models it holds: the Train page's run (1), each learner of
its comparison (2 to 4), the GAN Lab's GAN (1) and the few-shot GAN page's current GAN
(1); the default 6 lets a student keep a run, a four-learner comparison and a GAN.

At most ``max_training_sessions`` sessions train at once (a session's Train, Compare
or GAN Lab Play loop, or its few-shot GAN Meta-train press); the others wait in line, first come first served, and a
session that has trained for ``training_slice_seconds`` while others wait goes to the
back of the line. The default is 2, the cores of a 2-core server: each run trains on
one thread, so two trainers keep both cores busy and nothing waits on a third.

The command line reads no limits unless asked to (``--classroom-limits``): a local
user may train anything their machine holds.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from metalearn_core.data.guards import InputCaps
from metalearn_core.engine.config import ConfigError, RunConfig
from metalearn_core.settings import Allowed
from metalearn_core.words import N_

CONFIG_ENV = "METALEARN_CLASSROOM_CONFIG"
DEFAULT_CONFIG_FILE = "classroom.toml"
SECTION = "classroom"
# hyperparameters that repeat a whole forward and backward pass per unit
INNER_STEP_FIELDS = ("inner_steps", "inner_steps_test", "finetune_steps", "fce_steps")
# a checkpoint holds the weights and the optimiser's state (Adam: two moments per weight)
STATE_COPIES = 4
# a trainer's turn: long enough to amortise a redraw, short enough that a class rotates
MIN_SLICE_SECONDS, MAX_SLICE_SECONDS = 0.1, 60.0


@dataclass(frozen=True)
class ServerLimits:
    """What one student may ask of a shared server; every field has a 2-core default."""

    max_parameters: int = 5_000_000  # weights of one model (Conv4 at width 384 holds ~4M)
    max_inner_steps: int = 100  # each of INNER_STEP_FIELDS
    max_val_episodes: int = 1000  # episodes per validation
    max_history_length: int = 10_000  # points kept per curve (history_limit)
    max_runs_per_session: int = 6  # models one browser session holds (module docstring)
    max_training_sessions: int = 2  # sessions training at the same time (one per core)
    training_slice_seconds: float = 1.5  # a trainer's turn while others wait in line
    max_upload_bytes: int = 100_000_000  # one uploaded file, as sent
    max_zip_bytes: int = 500_000_000  # one zip, all members uncompressed
    max_zip_members: int = 50_000  # files and folders in one zip (Omniglot: ~20,000)
    max_image_pixels: int = 1 << 24  # one image, width x height
    data_roots: tuple[str, ...] = ()  # folders a student may name; none: uploads only

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.name == "data_roots":
                if isinstance(value, str) or not all(isinstance(r, str) for r in value):
                    raise ValueError(f"data_roots={value!r} is invalid: must be a list of paths")
                object.__setattr__(self, "data_roots", tuple(value))
            elif spec.name == "training_slice_seconds":
                if (
                    not isinstance(value, int | float)
                    or isinstance(value, bool)
                    or not MIN_SLICE_SECONDS <= value <= MAX_SLICE_SECONDS
                ):
                    raise ValueError(
                        f"training_slice_seconds={value!r} is invalid: must be a number of "
                        f"seconds in {MIN_SLICE_SECONDS:g}..{MAX_SLICE_SECONDS:g}"
                    )
                object.__setattr__(self, spec.name, float(value))
            elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{spec.name}={value!r} is invalid: must be an integer >= 1")

    def max_run_bytes(self) -> int:
        """The most a run zip may unpack to: its largest allowed weights and optimiser
        state in 8-byte numbers, plus 64 MB for the config, history and metrics."""
        return min(self.max_zip_bytes, STATE_COPIES * self.max_parameters * 8 + (64 << 20))

    def input_caps(self) -> InputCaps:
        """The zip and image caps the data loaders take."""
        return InputCaps(self.max_zip_bytes, self.max_zip_members, self.max_image_pixels)

    @classmethod
    def from_toml(cls, text: str, base: Path | None = None, label: str = "config") -> ServerLimits:
        """The ``[classroom]`` section of a TOML text; relative data roots are taken from
        ``base`` (the file's folder). Unknown keys and bad values raise ``ValueError``."""
        try:
            section = tomllib.loads(text).get(SECTION, {})
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{label} is not valid TOML: {error}") from None
        if not isinstance(section, dict):
            raise ValueError(f"{label}: [{SECTION}] must be a table of name = value")
        known = {spec.name for spec in dataclasses.fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(
                f"{label}: unknown [{SECTION}] setting(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(known))}"
            )
        values = dict(section)
        if "data_roots" in values and isinstance(values["data_roots"], list):
            values["data_roots"] = tuple(
                str((base or Path.cwd()) / Path(root).expanduser())
                if isinstance(root, str)
                else root
                for root in values["data_roots"]
            )
        try:
            return cls(**values)
        except ValueError as error:
            raise ValueError(f"{label}: {error}") from None


def load_server_limits(path: str | os.PathLike[str] | None = None) -> ServerLimits:
    """The server's limits: from ``path``, else ``$METALEARN_CLASSROOM_CONFIG``, else
    ``./classroom.toml`` if it exists, else the defaults."""
    chosen = path if path is not None else os.environ.get(CONFIG_ENV) or None
    if chosen is None:
        if not Path(DEFAULT_CONFIG_FILE).is_file():
            return ServerLimits()
        chosen = DEFAULT_CONFIG_FILE
    file = Path(chosen).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"classroom config {str(file)!r} does not exist")
    text = file.read_text(encoding="utf-8")
    return ServerLimits.from_toml(text, base=file.resolve().parent, label=str(file))


# ----- runs -------------------------------------------------------------------------------
def _over(name: str, value: Any, limit: int, setting: str) -> ConfigError:
    return ConfigError(
        name,
        value,
        Allowed.of(
            N_("this server allows at most {limit} (classroom limit {setting})"),
            limit=f"{limit:,}",
            setting=setting,
        ),
    )


def check_run_config(config: RunConfig, limits: ServerLimits) -> None:
    """Refuse a run the server's limits do not allow, before anything is built.

    Raises:
        ConfigError: naming the field, its value and the limit.
    """
    if config.val_episodes > limits.max_val_episodes:
        raise _over(
            "val_episodes", config.val_episodes, limits.max_val_episodes, "max_val_episodes"
        )
    if config.history_limit > limits.max_history_length:
        raise _over(
            "history_limit", config.history_limit, limits.max_history_length, "max_history_length"
        )
    hparams = {**_default_hparams(config.algo), **config.hparams}
    for name in INNER_STEP_FIELDS:
        value = hparams.get(name)
        if isinstance(value, int) and value > limits.max_inner_steps:
            raise _over(f"hparams.{name}", value, limits.max_inner_steps, "max_inner_steps")
    parameters = count_parameters(config)
    if parameters > limits.max_parameters:
        raise ConfigError(
            N_("model parameters"),
            parameters,
            Allowed.of(
                N_(
                    "this server allows at most {limit} (classroom limit {setting}); "
                    "choose a smaller width or smaller hyperparameters"
                ),
                limit=f"{limits.max_parameters:,}",
                setting="max_parameters",
            ),
        )


def _default_hparams(algo: str) -> dict[str, Any]:
    from metalearn_core.algorithms import ALGORITHMS

    return dataclasses.asdict(ALGORITHMS[algo].hparams_class())


def count_parameters(config: RunConfig) -> int:
    """The number of weights the config's model would have, counted without allocating
    them (the model is built on PyTorch's "meta" device, which holds shapes only).

    A transfer baseline's classification head, sized by the training classes, is built
    later and is not counted here (its regression head is); a checkpoint's head is checked by ``check_learner_state``.
    """
    from metalearn_core.algorithms import make_learner
    from metalearn_core.data import dataset_info
    from metalearn_core.spec import ProblemSpec

    input_shape = tuple(dataset_info(config.dataset).input_shape(config.image_size))
    backbone = config.resolved_backbone(input_shape)
    spec = ProblemSpec(
        task_kind=dataset_info(config.dataset).task_kind,
        input_shape=input_shape,
        n_way=config.n_way,
        backbone=backbone,
        width=config.resolved_width(backbone),
        embedding_2d=config.embedding_2d,
    )
    meta = torch.device("meta")
    with torch.device(meta):
        learner = make_learner(config.algo, spec, dict(config.hparams), meta)
    modules = [value for value in vars(learner).values() if isinstance(value, nn.Module)]
    weights = {id(p): p.numel() for module in modules for p in module.parameters()}
    return sum(weights.values())


def _tensors(tree: Any) -> Iterable[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        yield tree
    elif isinstance(tree, Mapping):
        for value in tree.values():
            yield from _tensors(value)
    elif isinstance(tree, list | tuple):
        for value in tree:
            yield from _tensors(value)


def check_learner_state(state: Any, limits: ServerLimits) -> None:
    """Refuse a checkpoint's learner state that would build or hold too large a model.

    Every tensor's shape is checked as announced (a (2,000,000, 0) weight holds nothing
    but would size a head of two million classes), then the numbers held in all.

    Raises:
        ValueError: naming the size and the limit.
    """
    total = 0
    for tensor in _tensors(state):
        announced = math.prod(max(int(size), 1) for size in tensor.shape)
        if announced > limits.max_parameters:
            raise ValueError(
                f"a saved tensor of shape {tuple(tensor.shape)} announces {announced:,} "
                f"weights; this server allows at most {limits.max_parameters:,} in a model "
                "(classroom limit max_parameters)"
            )
        total += tensor.numel()
    if total > STATE_COPIES * limits.max_parameters:
        raise ValueError(
            f"the saved model and optimiser hold {total:,} numbers; this server allows at "
            f"most {STATE_COPIES * limits.max_parameters:,} ({STATE_COPIES} x the classroom "
            "limit max_parameters)"
        )


def untrusted_run_config(
    payload: Mapping[str, Any],
    limits: ServerLimits,
    serve_data_dir: Callable[[str | None], str | None],
) -> RunConfig:
    """The config of a run from someone else (an uploaded zip), made fit to run here.

    Its checkpoint's SHA-256 proves nothing about who wrote it, so before anything is
    built: ``threads`` is dropped (it would set the whole process's torch threads),
    ``device`` is the CPU, ``data_dir`` goes through ``serve_data_dir`` (which refuses a
    folder this server does not serve), and the config and the saved weights are
    checked against ``limits``.

    Raises:
        ValueError: a config or weights past the limits, or a folder not served here.
    """
    from metalearn_core.engine.checkpoint import CheckpointError

    values = payload.get("config")
    if not isinstance(values, dict):
        raise CheckpointError("checkpoint holds no run config")
    safe = {key: value for key, value in values.items() if key not in ("threads", "data_dir")}
    config = RunConfig.from_dict({**safe, "device": "cpu"})
    data_dir = values.get("data_dir")
    if data_dir is not None and not isinstance(data_dir, str):
        raise ConfigError("data_dir", type(data_dir).__name__, "must be a path string or null")
    config = config.replace(data_dir=serve_data_dir(data_dir))
    check_run_config(config, limits)
    check_learner_state(payload.get("learner"), limits)
    return config


# ----- data folders -------------------------------------------------------------------------
class DataFolderRefused(ValueError):
    """A data folder outside the folders this server serves (the message names neither)."""


def served_data_dir(
    path: str | os.PathLike[str] | None,
    roots: Iterable[str | os.PathLike[str]],
    also: Iterable[str | os.PathLike[str]] = (),
) -> str | None:
    """``path`` resolved inside one of the teacher's ``roots`` or the folders in ``also``
    (a session's own uploads), or ``DataFolderRefused``.

    A relative path is looked for under each of ``roots`` in turn. Links and ``..`` are resolved
    first, so neither leads out of a root. The message names neither the path nor
    anything on the server: a student learns only that the folder is not served.
    """
    if path is None:
        return None
    text = os.fspath(path).strip()
    if not text:
        return None
    resolved_roots = [Path(root).expanduser().resolve() for root in roots]
    allowed = resolved_roots + [Path(folder).expanduser().resolve() for folder in also]
    given = Path(text)
    candidates = [given] if given.is_absolute() else [root / given for root in resolved_roots]
    for candidate in candidates:
        resolved = candidate.resolve()
        if any(resolved == root or resolved.is_relative_to(root) for root in allowed):
            return str(resolved)
    where = (
        "This server reads data only from the folders its teacher lists in the classroom "
        "config, and none is listed: upload a zip of class folders instead"
        if not resolved_roots
        else "This server reads data only from the folders its teacher lists in the "
        "classroom config; name a folder inside one of them"
    )
    raise DataFolderRefused(f"that data folder is not served here. {where}")
