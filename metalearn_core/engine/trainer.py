"""``Trainer``: one run, advanced in ticks, reproducible to the bit.

The app calls ``run_tick(max_seconds=0.1, split_validation=True)`` between redraws (a
validation longer than a tick goes on in the next ones); the command line calls it in a
loop. Either way the numbers are identical for the same config: every random draw of a
run comes from state the trainer owns,

- the initial weights, drawn from the run's seed,
- the training ``EpisodeSampler``'s ``torch.Generator`` (which episodes),
- the learner's own ``generator`` (any randomness inside the algorithm),
- a fixed validation seed: every validation scores the same ``val_episodes`` episodes.

None of them is torch's global generator, so trainers in several threads of one process
(a classroom) never disturb each other, and none waits for another (no lock).

Divergence: every step's loss is checked, and every ``snapshot_every`` steps (default
``SNAPSHOT_EVERY``) a copy of the whole run state is taken and its model and optimiser
tensors are checked too. On NaN/inf the run goes back to the last snapshot that passed
(model, optimiser, sampler, RNG, counters, history), ``divergence`` names the step and
the hyperparameters to lower, and further steps are refused; the last good state can be
saved as usual. Snapshots are taken on iteration multiples, so where a run stops does
not depend on how it was split into ticks. (Copying the learner's state every step
would cost more than a small model's step itself.)

>>> trainer = Trainer(RunConfig(dataset="blobs", algo="protonet", n_way=5, k_shot=1))
>>> report = trainer.run_tick(max_seconds=0.5)
>>> trainer.history.train_arrays()["loss"], trainer.validate().mean
>>> trainer.save("runs/blobs-protonet"); again = Trainer.load("runs/blobs-protonet")
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from metalearn_core.algorithms.base import Adaptation, MetaLearner
from metalearn_core.algorithms.internals import RegressionFit
from metalearn_core.data.episode_edits import with_query_example
from metalearn_core.data.episodes import Episode, EpisodeSampler, TaskSource
from metalearn_core.engine.build import build_learner, load_source, problem_spec, resolve_device
from metalearn_core.engine.checkpoint import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    METRICS_FILE,
    CheckpointError,
    SavedRun,
    clone_state,
    encode_checkpoint,
    read_saved_run,
    state_is_finite,
    write_run_folder,
)
from metalearn_core.engine.config import ConfigError, RunConfig
from metalearn_core.engine.evaluation import EpisodeScoring, mean_ci95
from metalearn_core.engine.history import History
from metalearn_core.engine.rng import derive_seed, reseeded

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
PROBE_POINTS = 200  # regression inspector: points on the probe grid
DEFAULT_PROBE_RANGE = (-5.0, 5.0)  # sinusoid inputs (Finn et al. 2017)
SNAPSHOT_EVERY = 10  # steps between rollback snapshots


class TrainingDiverged(RuntimeError):
    """Raised by ``step()`` once a run has diverged; the message says what to lower."""


@dataclass(frozen=True)
class ValidationResult:
    """Mean query score over ``episodes`` validation episodes and its 95% half-width.

    ``mean`` is accuracy in [0, 1] for classification, MSE for regression (``metric``).
    """

    mean: float
    ci95: float
    episodes: int
    metric: str = "accuracy"


@dataclass(frozen=True)
class StepRecord:
    """One meta-iteration. ``iteration`` counts completed steps (1 after the first)."""

    iteration: int
    loss: float  # mean query loss of the batch (cross-entropy or MSE)
    accuracy: float | None  # mean query accuracy; None for regression
    episodes: int  # episodes in this step's meta-batch
    seconds: float  # wall-clock time of the step, validation excluded
    validation: ValidationResult | None = None  # when this step was a validation step
    diverged: str | None = None  # set when this step was undone as divergent


@dataclass(frozen=True)
class TickReport:
    """What one ``run_tick`` did."""

    iterations: int
    episodes: int
    seconds: float  # wall-clock, validation included
    validated: bool
    diverged: str | None
    last: StepRecord | None = None


def _summary(scoring: EpisodeScoring) -> ValidationResult:
    """Mean and 95% half-width of accuracy (classification) or MSE (regression)."""
    scores = scoring.scores()
    if scores.accuracies is not None:
        mean, ci95 = mean_ci95(scores.accuracies)
        return ValidationResult(mean, ci95, scoring.count, "accuracy")
    mean, ci95 = mean_ci95(scores.losses)
    return ValidationResult(mean, ci95, scoring.count, "mse")


def _check_shape(source: TaskSource, config: RunConfig) -> None:
    """The source's own shape check, re-raised as a ``ConfigError`` naming the field."""
    try:
        source.check_episode_shape(config.n_way, config.k_shot, config.q_query)
    except ValueError as error:
        field = "n_way" if "n_way" in str(error) else "k_shot + q_query"
        value = config.n_way if field == "n_way" else config.k_shot + config.q_query
        raise ConfigError(field, value, str(error)) from None


