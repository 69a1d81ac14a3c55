"""Matching Networks' attention scale: the paper's fixed 1, a fixed 10, and a learned one.

The Train page's quick-demo settings (5-way 1-shot, 5 queries, Conv4 of width 32,
one episode per step, Adam 1e-3) on the embedded data sets, trained for ``--steps``
steps, then scored on 100 validation episodes: accuracy, query loss, and how peaked the
attention is (the mean over queries of the largest attention weight).

    python bench/matching_scale.py --steps 500 --seeds 0,1,2

Prints one markdown row per data set, variant and seed.
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

from metalearn_core.algorithms import make_learner  # noqa: E402
from metalearn_core.algorithms.internals import AttentionView  # noqa: E402
from metalearn_core.data import EpisodeSampler, load_task_source  # noqa: E402
from metalearn_core.spec import ProblemSpec  # noqa: E402

VARIANTS = {
    "fixed 1 (paper)": {},
    "fixed 10": {"attention_scale": 10.0},
    "learned from 1": {"learn_attention_scale": True},
}


def score(dataset: str, hparams: dict, steps: int, seed: int) -> dict[str, float]:
    train = load_task_source(dataset, "train", seed=seed)
    val = load_task_source(dataset, "val", seed=seed)
    spec = ProblemSpec("classification", tuple(train.input_shape), n_way=5, width=32)
    learner = make_learner("matchingnet", spec, hparams, seed=seed)
    sampler = EpisodeSampler(train, 5, 1, 5, seed=seed)
    for _ in range(steps):
        learner.meta_train_step(sampler.sample_batch(1))
    learner.eval()
    episodes = EpisodeSampler(val, 5, 1, 5, seed=seed + 1000)
    adaptations = [learner.adapt(episodes.sample()) for _ in range(100)]
    return {
        "accuracy": statistics.fmean(a.query_accuracy for a in adaptations),
        "loss": statistics.fmean(a.query_loss for a in adaptations),
        "peak": statistics.fmean(
            a.find(AttentionView).attention.max(dim=1).values.mean().item() for a in adaptations
        ),
        "scale": adaptations[0].find(AttentionView).scale,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="glyphs,digits")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("| data set | attention scale | seed | val accuracy | val loss | peak attention "
          "| scale at the end | seconds |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for dataset in args.datasets.split(","):
        for name, hparams in VARIANTS.items():
            for seed in (int(s) for s in args.seeds.split(",")):
                start = time.perf_counter()
                result = score(dataset, hparams, args.steps, seed)
                print(
                    f"| {dataset} | {name} | {seed} | {result['accuracy']:.1%} "
                    f"| {result['loss']:.3f} | {result['peak']:.2f} | {result['scale']:.1f} "
                    f"| {time.perf_counter() - start:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
