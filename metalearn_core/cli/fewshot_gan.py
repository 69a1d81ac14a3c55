"""``python -m metalearn_core fewshot-gan``: meta-train a few-shot GAN, compare with scratch.

Example::

    python -m metalearn_core fewshot-gan --dataset rings --seed 0 --json

Meta-trains G and D with Reptile over tasks of the chosen family, adapts on held-out
tasks (unseen rings, or held-out classes) from the meta-learned start and from scratch
for the same number of steps, and prints the mean metrics of both. From scratch is run
Each start adapts at every learning rate of ``--adapt-lrs`` and is reported at its own
best (``meta_by_lr`` and ``scratch_by_lr`` list all).
"""

from __future__ import annotations

import argparse
import json

from metalearn_core.cli.arguments import seed_int
from metalearn_core.gan.fewshot import ARCHITECTURES
from metalearn_core.gan.fewshot_tasks import (
    ADAPT_LRS,
    FEWSHOT_DOMAINS,
    check_adapt_lrs,
    run_fewshot_experiment,
)


def learning_rates(text: str) -> tuple[float, ...]:
    """A comma list of learning rates, each in (0, 1]."""
    try:
        rates = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma list of numbers (e.g. 1e-3,2e-3)"
        ) from None
    try:
        check_adapt_lrs(rates)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return rates


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fewshot-gan",
        help="meta-train a few-shot GAN and compare it with training from scratch",
        description="Reptile over GAN tasks (FIGR-style); reports metrics after adaptation "
        "on held-out tasks for the meta-learned start and for from scratch.",
    )
    parser.add_argument("--dataset", choices=FEWSHOT_DOMAINS, default="rings")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--meta-iterations", type=int, help="Reptile iterations")
    parser.add_argument("--adapt-steps", type=int, help="GAN steps on each held-out task")
    parser.add_argument("--k-shot", type=int, help="examples per task")
    parser.add_argument("--inner-lr", type=float, help="Adam learning rate of the inner loop")
    parser.add_argument("--architecture", choices=ARCHITECTURES, help="networks (images)")
    parser.add_argument(
        "--condition-on-mean",
        action=argparse.BooleanOptionalAction,
        help="G and D also see the mean of the K examples",
    )
    parser.add_argument(
        "--adapt-lrs",
        type=learning_rates,
        default=ADAPT_LRS,
        help="comma list of adaptation learning rates tried; each start is reported at its best",
    )
    parser.add_argument(
        "--held-out-tasks", type=int, help="unseen tasks (default 10 rings, 12 image tasks)"
    )
    parser.add_argument("--per-task", action="store_true", help="include per-task metrics")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    changes = {
        name: getattr(args, name)
        for name in (
            "meta_iterations",
            "adapt_steps",
            "k_shot",
            "inner_lr",
            "architecture",
            "condition_on_mean",
        )  # fmt: skip
        if getattr(args, name) is not None
    }
    held_out = args.held_out_tasks
    if held_out is None:
        held_out = 10 if args.dataset == "rings" else 12  # images: each held-out class twice
    result = run_fewshot_experiment(
        args.dataset,
        seed=args.seed,
        held_out_tasks=held_out,
        adapt_lrs=args.adapt_lrs,
        **changes,
    ).as_dict()
    if not args.per_task:
        result.pop("per_task")
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['domain']}: {result['meta_iterations']} meta-iterations, "
        f"{result['adapt_steps']} adaptation steps, {result['seconds']:.1f} s; "
        f"learning rate meta-learned {result['meta_lr']:g}, from scratch {result['scratch_lr']:g}"
    )
    for key in result["meta_learned"]:
        print(
            f"  {key:32s} meta-learned {result['meta_learned'][key]:8.3f}   "
            f"from scratch {result['from_scratch'][key]:8.3f}"
        )
    return 0
