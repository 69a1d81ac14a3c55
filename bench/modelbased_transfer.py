"""Model-based learners (CNP, SNAIL-style) and the transfer baseline: speed and Omniglot accuracy.

Speed (``--part speed``): median seconds per meta-iteration, in interleaved rounds so
that every learner sees the same machine noise, on the project's reference settings:
CNP on sinusoid (meta-batch 25, K=10, Q=10); the sequence learner on Omniglot-shaped
synthetic tensors (5-way 1-shot, 15 queries, Conv4-64, meta-batch 32); the transfer
baseline's pretraining step (64 images, Conv4-64) and its ``adapt`` per 5-way 1-shot
episode (nearest class mean, 20 head-only steps, 20 whole-network steps).

Accuracy (``--part accuracy``): train on the Omniglot background alphabets of the
``train`` split for ``--minutes`` each, then evaluate on the held-out ``val`` alphabets,
600 episodes (``--whole-episodes`` for whole-network fine-tuning, which is slow),
5-way 1-shot and 5-shot, 15 queries, mean and 95% CI.

    python -m metalearn_core bench modelbased_transfer --part speed
    python -m metalearn_core bench modelbased_transfer --part accuracy --minutes 5 \\
        --data-dir ../shared/data/omniglot
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch

from metalearn_core.algorithms import make_learner
from metalearn_core.algorithms.base import MetaLearner
from metalearn_core.data import load_task_source
from metalearn_core.data.episodes import ClassificationSource, EpisodeBatch, EpisodeSampler
from metalearn_core.engine.evaluation import evaluate
from metalearn_core.spec import ProblemSpec

OMNIGLOT = ProblemSpec("classification", (1, 28, 28), 5, backbone="conv4", width=64)
SINUSOID = ProblemSpec("regression", (1,), 1, backbone="mlp")


# ----- speed -----------------------------------------------------------------------------------
def synthetic_images(classes: int, per_class: int, seed: int) -> ClassificationSource:
    generator = torch.Generator().manual_seed(seed)
    examples = [torch.rand(per_class, 1, 28, 28, generator=generator) for _ in range(classes)]
    return ClassificationSource("synthetic", "train", examples, [str(c) for c in range(classes)])


def speed_cases() -> dict[str, Callable[[], None]]:
    """Name -> one timed call; batches are drawn before timing starts."""
    sinusoid = EpisodeSampler(load_task_source("sinusoid", "train"), 1, 10, 10, seed=0)
    sine_batches = [sinusoid.sample_batch(25) for _ in range(8)]
    images = synthetic_images(100, 20, seed=0)
    omniglot = EpisodeSampler(images, 5, 1, 15, seed=0)
    image_batches = [omniglot.sample_batch(32) for _ in range(2)]
    episodes = [omniglot.sample() for _ in range(8)]
    cnp = make_learner("cnp", SINUSOID, seed=0)
    snail = make_learner("snail", OMNIGLOT, {"meta_batch": 32}, seed=0)
    transfer = make_learner("transfer", OMNIGLOT, seed=0)
    transfer.prepare(images)
    one = EpisodeBatch.stack(episodes[:1])
    variants = {
        "transfer adapt, nearest class mean (0 steps)": {"finetune_steps": 0},
        "transfer adapt, 20 head-only steps": {"finetune_steps": 20},
        "transfer adapt, 20 whole-network steps": {"finetune_steps": 20, "finetune_whole": True},
    }
    counter = {"i": 0}

    def cycle(items: list) -> object:
        counter["i"] += 1
        return items[counter["i"] % len(items)]

    defaults = transfer.hparams

    def adapt_with(changes: dict) -> Callable[[], None]:
        def run() -> None:
            transfer.hparams = defaults.replace(**changes)  # changes from the defaults only
            transfer.eval()
            transfer.adapt(cycle(episodes))
            transfer.train()

        return run

    cases: dict[str, Callable[[], None]] = {
        "cnp meta-iteration, sinusoid, meta-batch 25, K=10": lambda: cnp.meta_train_step(
            cycle(sine_batches)
        ),
        "snail meta-iteration, 5w1s q15, Conv4-64, meta-batch 32": lambda: snail.meta_train_step(
            cycle(image_batches)
        ),
        "transfer pretraining step, 64 images, Conv4-64": lambda: transfer.meta_train_step(one),
    }
    cases |= {name: adapt_with(changes) for name, changes in variants.items()}
    return cases


def run_speed(rounds: int, calls: int) -> dict[str, float]:
    cases = speed_cases()
    for case in cases.values():  # warm-up
        case()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            for _ in range(calls):
                start = time.perf_counter()
                case()
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"{name:60s} {seconds * 1000:9.1f} ms   {1 / seconds:8.2f} /s")
    return medians


# ----- accuracy --------------------------------------------------------------------------------
def train_for(
    learner: MetaLearner, samplers: list[EpisodeSampler], meta_batch: int, minutes: float
) -> str:
    """Train until ``minutes`` have passed, cycling through the samplers' episode shapes.

    Returns a description: steps, wall minutes and the CPU minutes this process got
    (on a shared machine the two differ a lot).
    """
    deadline, steps = time.perf_counter() + 60 * minutes, 0
    cpu_start = time.process_time()
    learner.train()
    while time.perf_counter() < deadline:
        result = learner.meta_train_step(samplers[steps % len(samplers)].sample_batch(meta_batch))
        steps += 1
        if steps % 100 == 0:
            print(f"  step {steps}: loss {result.loss:.3f} accuracy {result.accuracy:.3f}")
    cpu_minutes = (time.process_time() - cpu_start) / 60
    return f"{steps} steps, {minutes:g} min wall, {cpu_minutes:.1f} CPU-min"


def score(
    learner: MetaLearner, val: ClassificationSource, label: str, episodes: int = 600
) -> dict[str, str]:
    row = {"episodes": str(episodes)}
    for k_shot in (1, 5):
        result = evaluate(learner, val, 5, k_shot, 15, episodes=episodes, seed=0)
        row[f"5w{k_shot}s"] = f"{100 * result.accuracy:.1f} ± {100 * result.ci95:.1f}%"
    print(f"{label:70s} {row['5w1s']:>14s} {row['5w5s']:>14s}  ({episodes} episodes)")
    return row


def run_accuracy(
    minutes: float,
    data_dir: str,
    snail_batch: int,
    whole_episodes: int,
    device: str,
    learners: tuple[str, ...] = ("snail", "transfer"),
) -> dict[str, dict[str, str]]:
    train = load_task_source("omniglot", "train", data_dir=data_dir)
    val = load_task_source("omniglot", "val", data_dir=data_dir)
    print(f"omniglot train: {train.num_classes} classes, val: {val.num_classes} classes")
    rows = {}
    if "snail" in learners:
        rows |= accuracy_of_snail(train, val, minutes, snail_batch, device)
    if "transfer" in learners:
        rows |= accuracy_of_transfer(train, val, minutes, whole_episodes, device)
    return rows


def accuracy_of_snail(
    train: ClassificationSource, val: ClassificationSource, minutes: float, batch: int, device: str
) -> dict[str, dict[str, str]]:
    snail = make_learner("snail", OMNIGLOT, {"meta_batch": batch}, device, seed=0)
    shapes = [EpisodeSampler(train, 5, k, 5, seed=k) for k in (1, 5)]  # alternate K = 1, 5
    budget = train_for(snail, shapes, batch, minutes)
    label = f"snail, 5-way K=1/5 alternating, q5, meta-batch {batch}; {budget}"
    return {label: score(snail, val, label)}


def accuracy_of_transfer(
    train: ClassificationSource,
    val: ClassificationSource,
    minutes: float,
    whole_episodes: int,
    device: str,
) -> dict[str, dict[str, str]]:
    rows = {}
    transfer = make_learner("transfer", OMNIGLOT, device=device, seed=0)
    transfer.prepare(train)
    unused = [EpisodeSampler(train, 5, 1, 1, seed=0)]  # meta_train_step does not read it
    budget = train_for(transfer, unused, 1, minutes)
    defaults = transfer.hparams
    for variant, changes, episodes in (
        ("nearest class mean", {"finetune_steps": 0}, 600),
        ("20 head-only steps", {"finetune_steps": 20}, 600),
        ("20 whole-network steps", {"finetune_steps": 20, "finetune_whole": True}, whole_episodes),
    ):
        transfer.hparams = defaults.replace(**changes)
        label = f"transfer, {variant}; pretraining batch 64, {budget}"
        rows[label] = score(transfer, val, label, episodes)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("speed", "accuracy", "all"), default="speed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3, help="timed calls per case per round")
    parser.add_argument("--minutes", type=float, default=5.0, help="training time per learner")
    parser.add_argument("--snail-batch", type=int, default=8, help="episodes per snail step")
    parser.add_argument("--data-dir", default="../shared/data/omniglot")
    parser.add_argument(
        "--whole-episodes", type=int, default=100, help="episodes for whole-network fine-tuning"
    )
    parser.add_argument("--device", default="cpu", help="accuracy part: cpu or cuda")
    parser.add_argument(
        "--learners", default="snail,transfer", help="accuracy part: comma-separated subset"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads")
    results: dict[str, object] = {}
    if args.part in ("speed", "all"):
        results["speed_seconds"] = run_speed(args.rounds, args.calls)
    if args.part in ("accuracy", "all"):
        results["accuracy"] = run_accuracy(
            args.minutes,
            args.data_dir,
            args.snail_batch,
            args.whole_episodes,
            args.device,
            tuple(args.learners.split(",")),
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
