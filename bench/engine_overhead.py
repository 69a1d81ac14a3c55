"""Training engine overhead: Trainer.step vs a bare meta_train_step, checkpoint save/load.

The trainer adds, per step, a snapshot of the learner state (for divergence rollback),
a finiteness check of that state, an RNG swap and the history update. This script
times both paths back to back, step after step, so that they share the machine's
noise, and reports medians; then times saving and loading a checkpoint.

    python -m metalearn_core bench engine_overhead [--steps 100] [--threads 1] [--only maml]
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


def time_pairs(trainer: Trainer, steps: int) -> tuple[list[float], list[float], list[float]]:
    """Per step, back to back: sampling, a bare ``meta_train_step``, a whole ``Trainer.step``.

    Timing the paths in alternation makes each pair see the same machine load, so the
    per-pair difference is a fair estimate of the trainer's own cost even when others
    are using the CPU.
    """
    sampling, bare, full = [], [], []
    for _ in range(steps):
        start = time.perf_counter()
        batch = trainer.sampler.sample_batch(trainer.meta_batch)
        sampling.append(time.perf_counter() - start)
        start = time.perf_counter()
        trainer.learner.meta_train_step(batch)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        trainer.step()
        full.append(time.perf_counter() - start)
    return sampling, bare, full


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
    parser.add_argument("--steps", type=int, default=100, help="timed pairs of steps per case")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} step pairs per case")
    print(
        "| case | bare step (ms) | sampling (ms) | Trainer.step (ms) | overhead | save (ms) | load (ms) | checkpoint |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, config in CASES.items():
        if args.only and args.only not in name:
            continue
        trainer = Trainer(config.replace(val_every=0))
        trainer.run_tick(max_iterations=3)  # warm up (and let ProtoNet/MAML build their graphs)
        sampling, bare, full = time_pairs(trainer, args.steps)
        overheads = [f - b - s for s, b, f in zip(sampling, bare, full, strict=True)]
        bare_ms = 1e3 * statistics.median(bare)
        sampling_ms = 1e3 * statistics.median(sampling)
        full_ms = 1e3 * statistics.median(full)
        overhead = 1e3 * statistics.median(overheads)
        save_s, load_s, size = time_checkpoint(trainer)
        print(
            f"| {name} | {bare_ms:.2f} | {sampling_ms:.2f} | {full_ms:.2f} | "
            f"{overhead:+.2f} ms ({100 * overhead / full_ms:+.0f}%) | {1e3 * save_s:.1f} | "
            f"{1e3 * load_s:.1f} | {size / 1e6:.2f} MB |"
        )


if __name__ == "__main__":
    main()
