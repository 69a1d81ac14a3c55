"""Training engine overhead: Trainer.step vs a bare meta_train_step, checkpoint save/load.

The trainer adds, per step, a snapshot of the learner state (for divergence rollback),
a finiteness check of that state, an RNG swap and the history update. This script
times both paths on the same episodes, interleaved in rounds to share the machine's
noise, and reports medians; then times saving and loading a checkpoint.

    python -m metalearn_core bench engine_overhead [--steps 30] [--rounds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from metalearn_core.engine import RunConfig, Trainer
from metalearn_core.engine.checkpoint import CHECKPOINT_FILE

CASES = {
    "protonet / blobs (MLP)": RunConfig(
        dataset="blobs", algo="protonet", n_way=5, k_shot=1, q_query=5
    ),
    "protonet / glyphs (Conv4-64), 5w1s q5": RunConfig(
        dataset="glyphs", algo="protonet", n_way=5, k_shot=1, q_query=5
    ),
    "maml / sinusoid (MLP 40-40), meta-batch 25": RunConfig(
        dataset="sinusoid", algo="maml", n_way=1, k_shot=10, q_query=10
    ),
    "maml / glyphs (Conv4-64), 5w1s q5, meta-batch 4": RunConfig(
        dataset="glyphs", algo="maml", n_way=5, k_shot=1, q_query=5, hparams={"meta_batch": 4}
    ),
}


def time_bare(trainer: Trainer, steps: int) -> float:
    """Median seconds of ``learner.meta_train_step`` alone, on the trainer's own batches."""
    times = []
    for _ in range(steps):
        batch = trainer.sampler.sample_batch(trainer.meta_batch)
        start = time.perf_counter()
        trainer.learner.meta_train_step(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_trainer(trainer: Trainer, steps: int) -> float:
    """Median seconds of a whole ``Trainer.step`` (sampling included, as bare includes it not)."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_sampling(trainer: Trainer, steps: int) -> float:
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        trainer.sampler.sample_batch(trainer.meta_batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_checkpoint(trainer: Trainer, repeats: int = 5) -> tuple[float, float, int]:
    saves, loads = [], []
    opened = {split: trainer.source(split) for split in ("train", "val")}
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        for _ in range(repeats):
            start = time.perf_counter()
            trainer.save(run)
            saves.append(time.perf_counter() - start)
            start = time.perf_counter()
            Trainer.load(run, sources=opened)  # data already open: time the file
            loads.append(time.perf_counter() - start)
        size = (run / CHECKPOINT_FILE).stat().st_size
    return statistics.median(saves), statistics.median(loads), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per round and path")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), {args.rounds} rounds x {args.steps} steps"
    )
    print(
        "| case | bare step (ms) | sampling (ms) | Trainer.step (ms) | overhead | save (ms) | load (ms) | checkpoint |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, config in CASES.items():
        if args.only and args.only not in name:
            continue
        trainer = Trainer(config.replace(val_every=0))
        trainer.run_tick(max_iterations=3)  # warm up (and let ProtoNet/MAML build their graphs)
        bare, sampling, full = [], [], []
        for _ in range(args.rounds):  # interleave, so that load changes hit both paths alike
            bare.append(time_bare(trainer, args.steps))
            sampling.append(time_sampling(trainer, args.steps))
            full.append(time_trainer(trainer, args.steps))
        bare_ms = 1e3 * statistics.median(bare)
        sampling_ms = 1e3 * statistics.median(sampling)
        full_ms = 1e3 * statistics.median(full)
        overhead = full_ms - bare_ms - sampling_ms
        save_s, load_s, size = time_checkpoint(trainer)
        print(
            f"| {name} | {bare_ms:.2f} | {sampling_ms:.2f} | {full_ms:.2f} | "
            f"{overhead:+.2f} ms ({100 * overhead / full_ms:+.0f}%) | {1e3 * save_s:.1f} | "
            f"{1e3 * load_s:.1f} | {size / 1e6:.2f} MB |"
        )


if __name__ == "__main__":
    main()
