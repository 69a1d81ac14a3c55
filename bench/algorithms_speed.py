"""Meta-iterations per second of every algorithm, MAML's vmap vs loop, 1 vs 2 threads.

(a) sinusoid: MLP 1-40-40-1, 25 tasks per meta-batch, K = 10 support and 10 query points,
    MAML second order (1 inner step), FOMAML, Reptile (its default inner loop).
(b) Omniglot-shaped: Conv4-64 on 28x28, 5-way 1-shot, 15 queries per class, meta-batch 32
    (synthetic images: speed does not depend on pixel values).

Each figure is the median of ``--repeats`` timed meta-iterations after one warm-up.

    python bench/algorithms_speed.py --suite all --threads 1,2 --repeats 5

Prints a markdown table and, with --json, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from metalearn_core.algorithms import make_learner  # noqa: E402
from metalearn_core.data import ClassificationSource, EpisodeSampler, load_task_source  # noqa: E402
from metalearn_core.spec import ProblemSpec  # noqa: E402

SINUSOID_RUNS = [
    ("maml", {"strategy": "vmap"}),
    ("maml", {"strategy": "loop"}),
    ("fomaml", {"strategy": "vmap"}),
    ("fomaml", {"strategy": "loop"}),
    ("reptile", {}),
]
OMNIGLOT_RUNS = [
    ("maml", {"strategy": "loop"}),
    ("maml", {"strategy": "vmap"}),
    ("fomaml", {"strategy": "loop"}),
    ("fomaml", {"strategy": "vmap"}),
    ("reptile", {}),
    ("protonet", {}),
    ("matchingnet", {}),
]


def synchronize(device: str) -> None:
    """Wait for queued CUDA kernels, so that a timer measures the work and not its launch."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(step, make_batch, repeats: int, device: str = "cpu") -> tuple[float, float]:
    """Median wall time and median process CPU time of ``step(batch)`` over ``repeats``
    calls, after one warm-up call. On a shared machine the CPU time of a one-thread run is
    what an idle machine would show as wall time."""
    step(make_batch())
    walls, cpus = [], []
    for _ in range(repeats):
        batch = make_batch()
        synchronize(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        step(batch)
        synchronize(device)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu_start)
    return statistics.median(walls), statistics.median(cpus)


def sinusoid_suite(threads: int, repeats: int, device: str) -> list[dict]:
    spec = ProblemSpec("regression", (1,), n_way=1, backbone="mlp")
    sampler = EpisodeSampler(load_task_source("sinusoid", "train"), 1, 10, 10, seed=0)
    rows = []
    for name, changes in SINUSOID_RUNS:
        learner = make_learner(name, spec, {"meta_batch": 25, **changes}, device, seed=0)
        seconds = median_seconds(
            learner.meta_train_step, lambda: sampler.sample_batch(25), repeats, device
        )
        rows.append(row("sinusoid", name, changes, threads, seconds, learner))
    return rows


def omniglot_suite(threads: int, repeats: int, device: str, algos: set[str] | None) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    classes = [torch.rand(20, 1, 28, 28, generator=g) for _ in range(40)]
    source = ClassificationSource("synthetic", "train", classes, [str(i) for i in range(40)])
    sampler = EpisodeSampler(source, 5, 1, 15, seed=0)
    spec = ProblemSpec("classification", (1, 28, 28), n_way=5, width=64)
    rows = []
    for name, changes in OMNIGLOT_RUNS:
        if algos and name not in algos:
            continue
        learner = make_learner(name, spec, {"meta_batch": 32, **changes}, device, seed=0)
        seconds = median_seconds(
            learner.meta_train_step, lambda: sampler.sample_batch(32), repeats, device
        )
        rows.append(row("omniglot28 5w1s", name, changes, threads, seconds, learner))
    return rows


def row(suite, name, changes, threads, seconds, learner) -> dict:
    wall, cpu = seconds
    return {
        "device": str(learner.device),
        "suite": suite,
        "algo": name,
        "variant": ",".join(f"{k}={v}" for k, v in changes.items()) or "-",
        "threads": threads,
        "seconds_per_iteration": wall,
        "iterations_per_second": 1 / wall,
        "cpu_seconds_per_iteration": cpu,
        "inner_steps": getattr(learner.hparams, "inner_steps", None),
    }


def speedups(rows: list[dict]) -> list[str]:
    """One line per (suite, algorithm, threads) measured with both strategies: vmap vs loop."""
    by_key = {(r["suite"], r["algo"], r["threads"], r["variant"]): r for r in rows}
    lines = []
    for (suite, algo, threads, variant), loop in by_key.items():
        vmap = by_key.get((suite, algo, threads, "strategy=vmap"))
        if variant == "strategy=loop" and vmap:
            ratio = loop["seconds_per_iteration"] / vmap["seconds_per_iteration"]
            lines.append(
                f"{suite}, {algo}, {threads} thread(s), {loop['device']}: "
                f"vmap is {ratio:.1f}x the loop (wall time)"
            )
    return lines


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="all", choices=["sinusoid", "omniglot", "all"])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--algos", default="", help="comma list to restrict the omniglot suite")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    algos = set(args.algos.split(",")) if args.algos else None
    rows: list[dict] = []
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        if args.suite in ("sinusoid", "all"):
            rows += sinusoid_suite(threads, args.repeats, args.device)
        if args.suite in ("omniglot", "all"):
            rows += omniglot_suite(threads, args.repeats, args.device, algos)
    print("| suite | algorithm | variant | threads | wall s / it | iterations / s | CPU s / it |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['suite']} | {r['algo']} | {r['variant']} | {r['threads']} | "
            f"{r['seconds_per_iteration']:.4f} | {r['iterations_per_second']:.2f} | "
            f"{r['cpu_seconds_per_iteration']:.4f} |"
        )
    for line in speedups(rows):
        print(line)
    if args.json:
        print(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
