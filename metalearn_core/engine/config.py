"""``RunConfig``: everything that defines one training run, validated on construction.

The app and the command line build runs the same way: a ``RunConfig`` (from widgets,
flags, or a JSON/YAML file) handed to ``Trainer``. Every invalid value raises
``ConfigError`` (a ``ValueError``) whose message names the field, the value and what
is allowed, e.g. ``n_way=0 is invalid: must be an integer >= 1``.

>>> config = RunConfig(dataset="blobs", algo="protonet", n_way=5, k_shot=1, q_query=5)
>>> RunConfig.from_json(config.to_json()) == config
True

Checks that need the data itself (``n_way`` larger than a split's classes, ``k_shot +
q_query`` larger than the smallest class) run when the ``Trainer`` opens the splits and
raise ``ConfigError`` too.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

BACKBONES = ("auto", "conv4", "mlp")
DEVICE_CHOICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("constant", "cosine")
MAX_SEED = 2**63 - 1
# episodes per outer step (the papers: 4 to 32); far beyond, one step would take minutes
MAX_META_BATCH = 1024


class ConfigError(ValueError):
    """An invalid run setting; the message names the field, the value and what is allowed."""

    def __init__(self, field_name: str, value: Any, allowed: str):
        self.field_name, self.value, self.allowed = field_name, value, allowed
        super().__init__(f"{field_name}={value!r} is invalid: {allowed}")


@dataclass(frozen=True)
class RunConfig:
    """One training run: data, algorithm, episode shape, model, hyperparameters, seed.

    ``hparams`` holds only the algorithm hyperparameters to override; the rest keep the
    algorithm's defaults for the task kind (``make_learner`` applies them; a saved run's
    ``config.json`` lists them all). Fields:

    - ``dataset`` / ``algo``: names from ``metalearn_core.data.DATASETS`` / ``ALGORITHMS``.
    - ``n_way``, ``k_shot``, ``q_query``: training episode shape (regression: ``n_way == 1``).
    - ``backbone``: ``"conv4"``, ``"mlp"`` or ``"auto"`` (conv4 for images, MLP otherwise);
      ``width``: filters / hidden units, ``None`` for the backbone's default (64 / 40);
      ``embedding_2d``: end the backbone with a 2-D layer that pages draw directly.
    - ``seed``: model initialisation, training episodes and the algorithm's randomness;
      ``data_seed``: how synthetic data sets are generated and split (keep it fixed to
      compare runs on the same test classes).
    - ``device``: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    - ``data_dir``, ``image_size``, ``rotations``: passed to ``load_task_source``
      (``image_size`` None: the data set's own default size).
    - ``val_every``: validate every this many meta-iterations (0 = never) on
      ``val_episodes`` fixed validation episodes.
    - ``history_limit``: most points kept per history curve (older ones are averaged).
    - ``threads``: ``torch.set_num_threads`` for the process (``None`` leaves it alone).
    - ``episodes`` / ``minutes``: optional training budget, used by the command line.
    - ``lr_schedule``: ``"constant"`` keeps the algorithm's outer learning rate(s);
      ``"cosine"`` anneals them to 0 by a cosine over the budget (needs one).
    """

    dataset: str = "glyphs"
    algo: str = "protonet"
    n_way: int = 5
    k_shot: int = 1
    q_query: int = 5
    backbone: str = "auto"
    width: int | None = None
    embedding_2d: bool = False
    hparams: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    data_seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    image_size: int | None = None
    rotations: bool = False
    val_every: int = 50
    val_episodes: int = 50
    history_limit: int = 1000
    threads: int | None = None
    episodes: int | None = None
    minutes: float | None = None
    lr_schedule: str = "constant"

    def __post_init__(self) -> None:
        _check_types(self)
        _check_ranges(self)
        _check_registries(self)
        # A private copy with normalised values, so later edits to the caller's dict
        # cannot change a validated config.
        object.__setattr__(self, "hparams", _check_hparams(self.algo, self.hparams))

    def __hash__(self) -> int:  # the dict field rules out the generated hash
        return hash(self.to_json())

    # ----- construction and serialisation -------------------------------------------
    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        """Build from plain values (parsed JSON/YAML, CLI flags); unknown keys are errors."""
        if not isinstance(values, dict):
            raise ConfigError("config", type(values).__name__, "must be a mapping of field: value")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                raise ConfigError(
                    key, values[key], f"unknown field; allowed: {', '.join(sorted(known))}"
                )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["hparams"] = dict(self.hparams)
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError("config", text[:40], f"not valid JSON ({error})") from None
        return cls.from_dict(values)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> RunConfig:
        try:
            values = yaml.load(text, Loader=YAMLLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as error:
            message = " ".join(str(error).split())  # pyyaml's caret block, on one line
            raise ConfigError("config", text[:40], f"not valid YAML ({message})") from None
        return cls.from_dict(values if values is not None else {})

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ----- derived values -------------------------------------------------------------
    def resolved_backbone(self, input_shape: tuple[int, ...]) -> str:
        """``backbone`` with ``"auto"`` resolved: conv4 for images (C, H, W), MLP otherwise."""
        if self.backbone != "auto":
            return self.backbone
        return "conv4" if len(input_shape) == 3 else "mlp"

    def resolved_width(self, backbone: str) -> int:
        from metalearn_core.models import DEFAULT_WIDTHS

        return self.width if self.width is not None else DEFAULT_WIDTHS[backbone]


class YAMLLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-3`` as a number as YAML 1.2 does (1.1 wants
    ``1.0e-3`` and reads ``1e-3`` as a string, which would refuse a learning rate)."""


YAMLLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_config_file(path: str) -> RunConfig:
    """Read a JSON (``.json``) or YAML (anything else) run configuration."""
    file = Path(path)
    if file.is_dir():
        raise ValueError(f"config file {str(file)!r} is a folder, not a file")
    if not file.is_file():
        raise FileNotFoundError(f"config file {str(file)!r} does not exist")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"config file {str(file)!r} is not UTF-8 text") from None
    return (
        RunConfig.from_json(text) if file.suffix.lower() == ".json" else RunConfig.from_yaml(text)
    )


