"""``RunConfig``: everything that defines one training run, validated on construction.

The app and the command line build runs the same way: a ``RunConfig`` (from widgets,
flags, or a JSON/YAML file) handed to ``Trainer``. Every invalid value raises
``ConfigError`` (a ``ValueError``) whose message names the field, the value and what
is allowed, e.g. ``n_way=0 is invalid: must be an integer in 1..100``. Each field's
help text and limits are declared beside it (``metalearn_core.settings.setting``): the
checks, the command line's flags and the app's forms all read them there.

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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from metalearn_core.algorithms.base import MAX_META_BATCH, MAX_N_WAY
from metalearn_core.settings import (
    Allowed,
    ConfigError,
    check_fields,
    check_setting,
    setting,
    settings_of,
)
from metalearn_core.words import N_

__all__ = ["MAX_META_BATCH", "ConfigError", "DataSettings", "RunConfig", "load_config_file"]

BACKBONES = ("auto", "conv4", "mlp")
DEVICE_CHOICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("constant", "cosine")
MAX_SEED = 2**63 - 1
# support or query examples per class: Omniglot draws 20 per character, blobs 200
MAX_EXAMPLES_PER_CLASS = 100
MAX_MINUTES = 7 * 24 * 60.0  # a week: a budget, not a size, but still a bound


@dataclass(frozen=True)
class DataSettings:
    """The part of a ``RunConfig`` that decides the data: two runs with equal
    ``DataSettings`` draw from the same classes and images (the key of shared caches)."""

    dataset: str
    data_dir: str | None = None
    image_size: int | None = None  # None: the data set's own size
    rotations: bool = False
    data_seed: int = 0

    def open(self, split: str, caps: Any = None) -> Any:
        """This data's ``split`` (a ``TaskSource``), read from the files or generated;
        ``caps`` (``data.guards.InputCaps``) bound the zips and images read, None: the
        library's defaults."""
        from metalearn_core.data import load_task_source

        extra = {} if caps is None else {"caps": caps}
        return load_task_source(
            self.dataset,
            split,
            data_dir=self.data_dir,
            image_size=self.image_size,  # None: the data set's own size
            rotations=self.rotations,
            seed=self.data_seed,
            **extra,
        )


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

    dataset: str = setting("glyphs", label="Data set", help="a name from the data registry")
    algo: str = setting("protonet", label="Algorithm", help="a name from the algorithm registry")
    n_way: int = setting(
        5, label="N-way", help="classes per episode; 1 for regression", low=1, high=MAX_N_WAY
    )
    k_shot: int = setting(
        1, label="K-shot", help="support examples per class", low=1, high=MAX_EXAMPLES_PER_CLASS
    )
    q_query: int = setting(
        5, label="Q-query", help="query examples per class", low=1, high=MAX_EXAMPLES_PER_CLASS
    )
    backbone: str = setting(
        "auto", help="conv4 for images, an MLP otherwise (auto)", choices=BACKBONES
    )
    # a Conv4 of 512 filters holds 7 M weights; the old limit of 4096 made 450 M, with
    # Adam's moments past a classroom server's memory
    width: int | None = setting(
        None,
        label="Width",
        help="conv filters or MLP hidden units; unset: the backbone's default (64 / 40)",
        low=1,
        high=512,
    )
    embedding_2d: bool = setting(
        False,
        label="2-D embedding layer",
        help="end the backbone with a 2-D layer that pages draw directly",
    )
    hparams: dict[str, Any] = setting(
        default_factory=dict,
        help="the algorithm's hyperparameters to change from its defaults",
    )
    seed: int = setting(
        0,
        label="Seed",
        help="model initialisation, training episodes and the algorithm's randomness",
        low=0,
        high=MAX_SEED,
    )
    data_seed: int = setting(
        0, help="how synthetic data sets are generated and split", low=0, high=MAX_SEED
    )
    device: str = setting("auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    data_dir: str | None = setting(None, help="the folder (or zip) of a data set read from files")
    image_size: int | None = setting(
        None, help="side of the square images; unset: the data set's own size", low=4, high=128
    )
    rotations: bool = setting(False, help="add copies turned by 90, 180, 270 degrees as classes")
    val_every: int = setting(
        50,
        label="Validate every (meta-iterations)",
        help="validate every this many meta-iterations; 0: never",
        low=0,
        high=1_000_000,
    )
    # one validation runs within a Step: beyond a thousand episodes it would hold the page
    val_episodes: int = setting(
        50,
        label="Validation episodes",
        help="fixed validation episodes scored each time",
        low=1,
        high=1000,
    )
    history_limit: int = setting(
        1000, help="most points kept per curve (older ones are averaged)", low=10, high=1_000_000
    )
    threads: int | None = setting(
        None, help="torch CPU threads for the process; unset: left alone", low=1, high=1024
    )
    episodes: int | None = setting(
        None, help="training budget in episodes (command line)", low=1, high=1_000_000_000
    )
    minutes: float | None = setting(
        None, help="training budget in minutes (command line)", above=0, high=MAX_MINUTES
    )
    lr_schedule: str = setting(
        "constant",
        label="Learning-rate schedule",
        help="constant, or cosine: the outer rate(s) annealed to 0 over the budget",
        choices=LR_SCHEDULES,
    )

    def __post_init__(self) -> None:
        check_fields(self)
        _check_choices(self)
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
        except RecursionError:
            raise ConfigError("config", text[:40], "nested too deeply to be a run config") from None
        return cls.from_dict(values)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> RunConfig:
        try:
            values = yaml.load(text, Loader=YAMLLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as error:
            message = " ".join(str(error).split())[:300]  # pyyaml's caret block, on one line
            raise ConfigError("config", text[:40], f"not valid YAML ({message})") from None
        except RecursionError:
            raise ConfigError("config", text[:40], "nested too deeply to be a run config") from None
        return cls.from_dict(values if values is not None else {})

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ----- derived values -------------------------------------------------------------
    def data_settings(self) -> DataSettings:
        """Every field that decides the data, and no other."""
        return DataSettings(
            self.dataset, self.data_dir, self.image_size, self.rotations, self.data_seed
        )

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
    ``1.0e-3`` and reads ``1e-3`` as a string, which would refuse a learning rate).

    Anchors and aliases (``&a`` / ``*a``) are refused: a run config never needs them, and
    nested aliases let a few hundred bytes expand to gigabytes (a "billion laughs").
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ConfigError(
                "config",
                f"&{event.anchor}"
                if not isinstance(event, yaml.AliasEvent)
                else f"*{event.anchor}",
                "YAML anchors and aliases are not allowed in a run config; write values out",
            )
        return super().compose_node(parent, index)


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


def _check_choices(config: RunConfig) -> None:
    if not isinstance(config.hparams, dict):
        raise ConfigError("hparams", config.hparams, "must be a mapping of name: value")
    if config.lr_schedule == "cosine" and config.episodes is None and config.minutes is None:
        raise ConfigError(
            "lr_schedule",
            "cosine",
            Allowed.of(N_("anneals over the budget: give episodes or minutes too")),
        )
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
            Allowed.of(
                _WRONG_KIND_WORDS[task_kind],
                dataset=config.dataset,
                learners=", ".join(supported),
            ),
        )
    if task_kind == "regression" and config.n_way != 1:
        raise ConfigError(
            "n_way",
            config.n_way,
            Allowed.of(N_("{dataset} is a regression data set: must be 1"), dataset=config.dataset),
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


# the words of a learner that cannot read a data set's tasks, by the data set's kind
_WRONG_KIND_WORDS = {
    "classification": N_("{dataset} is a classification data set; use one of {learners}"),
    "regression": N_("{dataset} is a regression data set; use one of {learners}"),
}


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
    """Normalise hyperparameter overrides against the algorithm's dataclass, field by
    field (type, limits and choices from each field's ``setting``), then together."""
    hparams_class = _algorithm_class(algo).hparams_class
    infos = settings_of(hparams_class)
    checked: dict[str, Any] = {}
    for name, value in given.items():
        label = f"hparams.{name}"
        if name not in infos:
            raise ConfigError(label, value, f"unknown for {algo}; allowed: {', '.join(infos)}")
        checked[name] = check_setting(infos[name], value, label)
    try:
        hparams_class(**checked)  # the checks between fields (SNAIL: heads divide d_model)
    except (TypeError, ValueError) as error:
        raise ConfigError("hparams", given, str(error)) from None
    return checked
