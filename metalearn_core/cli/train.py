"""``python -m metalearn_core train``: meta-train one run headless, with a progress bar.

    python -m metalearn_core train --algo protonet --dataset omniglot --data-dir DATA \\
        --n-way 20 --k-shot 1 --q-query 15 --minutes 5 --seed 0 --out runs/proto20w
    python -m metalearn_core train --config run.yaml --out runs/a --set inner_lr=0.4
    python -m metalearn_core train --out runs/a --resume --episodes 20000

Writes ``RUN_DIR/config.json``, ``RUN_DIR/metrics.csv`` and
``RUN_DIR/checkpoint.safetensors`` (also every ``--save-every`` minutes, on Ctrl-C and
on divergence, where the last good state is kept; Ctrl-C stops after the step in
progress, a second Ctrl-C at once, keeping the last save). The budget is a total for the run:
resuming with ``--episodes 20000`` trains until the run has seen 20,000 episodes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm import tqdm

from metalearn_core.cli.arguments import (
    add_classroom_limits_flag,
    classroom_limits,
    positive_minutes,
)
from metalearn_core.cli.stopping import GracefulStop
from metalearn_core.engine import RunConfig, Trainer, load_config_file
from metalearn_core.engine.checkpoint import CHECKPOINT_FILE, RUN_FILES
from metalearn_core.engine.config import BACKBONES, LR_SCHEDULES, YAMLLoader, dataset_task_kind
from metalearn_core.engine.recipes import with_recipe
from metalearn_core.settings import check_setting, settings_of

TICK_SECONDS = 0.5  # how often the progress bar refreshes
# flag -> hyperparameter: the common ones; any other goes through --set NAME=VALUE
HPARAM_FLAGS = {
    "outer_lr": float,
    "inner_lr": float,
    "inner_steps": int,
    "meta_batch": int,
}
# flag dest -> RunConfig field, for the settings that define a run
CONFIG_FLAGS = (
    "dataset", "algo", "n_way", "k_shot", "q_query", "backbone", "width", "embedding_2d",
    "seed", "data_seed", "device", "data_dir", "image_size", "rotations", "val_every",
    "val_episodes", "history_limit", "threads", "lr_schedule",
)  # fmt: skip
MACHINE_FLAGS = ("device", "data_dir", "threads")  # may change when a run is resumed


def register(subparsers: argparse._SubParsersAction) -> None:
    from metalearn_core.algorithms import ALGORITHMS
    from metalearn_core.data import DATASETS

    parser = subparsers.add_parser(
        "train",
        help="meta-train a few-shot learner and save the run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run = parser.add_argument_group("the run (or take them from --config FILE)")
    run.add_argument(
        "--config", metavar="FILE", help="a RunConfig as JSON or YAML; flags override it"
    )
    run.add_argument("--algo", choices=list(ALGORITHMS), help="meta-learning algorithm")
    run.add_argument("--dataset", choices=sorted(DATASETS), help="data set")
    run.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where data sets that need files live (omniglot: default $METALEARN_OMNIGLOT_DIR)",
    )
    _config_flag(run, "n_way", "N")
    _config_flag(run, "k_shot", "K")
    _config_flag(run, "q_query", "Q")
    _config_flag(run, "seed", "S")
    _config_flag(run, "data_seed", "S")
    run.add_argument("--backbone", choices=BACKBONES, help=_flag_help("backbone"))
    _config_flag(run, "width", "N")
    run.add_argument(
        "--embedding-2d", action="store_true", default=None, help=_flag_help("embedding_2d")
    )
    _config_flag(run, "image_size", "PX")
    run.add_argument("--rotations", action="store_true", default=None, help=_flag_help("rotations"))
    run.add_argument("--device", help=_flag_help("device"))
    _config_flag(run, "threads", "N")
    _config_flag(run, "val_every", "STEPS")
    _config_flag(run, "val_episodes", "E")
    _config_flag(run, "history_limit", "POINTS")

    hparams = parser.add_argument_group("hyperparameters (missing: the algorithm's defaults)")
    for name, kind in HPARAM_FLAGS.items():
        hparams.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            dest=f"hp_{name}",
            metavar="X" if kind is float else "N",
            help=f"{name} (same as --set {name}=...)",
        )
    hparams.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        help="outer learning rate: constant, or cosine-annealed to 0 over the budget "
        "(default: the learner's recipe)",
    )
    hparams.add_argument(
        "--no-recipe",
        action="store_true",
        help="start from the papers' defaults, not the learner's recommended recipe for a "
        "budget (a --config file is always taken as it is)",
    )
    hparams.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any hyperparameter, repeatable, e.g. --set inner_steps_test=10 "
        "(list them: python -m metalearn_core algorithms ALGO)",
    )

    budget = parser.add_argument_group(
        "budget, one of (or from the --config file)"
    ).add_mutually_exclusive_group()
    budget.add_argument(
        "--episodes", type=int, metavar="E",
        help="train until E episodes in total (whole meta-batches: it may end a little past E; "
        f"{settings_of(RunConfig)['episodes'].allowed().removesuffix(' (or null)')})",
    )  # fmt: skip
    budget.add_argument("--minutes", type=float, metavar="M", help=_flag_help("minutes"))

    out = parser.add_argument_group("output")
    out.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory")
    out.add_argument("--resume", action="store_true", help="continue the run saved in RUN_DIR")
    out.add_argument(
        "--save-every",
        type=positive_minutes,
        default=5.0,
        metavar="MIN",
        help="checkpoint every MIN minutes",
    )
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    out.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_classroom_limits_flag(parser)
    parser.set_defaults(handler=run_train)


def _flag_help(name: str) -> str:
    """A run flag's help: the field's own help text and, for numbers, its limits."""
    info = settings_of(RunConfig)[name]
    if info.kind in (int, float):
        return f"{info.help} ({info.allowed().removesuffix(' (or null)')})"
    return info.help


def _config_flag(group: argparse._ArgumentGroup, name: str, metavar: str) -> None:
    """``--name`` for a numeric RunConfig field; RunConfig checks its limits, so a value
    past them is refused with the same message as in a config file."""
    info = settings_of(RunConfig)[name]
    group.add_argument(
        "--" + name.replace("_", "-"), type=info.kind, metavar=metavar, help=_flag_help(name)
    )


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"inner_lr=0.4"`` -> ``("inner_lr", 0.4)``; values are parsed as YAML scalars."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--set {text!r} is invalid: expected NAME=VALUE, e.g. inner_lr=0.4")
    try:
        value = yaml.load(raw, Loader=YAMLLoader) if raw.strip() else raw  # noqa: S506
    except yaml.YAMLError:
        value = raw
    return name.strip(), value


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run's config: ``--config`` file, then flags, then ``--set`` on top."""
    values = load_config_file(args.config).to_dict() if args.config else {}
    if not args.config and (args.algo is None or args.dataset is None):
        raise ValueError("train needs --algo and --dataset (or --config FILE)")
    for name in CONFIG_FLAGS:
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if "n_way" not in values and dataset_task_kind(values["dataset"]) == "regression":
        values["n_way"] = 1  # a regression episode is one function, not N classes
    hparams = dict(values.get("hparams") or {})
    if args.config and args.algo and args.algo != values.get("algo"):
        hparams = {}  # the file's hyperparameters belong to its own algorithm
    for name in HPARAM_FLAGS:
        if getattr(args, f"hp_{name}") is not None:
            hparams[name] = getattr(args, f"hp_{name}")
    hparams.update(parse_assignment(text) for text in args.set)
    values["hparams"] = hparams
    if args.episodes is not None or args.minutes is not None:
        values["episodes"], values["minutes"] = args.episodes, args.minutes
    config = RunConfig.from_dict(values)
    if args.config or args.no_recipe:
        return config
    return with_recipe(config, schedule_given=args.lr_schedule is not None)