# ----- validation ------------------------------------------------------------------------
_INT_FIELDS = (
    "n_way", "k_shot", "q_query", "seed", "data_seed", "val_every", "val_episodes",
    "history_limit",
)  # fmt: skip
_OPTIONAL_INT_FIELDS = ("width", "threads", "episodes", "image_size")
_BOOL_FIELDS = ("embedding_2d", "rotations")
_STR_FIELDS = ("dataset", "algo", "backbone", "device", "lr_schedule")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_types(config: RunConfig) -> None:
    for name in _INT_FIELDS:
        if not _is_int(getattr(config, name)):
            raise ConfigError(name, getattr(config, name), "must be an integer")
    for name in _OPTIONAL_INT_FIELDS:
        value = getattr(config, name)
        if value is not None and not _is_int(value):
            raise ConfigError(name, value, "must be an integer or null")
    for name in _BOOL_FIELDS:
        if not isinstance(getattr(config, name), bool):
            raise ConfigError(name, getattr(config, name), "must be true or false")
    for name in _STR_FIELDS:
        if not isinstance(getattr(config, name), str):
            raise ConfigError(name, getattr(config, name), "must be a string")
    if config.data_dir is not None and not isinstance(config.data_dir, str):
        raise ConfigError("data_dir", config.data_dir, "must be a path string or null")
    if not isinstance(config.hparams, dict):
        raise ConfigError("hparams", config.hparams, "must be a mapping of name: value")
    if config.minutes is not None and not _is_number(config.minutes):
        raise ConfigError("minutes", config.minutes, "must be a number or null")


def _check_at_least(config: RunConfig, name: str, low: int, high: int | None = None) -> None:
    value = getattr(config, name)
    if value is None:
        return
    if value < low or (high is not None and value > high):
        allowed = f"must be an integer >= {low}" if high is None else f"must be in {low}..{high}"
        raise ConfigError(name, value, allowed)


def _check_ranges(config: RunConfig) -> None:
    for name in ("n_way", "k_shot", "q_query", "val_episodes"):
        _check_at_least(config, name, 1)
    _check_at_least(config, "val_every", 0)
    _check_at_least(config, "seed", 0, MAX_SEED)
    _check_at_least(config, "data_seed", 0, MAX_SEED)
    _check_at_least(config, "image_size", 4, 256)
    _check_at_least(config, "history_limit", 10, 1_000_000)
    _check_at_least(config, "width", 1, 4096)
    _check_at_least(config, "threads", 1, 1024)
    _check_at_least(config, "episodes", 1)
    if config.minutes is not None and not (math.isfinite(config.minutes) and config.minutes > 0):
        raise ConfigError("minutes", config.minutes, "must be a finite number > 0")
    if config.lr_schedule not in LR_SCHEDULES:
        raise ConfigError(
            "lr_schedule", config.lr_schedule, f"must be one of {', '.join(LR_SCHEDULES)}"
        )
    if config.lr_schedule == "cosine" and config.episodes is None and config.minutes is None:
        raise ConfigError(
            "lr_schedule", "cosine", "anneals over the budget: give episodes or minutes too"
        )
    if config.backbone not in BACKBONES:
        raise ConfigError("backbone", config.backbone, f"must be one of {', '.join(BACKBONES)}")
    if config.device not in DEVICE_CHOICES and not config.device.startswith("cuda:"):
        raise ConfigError(
            "device", config.device, f"must be one of {', '.join(DEVICE_CHOICES)} (or cuda:N)"
        )


