"""Reptile's test-time steps: accuracy and seconds per validation episode, quick-demo run.

Trains Reptile with the Train page's quick-demo settings (glyphs, 5-way 1-shot, 5 queries,
Conv4 of width 32, meta-batch 4) for ``--seconds`` of training ticks, then scores the same
``--episodes`` validation episodes after 5, 10, 20 and 50 test steps (the paper's 50).

    python bench/reptile_test_steps.py --seconds 90 --episodes 40

Prints one markdown row per number of test steps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from metalearn_core.data import EpisodeSampler  # noqa: E402
from metalearn_core.engine import RunConfig, Trainer  # noqa: E402

QUICK_DEMO = {"meta_batch": 4, "inner_steps_test": 50}  # the quick demo before its change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="training time")
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--steps", default="5,10,20,50")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = RunConfig(dataset="glyphs", algo="reptile", n_way=5, k_shot=1, q_query=5,
                       width=32, val_every=0, hparams=QUICK_DEMO, seed=0)  # fmt: skip
    trainer = Trainer(config)
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        trainer.run_tick(max_seconds=1.0)
    print(f"{trainer.episodes_seen} training episodes in {args.seconds:.0f} s")
    print("| test steps | val accuracy | s / episode |")
    print("|---|---|---|")
    learner, source = trainer.learner, trainer.source("val")
    for steps in (int(s) for s in args.steps.split(",")):
        learner.hparams = learner.hparams.replace(inner_steps_test=steps)
        sampler = EpisodeSampler(source, 5, 1, 5, seed=7)  # the same episodes for every row
        began = time.perf_counter()
        scores = [learner.adapt(sampler.sample()).query_accuracy for _ in range(args.episodes)]
        seconds = (time.perf_counter() - began) / args.episodes
        print(f"| {steps} | {statistics.fmean(scores):.1%} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
