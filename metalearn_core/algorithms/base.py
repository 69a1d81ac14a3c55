"""The one small interface every meta-learning algorithm implements.

A ``MetaLearner`` owns its model and its outer optimiser and nothing else:
per-task state (adapted weights, prototypes, attention) is *returned* from
``adapt``, never stored on ``self``, so that nothing leaks between episodes or
between the students of one classroom.

Random numbers: a learner never draws from torch's global generator, which every
thread of the app shares. ``make_learner`` draws the initial weights from the run's seed
(``initialise``); anything random inside a training step (a dropout mask, a shuffle)
draws from ``self.generator``, which the engine checkpoints with the run; ``adapt`` and
``prepare`` draw nothing, or from ``self.generator`` as well.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from metalearn_core.algorithms.internals import EmbeddingView, Internals
from metalearn_core.data.episodes import Episode, EpisodeBatch, TaskKind, TaskSource
from metalearn_core.models.init import reset_parameters
from metalearn_core.settings import check_fields, setting, settings_of
from metalearn_core.spec import ProblemSpec
from metalearn_core.words import N_

RecordT = TypeVar("RecordT", bound=Internals)


@dataclass
class StepResult:
    """What one meta-training step on a batch of episodes reports."""

    loss: float  # mean query loss over the batch (cross-entropy or MSE)
    accuracy: float | None  # mean query accuracy; None for regression
    seconds: float  # wall-clock time of the step
    episodes: int  # episodes consumed


@dataclass
class Adaptation:
    """The outcome of adapting to one episode, with what a teacher needs to show.

    ``internals`` holds the learner's typed records (``algorithms/internals.py``): its
    inner-step curve, embeddings, attention, ... whichever it has.
    """

    query_prediction: torch.Tensor  # logits (N*Q, N) or values (Q, 1)
    query_loss: float
    query_accuracy: float | None
    probe_prediction: torch.Tensor | None = None  # predictions at probe_x, if asked
    internals: tuple[Internals, ...] = ()

    def find(self, kind: type[RecordT]) -> RecordT | None:
        """The first record of type ``kind`` (or of a subclass), None if there is none."""
        return next((r for r in self.internals if isinstance(r, kind)), None)


# episodes per outer step (the papers: 4 to 32); far beyond, one step would take minutes
MAX_META_BATCH = 1024
# classes per episode: the label slots of the sequence learner, the ways of a run
MAX_N_WAY = 100


@dataclass
class Hyperparameters:
    """Base for each algorithm's hyperparameter dataclass (papers' defaults).

    Every field is declared with ``setting(...)``: its help text, limits and choices live
    there, and construction checks them (``ConfigError`` naming the value and the limit).
    A subclass adds its cross-field checks in ``__post_init__`` after ``super()``'s.
    """

    outer_lr: float = setting(
        1e-3, label="Meta learning rate β", help="the outer optimiser's step size", above=0
    )
    meta_batch: int = setting(
        4,
        label="Episodes per meta-batch",
        help="episodes per outer step",
        low=1,
        high=MAX_META_BATCH,
    )

    def __post_init__(self) -> None:
        check_fields(self)

    def replace(self, **changes: Any) -> Hyperparameters:
        return dataclasses.replace(self, **changes)

    @classmethod
    def notes(cls) -> dict[str, str]:
        """Each field's help text (its ``setting(help=...)``)."""
        return {name: info.help for name, info in settings_of(cls).items()}


def draw_seed(generator: torch.Generator) -> int:
    """A 62-bit seed for another generator, drawn from ``generator``."""
    # on the generator's own device, also inside ``with torch.device("meta")`` (the
    # server's parameter count builds learners there)
    return int(torch.randint(2**62, (), generator=generator, device=generator.device))


class MetaLearner(ABC):
    """Meta-learning algorithm behind one interface.

    Subclasses set ``name`` (the ``--algo`` value), ``title`` and ``summary`` (for the
    UI), ``task_kinds`` it supports, ``hparams_class`` and ``internals_records`` (the
    records its ``adapt`` fills, each drawn by the inspector through its figure registry).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str] = ""  # two sentences for students: the idea, what to watch
    # what a training step's loss and accuracy are measured on (the curves' name)
    train_metric_name: ClassVar[str] = N_("train")
    task_kinds: ClassVar[tuple[TaskKind, ...]] = ("classification",)
    hparams_class: ClassVar[type[Hyperparameters]] = Hyperparameters
    # False: the network is the algorithm's own (sized by its hyperparameters), so the
    # spec's backbone, width and 2-D embedding do not apply and a run may not set them
    uses_backbone: ClassVar[bool] = True
    # the record types ``adapt`` fills in ``Adaptation.internals`` (what the inspector draws)
    internals_records: ClassVar[tuple[type[Internals], ...]] = ()
    # follows from ``internals_records``: True when ``adapt`` gives an ``EmbeddingView``
    exposes_embeddings: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.exposes_embeddings = any(issubclass(k, EmbeddingView) for k in cls.internals_records)

    def __init__(
        self,
        spec: ProblemSpec,
        hparams: Hyperparameters | None = None,
        device: torch.device | str = "cpu",
    ):
        if spec.task_kind not in self.task_kinds:
            raise ValueError(
                f"{self.name} supports {', '.join(self.task_kinds)} tasks, not {spec.task_kind}"
            )
        self.spec = spec
        self.hparams = hparams if hparams is not None else self.hparams_class()
        self.device = torch.device(device)
        # the learner's own random stream (CPU): seeded by ``initialise``, checkpointed
        # by the engine
        self.generator = torch.Generator()

    def initialise(self, generator: torch.Generator) -> None:
        """Draw every weight (torch's default distributions) and seed the learner's own
        random streams, all from ``generator``; ``make_learner`` calls it with the run's
        seed. Subclasses with further streams seed them here too."""
        networks = [value for value in vars(self).values() if isinstance(value, nn.Module)]
        reset_parameters(networks, generator)
        self.generator.manual_seed(draw_seed(generator))

    @classmethod
    def default_hparams(cls, spec: ProblemSpec) -> Hyperparameters:
        """The papers' defaults on ``spec``'s kind of task; a learner whose defaults depend
        on the task (MAML's step sizes for regression) overrides this."""
        return cls.hparams_class()

    def prepare(self, train_source: TaskSource) -> None:  # noqa: B027 (optional hook)
        """Called once by the trainer before the first step, with the meta-training split.

        Most algorithms ignore it; the transfer baseline pretrains on all of that
        split's classes (regression: on points of all its tasks) through it.
        """

    @abstractmethod
    def meta_train_step(self, batch: EpisodeBatch) -> StepResult:
        """One outer update on a batch of episodes."""

    @abstractmethod
    def adapt(self, episode: Episode, probe_x: torch.Tensor | None = None) -> Adaptation:
        """Adapt to ``episode``'s support set, predict its query set (and ``probe_x``).

        The records in the returned ``internals`` are of the types in ``internals_records``.
        """

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Model and optimiser state, tensors and primitives only (for checkpoints).

        Like torch's own ``state_dict``, the tensors may be the live ones: a caller that
        keeps the state while training goes on copies it (the engine's rollback does).
        """

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state`` without keeping references to its tensors.

        torch's ``Optimizer.load_state_dict`` keeps the given moment tensors, so
        optimiser state is deep-copied first; module ``load_state_dict`` copies already.
        """

    def train(self) -> None:  # noqa: B027 (optional hook)
        """Put the model(s) in training mode; override if there are several."""

    def eval(self) -> None:  # noqa: B027 (optional hook)
        """Put the model(s) in evaluation mode; override if there are several."""