def _open_trainer(args: argparse.Namespace) -> Trainer:
    out = Path(args.out)
    has_run = (out / CHECKPOINT_FILE).is_file()
    if args.resume:
        defining = [
            n for n in CONFIG_FLAGS if n not in MACHINE_FLAGS and getattr(args, n) is not None
        ]
        if (
            args.config
            or defining
            or args.set
            or any(getattr(args, f"hp_{n}") is not None for n in HPARAM_FLAGS)
        ):
            raise ValueError(
                "--resume continues RUN_DIR with its own config; drop --config, --set and "
                f"the run flags ({', '.join('--' + n.replace('_', '-') for n in defining) or 'hyperparameters'})"
            )
        if args.threads is not None:  # checked here: a resumed run's config is not rebuilt
            check_setting(settings_of(RunConfig)["threads"], args.threads)
            torch.set_num_threads(args.threads)
        if (limits := classroom_limits(args)) is not None:  # before the model is built
            from metalearn_core.engine.checkpoint import read_saved_run
            from metalearn_core.engine.limits import check_run_config

            check_run_config(read_saved_run(out).config, limits)
        trainer = Trainer.load(out, device=args.device, data_dir=args.data_dir)
        if args.episodes is not None or args.minutes is not None:
            trainer.config = trainer.config.replace(episodes=args.episodes, minutes=args.minutes)
        return trainer
    if has_run:
        raise ValueError(
            f"--out {str(out)!r} already holds a run; add --resume to continue it or choose another folder"
        )
    config = config_from_args(args)
    if (limits := classroom_limits(args)) is not None:  # before the model is built
        from metalearn_core.engine.limits import check_run_config

        check_run_config(config, limits)
    trainer = Trainer(config)
    check_run_folder(out)
    return trainer