class Trainer:
    """Runs one ``RunConfig``: meta-training steps, validation, history, checkpoints.

    Args:
        config: the run.
        sources: optional already-open splits by name (``"train"``, ``"val"``, ...), e.g.
            from an app-level cache; sources are read-only, so runs may share them.
            Missing splits are opened with ``load_task_source``.
    Raises:
        ConfigError: a value the data cannot satisfy (n_way, k_shot + q_query, device).
    """

    def __init__(self, config: RunConfig, *, sources: Mapping[str, TaskSource] | None = None):
        if not isinstance(config, RunConfig):
            raise ValueError(f"Trainer needs a RunConfig, got {type(config).__name__}")
        self.config = config
        self.device = resolve_device(config.device)
        if config.threads is not None:
            torch.set_num_threads(config.threads)  # process-wide, by torch's design
        self._sources: dict[str, TaskSource] = dict(sources or {})
        train_source = self.source("train")
        _check_shape(train_source, config)
        if config.val_every > 0:
            _check_shape(self.source("val"), config)
        self.task_kind = train_source.task_kind
        self.spec = problem_spec(config, train_source)
        self.learner = build_learner(config, self.spec, self.device)
        self.sampler = EpisodeSampler(
            train_source, config.n_way, config.k_shot, config.q_query,
            seed=derive_seed(config.seed, "episodes"),
        )  # fmt: skip
        # the algorithm's stream: its own seed, as it was when the run's state was the
        # global RNG's (checkpoints keep it under "rng"/"cpu")
        self.learner.generator.manual_seed(derive_seed(config.seed, "algorithm"))
        self._prepared = False
        self.history = History(config.history_limit)
        self.iteration = 0
        self.episodes_seen = 0
        self.train_seconds = 0.0  # time inside meta_train_step
        self.elapsed_seconds = 0.0  # steps + validation
        self.divergence: str | None = None
        self.snapshot_every = SNAPSHOT_EVERY  # steps between rollback points (1: every step)
        self._good: dict[str, Any] | None = None  # the last snapshot that passed its check
        self._pending: EpisodeScoring | None = None  # a validation that ticks still go on with
        self._base_lrs: list[float] | None = None  # the optimiser's rates before any schedule
        self.learner.train()

    # ----- data -------------------------------------------------------------------------
    def source(self, split: str) -> TaskSource:
        """The data set split, opened on first use."""
        if split not in SPLITS:
            raise ValueError(f"split={split!r} is invalid: must be one of {', '.join(SPLITS)}")
        if split not in self._sources:
            self._sources[split] = load_source(self.config, split)
        return self._sources[split]

    @property
    def meta_batch(self) -> int:
        return int(getattr(self.learner.hparams, "meta_batch", 1))

    @property
    def episodes_per_second(self) -> float:
        """Training throughput over the whole run (validation time excluded)."""
        return self.episodes_seen / self.train_seconds if self.train_seconds > 0 else 0.0

    # ----- training ---------------------------------------------------------------------------
    def step(self) -> StepRecord:
        """One meta-iteration on a fresh meta-batch; validates when it is a validation step.

        Raises:
            TrainingDiverged: if the run has already diverged.
        """
        record = self._train_step()
        if self._pending is not None:
            record = dataclasses.replace(record, validation=self._advance_validation(None))
        return record

    def _train_step(self) -> StepRecord:
        """``step`` without scoring: a due validation is left in ``_pending``."""
        self.finish_validation()  # a validation scores the weights of its own step
        if self.divergence is not None:
            raise TrainingDiverged(self.divergence)
        if not self._prepared:  # once per Trainer object, so again after a resume
            self.learner.prepare(self.source("train"))
            self._prepared = True
        if self._good is None or self.iteration % self.snapshot_every == 0:
            snapshot = self._snapshot()
            if not state_is_finite(snapshot["learner"]):  # finite losses, but broken weights
                return self._diverge(
                    math.nan, 0.0, self.iteration, "the weights or optimiser state became NaN/inf"
                )
            self._good = snapshot
        if self.config.lr_schedule != "constant":
            self._schedule_learning_rate()
        start = time.perf_counter()
        batch = self.sampler.sample_batch(self.meta_batch).to(self.device)
        result = self.learner.meta_train_step(batch)
        seconds = time.perf_counter() - start
        if not math.isfinite(result.loss):
            return self._diverge(
                result.loss, seconds, self.iteration + 1, f"the loss became {result.loss}"
            )
        self.iteration += 1
        self.episodes_seen += result.episodes
        self.train_seconds += seconds
        self.elapsed_seconds += seconds
        self.history.add_step(
            self.iteration, result.loss, result.accuracy, self.episodes_seen, self.train_seconds
        )
        if self.config.val_every and self.iteration % self.config.val_every == 0:
            self._pending = self._validation_scoring(self.config.val_episodes)
        return StepRecord(self.iteration, result.loss, result.accuracy, result.episodes, seconds)

    @property
    def budget_progress(self) -> float | None:
        """How much of the config's budget is spent, in [0, 1] (episodes first, then
        minutes of training time); None without a budget."""
        if self.config.episodes is not None:
            return min(self.episodes_seen / self.config.episodes, 1.0)
        if self.config.minutes is not None:
            return min(self.train_seconds / (self.config.minutes * 60), 1.0)
        return None

    def learning_rate_factor(self) -> float:
        """The schedule's factor on the optimiser's base rates for the next step:
        ``0.5 (1 + cos(pi * progress))`` for the cosine, 1 for a constant rate."""
        progress = self.budget_progress
        if self.config.lr_schedule == "constant" or progress is None:
            return 1.0
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def _schedule_learning_rate(self) -> None:
        """Set every parameter group's rate to base x factor (this replaces an algorithm's
        own decay, e.g. ProtoNet's ``lr_halve_every``, for the run)."""
        optimizer = getattr(self.learner, "optimizer", None)
        if optimizer is None:
            return
        if self._base_lrs is None:
            self._base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        factor = self.learning_rate_factor()
        for group, base in zip(optimizer.param_groups, self._base_lrs, strict=True):
            group["lr"] = base * factor

    def run_tick(
        self,
        max_iterations: int | None = None,
        max_seconds: float | None = None,
        *,
        split_validation: bool = False,
        should_stop: Callable[[], bool] | None = None,
    ) -> TickReport:
        """Steps until ``max_iterations`` steps or ``max_seconds`` have passed (at least one
        step unless ``max_iterations`` is 0; one step when both are None). Stops early on
        divergence. The split into ticks never changes the numbers.

        ``split_validation``: a validation may run past ``max_seconds`` (a slow learner's
        can take many seconds); with this flag it gets ``max_seconds`` of its own in a
        tick (so a short one still ends in the tick that starts it), and what is left goes
        on in the next ticks before training further: a live page stays responsive. Such a
        tick may end having scored validation episodes but taken no step.

        ``should_stop``: asked after each step; True ends the tick there (a Ctrl-C).
        """
        if max_iterations is not None and max_iterations < 0:
            raise ValueError(f"max_iterations must be >= 0, got {max_iterations}")
        if max_iterations is None and max_seconds is None:
            max_iterations = 1
        start = time.perf_counter()
        split = split_validation and max_seconds is not None
        done = episodes = 0
        validated = False
        last = None
        while self.divergence is None:
            if self._pending is not None:
                deadline = time.perf_counter() + max_seconds if split else None
                validation = self._advance_validation(deadline)
                if validation is None:
                    break  # out of time: the next tick scores the rest
                validated = True
                if last is not None:
                    last = dataclasses.replace(last, validation=validation)
                continue
            out_of_time = max_seconds is not None and time.perf_counter() - start >= max_seconds
            if (max_iterations is not None and done >= max_iterations) or (done and out_of_time):
                break
            last = self._train_step()
            if last.diverged:
                break
            done += 1
            episodes += last.episodes
            if should_stop is not None and should_stop():
                break
        return TickReport(
            done, episodes, time.perf_counter() - start, validated, self.divergence, last
        )

    # ----- divergence ---------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        """Everything a rollback restores; the learner state is cloned off the live tensors."""
        return {
            "learner": clone_state(self.learner.state_dict()),
            "sampler": self.sampler.get_state().clone(),
            "rng": self.learner.generator.get_state(),  # a copy
            "history": self.history.snapshot(),
            "counters": (self.iteration, self.episodes_seen, self.train_seconds),
        }

    def _diverge(self, loss: float, seconds: float, failed_step: int, what: str) -> StepRecord:
        """Stop the run: roll back to the last good snapshot and say what to lower."""
        good = self._good
        if good is not None:
            self.learner.load_state_dict(good["learner"])
            self.sampler.set_state(good["sampler"])
            self.learner.generator.set_state(good["rng"])
            self.history.restore(good["history"])
            self.iteration, self.episodes_seen, self.train_seconds = good["counters"]
        self.divergence = self._divergence_message(failed_step, what)
        logger.warning(self.divergence)
        return StepRecord(self.iteration, loss, None, 0, seconds, None, self.divergence)

    def _divergence_message(self, step: int, what: str) -> str:
        hparams = self.learner.hparams
        names = [f.name for f in dataclasses.fields(hparams) if f.name.endswith("lr")]
        names.sort(key=lambda name: (name != "outer_lr", name))  # the outer rate first
        lower = " or ".join(f"{name} (now {getattr(hparams, name)!r})" for name in names)
        return (
            f"training diverged at step {step}: {what}. Lower {lower or 'the learning rate'} "
            f"and start again; the run was rolled back to step {self.iteration}, its last "
            "good state."
        )

    # ----- validation and inspection ----------------------------------------------------------------
    def validate(self, episodes: int | None = None) -> ValidationResult:
        """Score the same fixed validation episodes every time (seeded by the run's seed)."""
        count = episodes if episodes is not None else self.config.val_episodes
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"episodes must be a positive integer, got {count!r}")
        start = time.perf_counter()
        scoring = self._validation_scoring(count)
        scoring.advance()
        self.elapsed_seconds += time.perf_counter() - start
        return _summary(scoring)

    def _validation_scoring(self, count: int) -> EpisodeScoring:
        seed = derive_seed(self.config.seed, "validation")
        sampler = EpisodeSampler(
            self.source("val"), self.config.n_way, self.config.k_shot, self.config.q_query, seed
        )
        return EpisodeScoring(self.learner, sampler, count, seed)

    @property
    def validation_progress(self) -> tuple[int, int] | None:
        """(episodes scored, episodes) of a validation that ticks are still going on with."""
        if self._pending is None:
            return None
        return self._pending.scored, self._pending.count

    def finish_validation(self) -> ValidationResult | None:
        """Complete a pending validation (before saving or changing the weights)."""
        return self._advance_validation(None) if self._pending is not None else None

    def _advance_validation(self, deadline: float | None) -> ValidationResult | None:
        """Go on with the pending validation; its result once complete (and recorded)."""
        assert self._pending is not None
        start = time.perf_counter()
        finished = self._pending.advance(deadline)
        self.elapsed_seconds += time.perf_counter() - start
        if not finished:
            return None
        validation = _summary(self._pending)
        self._pending = None
        self.history.add_validation(
            self.iteration, validation.mean, validation.ci95, validation.episodes
        )
        return validation

    def inspect(
        self,
        split: str = "val",
        seed: int = 0,
        *,
        n_way: int | None = None,
        k_shot: int | None = None,
        q_query: int | None = None,
    ) -> tuple[Episode, Adaptation]:
        """One reproducible episode of ``split`` and the learner's adaptation to it.

        For regression a probe grid of ``PROBE_POINTS`` inputs over the task's input range
        is predicted too (``Adaptation.probe_prediction``, shape (P, 1)), and the grid with
        the predictions is in the adaptation's ``RegressionFit`` (the learner's own, with one
        curve per inner step, or one added here). The episode shape defaults to the training
        one.
        """
        source = self.source(split)
        sampler = EpisodeSampler(
            source,
            n_way or self.config.n_way,
            k_shot or self.config.k_shot,
            q_query or self.config.q_query,
            seed,
        )
        return self.adapt_episode(sampler.sample(), split=split, seed=seed)

    def adapt_episode(
        self, episode: Episode, *, split: str = "val", seed: int = 0
    ) -> tuple[Episode, Adaptation]:
        """The learner's adaptation to ``episode`` as ``inspect`` makes it (the same
        randomness for the same ``seed``, the probe grid of ``split``'s source for
        regression): an episode the student edited is adapted exactly as the drawn one."""
        source = self.source(split)
        probe_x = None
        if source.task_kind == "regression":
            low, high = getattr(source, "input_range", DEFAULT_PROBE_RANGE)
            probe_x = torch.linspace(low, high, PROBE_POINTS).unsqueeze(1)  # (P, 1)
        self.learner.eval()
        try:
            with reseeded(self.learner.generator, derive_seed(seed, "inspect")):
                adaptation = self.learner.adapt(
                    episode.to(self.device), None if probe_x is None else probe_x.to(self.device)
                )
        finally:
            self.learner.train()
        if probe_x is not None and adaptation.probe_prediction is not None:
            if adaptation.find(RegressionFit) is None:  # a learner that draws no curve itself
                fit = RegressionFit(
                    probe_x=probe_x, step_predictions=(adaptation.probe_prediction,)
                )
                adaptation.internals = (*adaptation.internals, fit)
        return episode, adaptation

    def classify_example(
        self, episode: Episode, example: torch.Tensor, *, split: str = "val", seed: int = 0
    ) -> torch.Tensor:
        """p(class | example) against ``episode``'s support set: (N,) on the CPU.

        The example takes the place of the episode's first query example and the learner
        adapts as ``adapt_episode`` does; its prediction for that row (logits or
        log-probabilities) goes through a softmax.
        """
        if self.task_kind != "classification":
            raise ValueError(
                f"only a classification run classifies an example, not {self.task_kind}"
            )
        _, adaptation = self.adapt_episode(
            with_query_example(episode, example), split=split, seed=seed
        )
        return adaptation.query_prediction[0].detach().float().softmax(dim=-1).cpu()

    def initial_learner(self) -> MetaLearner:
        """The run's network as it was before its first step (in evaluation mode).

        The initial weights are a function of the config alone (``build_learner`` seeds
        them from the run's seed), so they are rebuilt rather than stored: every run keeps
        them, a resumed or uploaded one included, at no cost in memory or checkpoint size.
        """
        learner = build_learner(self.config, self.spec, self.device)
        learner.eval()
        return learner

    # ----- checkpoints ------------------------------------------------------------------------------
    def checkpoint_payload(self) -> dict[str, Any]:
        """Everything needed to continue the run bit-identically (a pending validation is
        completed first, so that the saved history holds it)."""
        self.finish_validation()
        return {
            "config": self.full_config().to_dict(),
            "algo": self.config.algo,
            "spec": dataclasses.asdict(self.spec),
            "learner": self.learner.state_dict(),
            "sampler": self.sampler.get_state(),
            "rng": {"cpu": self.learner.generator.get_state()},
            "history": self.history.state(),
            "counters": {
                "iteration": self.iteration,
                "episodes_seen": self.episodes_seen,
                "train_seconds": self.train_seconds,
                "elapsed_seconds": self.elapsed_seconds,
                "divergence": self.divergence,
                "base_lrs": self._base_lrs,
            },
        }

    def full_config(self) -> RunConfig:
        """The config with every hyperparameter written out (defaults included), so that a
        saved run resumes the same even if an algorithm's defaults change later."""
        return self.config.replace(hparams=dataclasses.asdict(self.learner.hparams))

    def save(self, run_dir: str | os.PathLike[str]) -> Path:
        """Write ``config.json``, ``metrics.csv`` and ``checkpoint.safetensors`` as one unit
        (``write_run_folder``): a reader never sees files of two different moments."""
        files = {
            CHECKPOINT_FILE: encode_checkpoint(self.checkpoint_payload()),
            CONFIG_FILE: (self.full_config().to_json() + "\n").encode("utf-8"),
            METRICS_FILE: self.history.to_csv().encode("utf-8"),
        }
        run = write_run_folder(run_dir, files)
        logger.info("saved %s at iteration %d", run, self.iteration)
        return run

    @classmethod
    def load(
        cls,
        run_dir: str | os.PathLike[str],
        *,
        device: str | None = None,
        data_dir: str | None = None,
        sources: Mapping[str, TaskSource] | None = None,
    ) -> Trainer:
        """Resume a saved run; it continues exactly as if it had never stopped.

        ``device`` and ``data_dir`` override the machine-specific settings (a run saved on
        CUDA opens on this machine's ``"auto"`` device when CUDA is missing here).
        """
        saved = read_saved_run(run_dir, device=device, data_dir=data_dir)
        return cls.resume(saved, sources=sources)

    @classmethod
    def resume(cls, saved: SavedRun, *, sources: Mapping[str, TaskSource] | None = None) -> Trainer:
        """Continue a saved run (``read_saved_run``'s, or one whose config the caller
        checked and adjusted, e.g. with ``limits.untrusted_run_config``)."""
        trainer = cls(saved.config, sources=sources)
        trainer._restore(saved)
        return trainer

    def _restore(self, saved: SavedRun) -> None:
        """Take over a saved run's state (read and checked by ``read_saved_run``)."""
        try:
            self.learner.load_state_dict(saved.learner_state)
            self.sampler.set_state(saved.sampler_state)
            # the algorithm's stream (older runs also saved a "cuda" state: nothing used it)
            self.learner.generator.set_state(saved.rng_state["cpu"])
            self.history = History.from_state(saved.history_state)
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise CheckpointError(f"checkpoint does not match its run: {error!r}") from None
        self.iteration = saved.iteration
        self.episodes_seen = saved.episodes_seen
        self.train_seconds = saved.train_seconds
        self.elapsed_seconds = saved.elapsed_seconds
        self.divergence = saved.divergence
        self._base_lrs = saved.base_lrs
