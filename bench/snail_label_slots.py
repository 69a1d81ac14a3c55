"""The sequence learner's label slots in the quick demo: 20 (the default) against 5.

Trains the SNAIL-style learner with the Train page's quick-demo settings (glyphs, 5-way
1-shot, 5 queries, Conv4 of width 32, meta-batch 4, Adam 1e-3) once per seed and slot
count, and scores 100 validation episodes after 15, 30, 45 and 60 CPU seconds of training
(the clock stops while scoring). With 20 slots every episode injects its 5 labels into a
random 5 of them, so each slot and its readout train a quarter as often; with 5 the
labels are still shuffled per episode, but over the 5 slots only.

    python bench/snail_label_slots.py --seeds 0,1,2,3 --slots 20,5

Prints one markdown row per run, then the mean per slot count. Run two at a time on a
2-core machine: the clock is each process's own CPU time.
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

from metalearn_core.engine import RunConfig, Trainer  # noqa: E402
from metalearn_core.engine.evaluation import evaluate  # noqa: E402

QUICK_DEMO = {"meta_batch": 4, "outer_lr": 1e-3}


def validation_curve(slots: int, seed: int, marks: list[float], episodes: int) -> list[float]:
    """Validation accuracy after each of ``marks`` CPU seconds of training."""
    config = RunConfig(dataset="glyphs", algo="snail", n_way=5, k_shot=1, q_query=5, width=32,
                       val_every=0, hparams=QUICK_DEMO | {"max_n_way": slots}, seed=seed)  # fmt: skip
    trainer = Trainer(config)
    curve, training_start = [], time.process_time()
    for mark in marks:
        while time.process_time() - training_start < mark:
            trainer.step()
        scoring_start = time.process_time()
        result = evaluate(
            trainer.learner, trainer.source("val"), 5, 1, 5, episodes=episodes, seed=1
        )
        curve.append(result.accuracy)
        training_start += time.process_time() - scoring_start
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--slots", default="20,5")
    parser.add_argument("--marks", default="15,30,45,60", help="CPU seconds of training")
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    marks = [float(m) for m in args.marks.split(",")]
    print("| slots | seed | " + " | ".join(f"{m:.0f} s" for m in marks) + " |")
    print("|---" * (len(marks) + 2) + "|")
    curves: dict[int, list[list[float]]] = {}
    for slots in (int(s) for s in args.slots.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            curve = validation_curve(slots, seed, marks, args.episodes)
            curves.setdefault(slots, []).append(curve)
            cells = " | ".join(f"{value:.1%}" for value in curve)
            print(f"| {slots} | {seed} | {cells} |", flush=True)
    for slots, runs in curves.items():
        means = " | ".join(
            f"**{statistics.fmean(column):.1%}**" for column in zip(*runs, strict=True)
        )
        print(f"| {slots} | mean | {means} |")


if __name__ == "__main__":
    main()