def check_run_folder(out: Path) -> None:
    """Fail before training, not after it, where RUN_DIR cannot take a new run."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file, not a folder")
    found = [name for name in RUN_FILES if (out / name).exists()]
    if found:  # files of ours without a checkpoint: someone's, or a broken run's
        raise ValueError(
            f"--out {str(out)!r} already holds {', '.join(found)} but no checkpoint; "
            "choose another folder, or remove them"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise ValueError(
            f"--out {str(out)!r} cannot be written: {error.strerror or error}"
        ) from None


def train_for_budget(
    trainer: Trainer,
    *,
    episodes: int | None,
    seconds: float | None,
    bar: tqdm,
    save_every_seconds: float,
    out: Path,
    stop: GracefulStop | None = None,
) -> None:
    """Tick until the episode total or the time budget is reached, the run diverges, or
    ``stop`` is requested (checked between ticks, so every step is whole)."""

    def stopping() -> bool:
        return stop is not None and stop.requested

    start = last_save = time.perf_counter()
    while trainer.divergence is None and not stopping():
        if episodes is not None:
            remaining = episodes - trainer.episodes_seen
            if remaining <= 0:
                break
            steps = math.ceil(remaining / trainer.meta_batch)
            report = trainer.run_tick(
                max_iterations=steps, max_seconds=TICK_SECONDS, should_stop=stopping
            )
            bar.update(report.episodes)
        else:
            left = seconds - (time.perf_counter() - start)
            if left <= 0:
                break
            report = trainer.run_tick(max_seconds=min(TICK_SECONDS, left), should_stop=stopping)
            bar.n = min(round(time.perf_counter() - start), bar.total)
            bar.refresh()
        bar.set_postfix_str(_progress_text(trainer), refresh=False)
        if time.perf_counter() - last_save >= save_every_seconds:
            trainer.save(out)
            last_save = time.perf_counter()


def _progress_text(trainer: Trainer) -> str:
    text = f"it {trainer.iteration}, {trainer.episodes_per_second:.1f} episodes/s training"
    last = trainer.history.last_validation
    if last is not None:
        metric = "acc" if trainer.task_kind == "classification" else "mse"
        text += f", val {metric} {last.mean:.3f}±{last.ci95:.3f}"
    return text


def summary(trainer: Trainer, out: Path) -> dict[str, Any]:
    last = trainer.history.last_validation
    return {
        "run_dir": str(out),
        "algo": trainer.config.algo,
        "dataset": trainer.config.dataset,
        "device": str(trainer.device),
        "iterations": trainer.iteration,
        "episodes": trainer.episodes_seen,
        "train_seconds": round(trainer.train_seconds, 3),
        "episodes_per_second": round(trainer.episodes_per_second, 3),
        "val_metric": "accuracy" if trainer.task_kind == "classification" else "mse",
        "val_mean": None if last is None else last.mean,
        "val_ci95": None if last is None else last.ci95,
        "val_iteration": None if last is None else last.iteration,
        "diverged": trainer.divergence,
    }


def run_train(args: argparse.Namespace) -> int:
    trainer = _open_trainer(args)
    config = trainer.config
    if config.episodes is None and config.minutes is None:
        raise ValueError("give a training budget: --episodes E or --minutes M")
    out = Path(args.out)
    if config.episodes is not None:
        # tqdm's own rate would count validation time too and disagree with the run's
        # training rate beside it: the bar shows only the run's rate, in the postfix.
        bar = tqdm(total=config.episodes, initial=min(trainer.episodes_seen, config.episodes),
                   file=sys.stderr, disable=args.no_progress, dynamic_ncols=True,
                   bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} episodes [{elapsed}<{remaining}{postfix}]")  # fmt: skip
    else:
        bar = tqdm(total=round(config.minutes * 60), file=sys.stderr, disable=args.no_progress,
                   bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]",
                   dynamic_ncols=True)  # fmt: skip
    try:
        with GracefulStop() as stop:
            train_for_budget(
                trainer,
                episodes=config.episodes,
                seconds=None if config.minutes is None else config.minutes * 60,
                bar=bar,
                save_every_seconds=args.save_every * 60,
                out=out,
                stop=stop,
            )
            bar.close()
            trainer.save(out)
    except KeyboardInterrupt:  # the second Ctrl-C: the state may be mid-step, not saved
        bar.close()
        print(
            f"error: stopped at once; {out} keeps its last save (the steps since are lost)",
            file=sys.stderr,
        )
        return 130
    interrupted = stop.requested
    result = summary(trainer, out)
    if args.json:
        print(json.dumps(result))
    else:
        print(_summary_line(result))
    if trainer.divergence:
        print(f"error: {trainer.divergence}", file=sys.stderr)
        return 1
    return 130 if interrupted else 0


def _summary_line(result: dict[str, Any]) -> str:
    line = (
        f"{result['algo']} on {result['dataset']} ({result['device']}): {result['episodes']} episodes, "
        f"{result['iterations']} iterations, {result['episodes_per_second']:.1f} episodes/s"
    )
    if result["val_mean"] is not None:
        line += (
            f"; validation {result['val_metric']} {result['val_mean']:.4f} ± "
            f"{result['val_ci95']:.4f} at iteration {result['val_iteration']}"
        )
    return line + f"; saved to {result['run_dir']}"
