"""Time to accuracy on Omniglot: train on the background "train" alphabets, validate on
the held-out background alphabets ("val"), 5-way 1- and 5-shot, 600 episodes, 95% CI.

Validation is run at the requested minutes of *training* time (the clock stops while
validating), so the curve reads "accuracy after 1, 2, 5 minutes of training".

    python bench/omniglot_accuracy.py --algo protonet --minutes 5 --checkpoints 1,2,5
    python bench/omniglot_accuracy.py --algo maml --minutes 5 --hparams '{"meta_batch": 8}'

Prints one JSON object (and writes it to --out if given).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from metalearn_core.algorithms import make_learner  # noqa: E402
from metalearn_core.algorithms.base import MetaLearner  # noqa: E402
from metalearn_core.algorithms.internals import InnerStepCurve  # noqa: E402
from metalearn_core.data import EpisodeSampler, load_task_source  # noqa: E402
from metalearn_core.spec import ProblemSpec  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", default=str(REPO_ROOT.parent / "shared" / "data" / "omniglot")
    )
    parser.add_argument(
        "--cache-dir", default=None, help="decoded-image cache (default: the data layer's)"
    )
    parser.add_argument("--algo", default="protonet")
    parser.add_argument("--minutes", type=float, default=5.0, help="training budget")
    parser.add_argument(
        "--checkpoints", default="1,2,5", help="minutes of training at which to validate"
    )
    parser.add_argument("--episodes", type=int, default=600, help="validation episodes per shot")
    parser.add_argument("--shots", default="1,5", help="validation k_shot values (5-way)")
    parser.add_argument("--eval-way", type=int, default=5)
    parser.add_argument(
        "--train-way", type=int, default=None, help="default: 5 (MAML) or 60 (metric)"
    )
    parser.add_argument("--train-shot", type=int, default=1)
    parser.add_argument("--train-query", type=int, default=None, help="default: 15 (MAML) or 5")
    parser.add_argument("--hparams", default="{}", help="JSON dict of hyperparameter changes")
    parser.add_argument("--rotations", action="store_true", help="train classes x4 by rotation")
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument(
        "--cosine-lr", action="store_true", help="anneal the outer lr to 0 over --minutes"
    )
    parser.add_argument(
        "--eval-batch-stats",
        action="store_true",
        help="validate in train() mode (batch statistics) instead of eval()",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--clock",
        default="process",
        choices=["process", "wall"],
        help="training time as this process's CPU time (what an idle machine gives with one "
        "thread; the default on a shared machine) or as wall-clock time",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the JSON here")
    return parser.parse_args(argv)


def validate(
    learner: MetaLearner, source, n_way: int, k_shot: int, episodes: int, seed: int
) -> dict:
    """Mean query accuracy over ``episodes`` 5-way episodes (15 queries) and its 95% CI.

    For learners that adapt by inner steps (MAML and kin) also the mean accuracy after
    each step 0..k (``accuracy_by_step``): whether more test steps help or overshoot.
    """
    sampler = EpisodeSampler(source, n_way, k_shot, 15, seed=seed)
    adaptations = [learner.adapt(sampler.sample()) for _ in range(episodes)]
    accuracies = torch.tensor([adaptation.query_accuracy for adaptation in adaptations])
    ci95 = 1.96 * accuracies.std(unbiased=True).item() / math.sqrt(episodes)
    result = {"accuracy": accuracies.mean().item(), "ci95": ci95}
    curves = [adaptation.find(InnerStepCurve) for adaptation in adaptations]
    by_step = [curve.query_accuracies if curve else None for curve in curves]
    if all(by_step):
        result["accuracy_by_step"] = torch.tensor(by_step).mean(dim=0).tolist()
    return result


def set_lr(learner: MetaLearner, factor: float, base_lrs: list[float]) -> None:
    for group, base in zip(learner.optimizer.param_groups, base_lrs, strict=True):
        group["lr"] = base * factor


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = (
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    is_maml = args.algo in ("maml", "fomaml", "reptile")
    train_way = args.train_way or (5 if is_maml else 60)
    train_query = args.train_query or (15 if is_maml else 5)
    load = dict(data_dir=args.data_dir, image_size=args.image_size, cache_dir=args.cache_dir)
    started = time.perf_counter()
    train_source = load_task_source("omniglot", "train", rotations=args.rotations, **load)
    val_source = load_task_source("omniglot", "val", **load)
    load_seconds = time.perf_counter() - started
    spec = ProblemSpec(
        "classification", tuple(train_source.input_shape), train_way, width=args.width
    )
    learner = make_learner(args.algo, spec, json.loads(args.hparams), device, seed=args.seed)
    sampler = EpisodeSampler(train_source, train_way, args.train_shot, train_query, seed=args.seed)
    meta_batch = learner.hparams.meta_batch
    base_lrs = [g["lr"] for g in learner.optimizer.param_groups]
    checkpoints = sorted(float(m) for m in args.checkpoints.split(","))
    shots = [int(k) for k in args.shots.split(",")]
    budget = args.minutes * 60
    clock = time.process_time if args.clock == "process" else time.perf_counter
    trained, wall, iterations, curve, last_loss = 0.0, 0.0, 0, [], float("nan")
    for checkpoint in checkpoints:
        target = min(checkpoint, args.minutes) * 60
        learner.train()
        while trained < target:
            if args.cosine_lr:
                set_lr(
                    learner, 0.5 * (1 + math.cos(math.pi * min(trained / budget, 1.0))), base_lrs
                )
            tick, wall_tick = clock(), time.perf_counter()
            result = learner.meta_train_step(sampler.sample_batch(meta_batch))
            trained += clock() - tick
            wall += time.perf_counter() - wall_tick
            iterations += 1
            last_loss = result.loss
            if not math.isfinite(last_loss):
                raise ValueError(f"training diverged at iteration {iterations}: loss {last_loss}")
        if not args.eval_batch_stats:
            learner.eval()
        point = {
            "minutes": trained / 60,
            "wall_minutes": wall / 60,
            "iterations": iterations,
            "train_loss": last_loss,
        }
        for k_shot in shots:
            point[f"{args.eval_way}w{k_shot}s"] = validate(
                learner, val_source, args.eval_way, k_shot, args.episodes, seed=1000 + k_shot
            )
        curve.append(point)
        print(json.dumps(point), file=sys.stderr, flush=True)
    report = {
        "algo": args.algo,
        "hparams": {k: v for k, v in vars(learner.hparams).items()},
        "train_way": train_way,
        "train_shot": args.train_shot,
        "train_query": train_query,
        "rotations": args.rotations,
        "cosine_lr": args.cosine_lr,
        "eval_mode": not args.eval_batch_stats,
        "threads": args.threads,
        "clock": args.clock,
        "device": device,
        "seed": args.seed,
        "load_seconds": load_seconds,
        "curve": curve,
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return report


if __name__ == "__main__":
    main()
