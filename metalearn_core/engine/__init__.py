"""The training engine: one validated ``RunConfig`` -> ``Trainer`` advanced in ticks.

The app and the command line use only this package::

    from metalearn_core.engine import RunConfig, Trainer, evaluate

    config = RunConfig(dataset="blobs", algo="protonet", n_way=5, k_shot=1, q_query=5, seed=0)
    trainer = Trainer(config)                      # ConfigError (a ValueError) on bad values
    report = trainer.run_tick(max_seconds=0.05)    # TickReport(iterations, episodes, ...)
    trainer.history.train_arrays()                 # {"iteration", "loss", "accuracy", ...}
    trainer.history.validation_arrays()            # {"iteration", "mean", "ci95", ...}
    trainer.save("runs/demo"); trainer = Trainer.load("runs/demo")
    result = evaluate(trainer.learner, trainer.source("test"), n_way=5, k_shot=1, q_query=15)

Modules: ``config`` (RunConfig, ConfigError), ``trainer`` (Trainer and its records),
``history`` (bounded curves), ``evaluation`` (600-episode protocol, 95% CI),
``checkpoint`` (safe checkpoint files; reading a saved run back), ``build`` (a config's
device, data and learner), ``runzip`` (run directories as zips), ``rng``
(each run's own random stream, and the lock that keeps concurrent runs apart).
"""

from metalearn_core.engine.build import resolve_device
from metalearn_core.engine.checkpoint import CheckpointError, load_learner
from metalearn_core.engine.config import ConfigError, RunConfig, load_config_file
from metalearn_core.engine.evaluation import EvaluationResult, evaluate, mean_ci95
from metalearn_core.engine.history import History, TrainPoint, ValidationPoint
from metalearn_core.engine.runzip import export_run_zip, import_run_zip
from metalearn_core.engine.trainer import (
    StepRecord,
    TickReport,
    Trainer,
    TrainingDiverged,
    ValidationResult,
)

__all__ = [
    "CheckpointError",
    "ConfigError",
    "EvaluationResult",
    "History",
    "RunConfig",
    "StepRecord",
    "TickReport",
    "TrainPoint",
    "Trainer",
    "TrainingDiverged",
    "ValidationPoint",
    "ValidationResult",
    "evaluate",
    "export_run_zip",
    "import_run_zip",
    "load_config_file",
    "load_learner",
    "mean_ci95",
    "resolve_device",
]
