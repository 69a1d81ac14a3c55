"""``python -m metalearn_core compare``: learners side by side on the same tasks.

    python -m metalearn_core compare --algos protonet,maml --dataset glyphs \\
        --n-way 5 --k-shot 1 --q-query 5 --episodes 2000 --seeds 0,1,2 --out cmp/glyphs
    python -m metalearn_core compare --algos protonet,maml,reptile --dataset omniglot \\
        --data-dir DATA --split val --n-way 5 --k-shot 1 --q-query 15 --minutes 5 \\
        --ray auto --out cmp/omniglot

Trains every (learner, seed) cell on the same episode stream with an equal budget
(``--episodes`` per learner, or ``--minutes`` of training time each), scores each on the
same test episodes (600 by default) and writes ``OUT/comparison.json``: per learner
``accuracy`` (or ``mse`` for regression) with its ``ci95`` pooled over the seeds,
``episodes``, ``seconds``, ``parameters``, per-seed, per-shot and per-way rows, the
accuracy after 0..10 test-time inner steps (MAML, first-order MAML, Reptile) and the
training curves, with a reading of who leads. The Compare page opens that folder.

Cells run in ``--workers`` processes (default: the cores), or as Ray tasks on a Ray
cluster (``--ray ADDRESS``, or ``auto`` for the one this machine belongs to). With an
episode budget the numbers do not depend on where the cells ran. Each learner starts from
its recommended recipe for a budget (``--no-recipe``: the papers' defaults); ``--set
ALGO.NAME=VALUE`` changes one learner's hyperparameter.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from metalearn_core.cli.arguments import (
    add_classroom_limits_flag,
    classroom_limits,
    positive_int,
    positive_minutes,
    seed_int,
)
from metalearn_core.cli.train import check_run_folder, parse_assignment
from metalearn_core.engine import RunConfig
from metalearn_core.engine.config import dataset_task_kind
from metalearn_core.engine.evaluation import DEFAULT_EVAL_EPISODES


def _int_list(parse):
    def parse_list(text: str) -> tuple[int, ...]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"{text!r} is empty: give comma-separated numbers")
        return tuple(parse(item) for item in items)

    return parse_list


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def register(subparsers: argparse._SubParsersAction) -> None:
    from metalearn_core.data import DATASETS

    parser = subparsers.add_parser(
        "compare",
        help="train 2 to 4 learners on the same episodes and budget, score them alike",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_argument_group("what to compare")
    what.add_argument(
        "--algos", type=_names, required=True, metavar="A,B[,C,D]",
        help="2 to 4 learners of one task kind, e.g. protonet,maml",
    )  # fmt: skip
    what.add_argument("--dataset", choices=sorted(DATASETS), required=True)
    what.add_argument("--data-dir", metavar="DIR", help="where the data set's files live")
    what.add_argument("--n-way", type=positive_int, metavar="N", help="default 5 (1: regression)")
    what.add_argument("--k-shot", type=positive_int, default=1, metavar="K")
    what.add_argument("--q-query", type=positive_int, default=5, metavar="Q")
    what.add_argument("--image-size", type=positive_int, metavar="PX")
    what.add_argument("--seeds", type=_int_list(seed_int), default=(0,), metavar="S,S,...",
                      help="one trained model per learner and seed (default 0)")  # fmt: skip
    what.add_argument("--data-seed", type=seed_int, default=0, metavar="S")
    what.add_argument(
        "--set", action="append", default=[], metavar="ALGO.NAME=VALUE",
        help="one learner's hyperparameter, repeatable, e.g. --set maml.inner_lr=0.1",
    )  # fmt: skip
    what.add_argument(
        "--no-recipe", action="store_true",
        help="the papers' defaults instead of each learner's recommended recipe",
    )  # fmt: skip

    budget = parser.add_argument_group("equal budget of every learner, one of")
    one = budget.add_mutually_exclusive_group(required=True)
    one.add_argument("--episodes", type=positive_int, metavar="E", help="training episodes")
    one.add_argument("--minutes", type=positive_minutes, metavar="M", help="training minutes")

    scoring = parser.add_argument_group("scoring (the same test episodes for every learner)")
    scoring.add_argument("--split", choices=("val", "test"), default="test",
                         help="split scored (Omniglot's background set alone: val)")  # fmt: skip
    scoring.add_argument(
        "--test-episodes", type=positive_int, default=DEFAULT_EVAL_EPISODES, metavar="E"
    )
    scoring.add_argument("--test-query", type=positive_int, metavar="Q",
                         help="queries per class when scoring (default: --q-query)")  # fmt: skip
    scoring.add_argument("--test-shots", type=_int_list(positive_int), default=(1, 5, 10),
                         metavar="K,K", help="other shots to score (default 1,5,10)")  # fmt: skip
    scoring.add_argument("--test-ways", type=_int_list(positive_int), default=(5, 20),
                         metavar="N,N", help="other ways to score (default 5,20)")  # fmt: skip
    scoring.add_argument("--inner-steps", type=int, default=10, metavar="S",
                         help="score step learners after 0..S test-time steps (default 10)")  # fmt: skip
    scoring.add_argument("--extra-episodes", type=positive_int, default=200, metavar="E",
                         help="episodes per point of the other shots, ways and steps")  # fmt: skip
    scoring.add_argument("--validate-every", type=int, default=100, metavar="E",
                         help="training episodes between validation points (0: never)")  # fmt: skip
    scoring.add_argument("--val-episodes", type=positive_int, default=50, metavar="E")

    where = parser.add_argument_group("where the cells run")
    where.add_argument("--workers", type=positive_int, metavar="W",
                       help="worker processes (default: the cores)")  # fmt: skip
    where.add_argument(
        "--ray", metavar="ADDRESS",
        help="run each cell as a task on this Ray cluster ('auto': the one this machine "
        "joined); needs pip install ray",
    )  # fmt: skip
    where.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    where.add_argument("--threads", type=positive_int, default=1, metavar="N",
                       help="torch threads per cell (default 1)")  # fmt: skip

    out = parser.add_argument_group("output")
    out.add_argument("--out", required=True, metavar="DIR", help="writes DIR/comparison.json")
    out.add_argument("--save-runs", action="store_true",
                     help="also save each cell's run in DIR/runs/ALGO-seedS (for evaluate)")  # fmt: skip
    out.add_argument("--machine", help="the machine's description in the results "
                     "(default: detected, e.g. '2-core CPU')")  # fmt: skip
    out.add_argument("--json", action="store_true", help="print comparison.json")
    add_classroom_limits_flag(parser)
    parser.set_defaults(handler=run_compare)


def per_learner_hparams(assignments: list[str], algos: tuple[str, ...]) -> dict[str, dict]:
    """``["maml.inner_lr=0.1"]`` -> ``{"maml": {"inner_lr": 0.1}}``."""
    hparams: dict[str, dict[str, Any]] = {}
    for text in assignments:
        name, value = parse_assignment(text)
        algo, dot, field = name.partition(".")
        if not dot or not field:
            raise ValueError(f"--set {text!r} is invalid: expected ALGO.NAME=VALUE")
        if algo not in algos:
            raise ValueError(f"--set {text!r}: {algo} is not one of --algos {','.join(algos)}")
        hparams.setdefault(algo, {})[field] = value
    return hparams


def plan_from_args(args: argparse.Namespace):
    from metalearn_core.compare import ComparisonPlan

    regression = dataset_task_kind(args.dataset) == "regression"
    n_way = args.n_way if args.n_way is not None else (1 if regression else 5)
    algos = args.algos
    # the shared config names a learner only to be valid; each learner replaces it
    base = RunConfig(
        dataset=args.dataset,
        algo="maml",
        n_way=n_way,
        k_shot=args.k_shot,
        q_query=args.q_query,
        data_dir=args.data_dir,
        image_size=args.image_size,
        data_seed=args.data_seed,
        device=args.device,
        threads=args.threads,
        val_episodes=args.val_episodes,
    )
    return ComparisonPlan(
        algos=algos,
        base=base,
        episodes=args.episodes,
        seconds=None if args.minutes is None else args.minutes * 60,
        seeds=args.seeds,
        test_split=args.split,
        test_episodes=args.test_episodes,
        test_query=args.test_query,
        test_shots=args.test_shots,
        test_ways=() if regression else args.test_ways,
        test_inner_steps=args.inner_steps,
        extra_episodes=args.extra_episodes,
        hparams=per_learner_hparams(args.set, algos),
        use_recipes=not args.no_recipe,
        validate_every=args.validate_every,
    )


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this comparison (recorded in the results)."""
    parts = ["python", "-m", "metalearn_core", "compare", "--algos", ",".join(args.algos)]
    parts += ["--dataset", args.dataset]
    if args.data_dir:
        parts += ["--data-dir", args.data_dir]
    for flag in ("n_way", "k_shot", "q_query", "image_size", "episodes", "minutes",
                 "test_query", "data_seed"):  # fmt: skip
        value = getattr(args, flag)
        if value is not None:
            parts += [f"--{flag.replace('_', '-')}", str(value)]
    parts += ["--seeds", ",".join(map(str, args.seeds)), "--split", args.split]
    parts += [
        "--test-episodes",
        str(args.test_episodes),
        "--extra-episodes",
        str(args.extra_episodes),
    ]
    parts += ["--test-shots", ",".join(map(str, args.test_shots))]
    parts += ["--test-ways", ",".join(map(str, args.test_ways))]
    parts += ["--inner-steps", str(args.inner_steps), "--validate-every", str(args.validate_every)]
    parts += [f"--set={text}" for text in args.set]
    if args.no_recipe:
        parts.append("--no-recipe")
    return shlex.join(parts + ["--out", args.out])