def _check_registries(config: RunConfig) -> None:
    from metalearn_core.algorithms import ALGORITHMS
    from metalearn_core.data import DATASETS

    if config.dataset not in DATASETS:
        raise ConfigError(
            "dataset", config.dataset, f"must be one of {', '.join(sorted(DATASETS))}"
        )
    if config.algo not in ALGORITHMS:
        raise ConfigError("algo", config.algo, f"must be one of {', '.join(sorted(ALGORITHMS))}")
    task_kind = dataset_task_kind(config.dataset)
    learner_class = ALGORITHMS[config.algo]
    if task_kind is not None and task_kind not in learner_class.task_kinds:
        supported = [
            name for name, cls in sorted(ALGORITHMS.items()) if task_kind in cls.task_kinds
        ]
        raise ConfigError(
            "algo",
            config.algo,
            f"{config.dataset} is a {task_kind} data set; use one of {', '.join(supported)}",
        )
    if task_kind == "regression" and config.n_way != 1:
        raise ConfigError(
            "n_way", config.n_way, f"{config.dataset} is a regression data set: must be 1"
        )
    if not learner_class.uses_backbone:
        _check_no_backbone_settings(config)


def _check_no_backbone_settings(config: RunConfig) -> None:
    """A learner with its own network would ignore these: say so instead."""
    why = f"{config.algo} has its own network, sized by its hyperparameters (e.g. hidden)"
    if config.width is not None:
        raise ConfigError("width", config.width, f"must be left unset: {why}")
    if config.embedding_2d:
        raise ConfigError("embedding_2d", True, f"must be False: {why}")
    if config.backbone not in ("auto", "mlp"):
        raise ConfigError("backbone", config.backbone, f"must be 'auto': {why}")


def dataset_task_kind(name: str) -> str | None:
    """``"classification"`` / ``"regression"`` from the data registry, or None if it doesn't say."""
    from metalearn_core import data

    info_fn = getattr(data, "dataset_info", None)
    if info_fn is None:
        return None
    info = info_fn(name)
    kind = info.get("task_kind") if isinstance(info, dict) else getattr(info, "task_kind", None)
    return kind


def _algorithm_class(algo: str) -> Any:
    from metalearn_core.algorithms import ALGORITHMS

    return ALGORITHMS[algo]


def _check_hparams(algo: str, given: dict[str, Any]) -> dict[str, Any]:
    """Normalise hyperparameter overrides against the algorithm's dataclass, field by field."""
    hparams_class = _algorithm_class(algo).hparams_class
    hints = typing.get_type_hints(hparams_class)
    fields = {f.name: f for f in dataclasses.fields(hparams_class)}
    checked: dict[str, Any] = {}
    for name, value in given.items():
        label = f"hparams.{name}"
        if name not in fields:
            raise ConfigError(label, value, f"unknown for {algo}; allowed: {', '.join(fields)}")
        checked[name] = _coerce(label, value, hints.get(name, Any))
        _check_hparam_range(label, name, checked[name])
    try:
        hparams_class(**checked)
    except (TypeError, ValueError) as error:
        raise ConfigError("hparams", given, str(error)) from None
    return checked


def _coerce(label: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against a type hint (float accepts integers); return the normalised value."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is Literal:
        if value not in typing.get_args(hint):
            allowed = ", ".join(repr(a) for a in typing.get_args(hint))
            raise ConfigError(label, value, f"must be one of {allowed}")
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _coerce(label, value, option)
            except ConfigError as error:
                errors.append(error.allowed)
        raise ConfigError(label, value, " or ".join(errors))
    if hint is float:
        if not _is_number(value) or not math.isfinite(value):
            raise ConfigError(label, value, "must be a finite number")
        return float(value)
    if hint is int:
        if not _is_int(value):
            raise ConfigError(label, value, "must be an integer")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(label, value, "must be true or false")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(label, value, "must be a string")
        return value
    if origin in (tuple, list) and isinstance(value, list | tuple):
        return origin(value)
    return value


def _check_hparam_range(label: str, name: str, value: Any) -> None:
    if value is None or isinstance(value, bool) or not _is_number(value):
        return
    if name.endswith("lr") and value <= 0:
        raise ConfigError(label, value, "a learning rate must be > 0")
    if name == "meta_batch" and not 1 <= value <= MAX_META_BATCH:
        raise ConfigError(label, value, f"must be an integer in 1..{MAX_META_BATCH}")
    if isinstance(value, int) and value < 0:
        raise ConfigError(label, value, "must be >= 0")
