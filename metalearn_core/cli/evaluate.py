"""``python -m metalearn_core evaluate``: the standard few-shot test of a saved run.

    python -m metalearn_core evaluate runs/proto20w --split test --n-way 5 --k-shot 1 \\
        --episodes 600 --json

Prints mean query accuracy over ``--episodes`` episodes with its 95% confidence interval
(1.96 * std / sqrt(episodes)); for regression the MSE. ``--json`` prints one JSON object
with ``accuracy`` (null for regression), ``ci95``, ``episodes``, ``n_way``, ``k_shot``,
``q_query``, ``loss``, ``mse`` (regression), ``split``, ``dataset``, ``algo``, ``device``,
``iteration`` and ``run_dir``. The episode shape defaults to the run's training shape;
any other N or K works for every algorithm that adapts to new episode shapes.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import torch

from metalearn_core.cli.arguments import bounded_int, positive_int, seed_int
from metalearn_core.engine import RunConfig, evaluate
from metalearn_core.engine.build import load_source
from metalearn_core.engine.checkpoint import (
    CheckpointError,
    checkpoint_path,
    learner_from_payload,
    read_checkpoint,
)
from metalearn_core.engine.evaluation import DEFAULT_EVAL_EPISODES
from metalearn_core.settings import settings_of

# 600 is the standard protocol; a hundred thousand already takes hours for MAML on a CPU
MAX_EVAL_EPISODES = 100_000


def register(subparsers: argparse._SubParsersAction) -> None:
    from metalearn_core.data import DATASETS

    parser = subparsers.add_parser(
        "evaluate",
        help="test a saved run on 600 episodes (mean accuracy, 95%% CI)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="a directory written by train or the app"
    )
    parser.add_argument("--dataset", choices=sorted(DATASETS), help="default: the run's data set")
    parser.add_argument("--data-dir", metavar="DIR", help="default: the run's data directory")
    parser.add_argument("--split", choices=("val", "test"), default="test")
    parser.add_argument("--n-way", type=positive_int, metavar="N", help="default: the run's N")
    parser.add_argument("--k-shot", type=positive_int, metavar="K", help="default: the run's K")
    parser.add_argument("--q-query", type=positive_int, metavar="Q", help="default: the run's Q")
    parser.add_argument(
        "--episodes", type=bounded_int(1, MAX_EVAL_EPISODES), default=DEFAULT_EVAL_EPISODES,
        metavar="E", help=f"test episodes (default {DEFAULT_EVAL_EPISODES}, at most {MAX_EVAL_EPISODES})",
    )  # fmt: skip
    parser.add_argument("--seed", type=seed_int, default=0, help="episode seed (default 0)")
    parser.add_argument("--device", help="default: the run's device (CPU if CUDA is missing)")
    threads = settings_of(RunConfig)["threads"]
    parser.add_argument("--threads", type=bounded_int(1, int(threads.high)), help=threads.help)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_evaluate)


def evaluate_run(args: argparse.Namespace) -> dict[str, Any]:
    """Load the run's learner, open the requested split, score it; the JSON-able result."""
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.episodes < 1:
        raise ValueError(f"--episodes {args.episodes} is invalid: must be >= 1")
    payload = read_checkpoint(checkpoint_path(args.run_dir))
    config, learner = learner_from_payload(payload, device=args.device)
    changes = {
        name: value
        for name, value in (("dataset", args.dataset), ("data_dir", args.data_dir))
        if value is not None
    }
    data_config = config.replace(**changes) if changes else config
    # the test episodes' shape, within the limits of a run's (RunConfig's checks)
    shape = data_config.replace(
        n_way=config.n_way if args.n_way is None else args.n_way,
        k_shot=config.k_shot if args.k_shot is None else args.k_shot,
        q_query=config.q_query if args.q_query is None else args.q_query,
    )
    source = load_source(data_config, args.split)
    result = evaluate(
        learner,
        source,
        n_way=shape.n_way,
        k_shot=shape.k_shot,
        q_query=shape.q_query,
        episodes=args.episodes,
        seed=args.seed,
    )
    try:
        iteration = int(payload["counters"]["iteration"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError("checkpoint holds no iteration counter") from None
    return result.to_dict() | {
        "algo": config.algo,
        "device": str(learner.device),
        "iteration": iteration,
        "run_dir": str(args.run_dir),
    }


def run_evaluate(args: argparse.Namespace) -> int:
    result = evaluate_run(args)
    if args.json:
        print(json.dumps(result))
        return 0
    shape = f"{result['n_way']}-way {result['k_shot']}-shot"
    where = f"{result['dataset']} {result['split']}, {result['episodes']} episodes"
    if result["accuracy"] is not None:
        print(
            f"{result['algo']} {shape} accuracy on {where}: "
            f"{100 * result['accuracy']:.2f}% ± {100 * result['ci95']:.2f}%"
        )
    else:
        print(
            f"{result['algo']} {shape} MSE on {where}: {result['mse']:.4f} ± {result['ci95']:.4f}"
        )
    return 0