def check_plan(plan, limits) -> None:
    """Refuse a comparison a classroom server would refuse: every learner's settings
    within the limits, and no more learners than the runs one session may hold."""
    from metalearn_core.engine.config import ConfigError
    from metalearn_core.engine.limits import check_run_config

    if len(plan.algos) > limits.max_runs_per_session:
        raise ConfigError(
            "learners",
            len(plan.algos),
            f"this server allows at most {limits.max_runs_per_session:,} runs per session "
            "(classroom limit max_runs_per_session)",
        )
    for algo in plan.algos:
        check_run_config(plan.learner_config(algo), limits)


def run_compare(args: argparse.Namespace) -> int:
    from metalearn_core.compare import RESULT_FILE, build_result, run_grid, write_result

    plan = plan_from_args(args)
    if (limits := classroom_limits(args)) is not None:
        check_plan(plan, limits)
    out = Path(args.out)
    if (out / RESULT_FILE).exists():
        raise ValueError(f"--out {str(out)!r} already holds a {RESULT_FILE}; choose another folder")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file, not a folder")
    check_run_folder(out)  # writable, before hours of training
    total = len(plan.algos) * len(plan.seeds)
    done: list[dict] = []

    def progress(cell: dict[str, Any]) -> None:
        done.append(cell)
        score = cell[plan.metric]
        print(
            f"[{len(done)}/{total}] {cell['algo']} seed {cell['seed']}: {plan.metric} "
            f"{score:.4f} ± {cell['ci95']:.4f}, {cell['episodes']} episodes in "
            f"{cell['seconds']:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    cells = run_grid(
        plan,
        workers=args.workers,
        ray_address=args.ray,
        on_cell=progress,
        save_dir=str(out / "runs") if args.save_runs else None,
    )
    result = build_result(plan, cells, machine=args.machine, command=command_line(args))
    path = write_result(out, result)
    if args.json:
        print(json.dumps(result))
    else:
        print(summary_table(result))
        print(f"saved to {path}")
    return 0


def summary_table(result: dict[str, Any]) -> str:
    metric = result["metric"]
    lines = [f"{'learner':<12} {metric:>16} {'episodes':>9} {'seconds':>8} {'params':>9}"]
    for algo, row in result["learners"].items():
        value = (
            f"{100 * row[metric]:.1f} ± {100 * row['ci95']:.1f}%"
            if metric == "accuracy"
            else f"{row[metric]:.4f} ± {row['ci95']:.4f}"
        )
        lines.append(
            f"{algo:<12} {value:>16} {row['episodes']:>9} {row['seconds']:>8.1f} "
            f"{row['parameters']:>9}"
        )
    return "\n".join(lines + ["", result["reading"]])
