"""Episodic tasks: episode sampling, Omniglot decode and cached load, glyph generation.

The four speed targets of the task layer, each against its limit:

1. one 20-way 5-shot 15-query Omniglot episode sampled in at most 2 ms;
2. the first decode of the Omniglot background set (19,280 PNGs) in at most 20 s;
3. a cached load of that set in at most 1 s;
4. 1,000 glyph classes of 20 drawings ready in at most 5 s.

Prints a markdown table. Wall-clock times are what a user waits; on a shared machine
they include time spent waiting for a core, so the table also gives this process's CPU
time and the load average at the start.

    python bench/tasks.py [--omniglot-dir ../shared/data/omniglot] [--repeats 3] [--threads 1]
    python -m metalearn_core bench tasks [ARGS...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from metalearn_core.data import EpisodeSampler, load_task_source  # noqa: E402
from metalearn_core.data.glyphs import GlyphsSource  # noqa: E402

DEFAULT_OMNIGLOT = REPO.parent / "shared" / "data" / "omniglot"


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def row(what: str, runs: list[tuple[float, float]], limit: float, unit: str = "s") -> str:
    scale = 1000 if unit == "ms" else 1
    wall = statistics.median(r[0] for r in runs) * scale
    cpu = statistics.median(r[1] for r in runs) * scale
    verdict = "yes" if wall <= limit else ("yes (CPU time)" if cpu <= limit else "**no**")
    return f"| {what} | {wall:.3g} {unit} | {cpu:.3g} {unit} | {limit:g} {unit} | {verdict} |"


def bench_episode(source, repeats: int) -> list[tuple[float, float]]:
    """Per-episode time of 20-way 5-shot 15-query sampling, as medians of 200-episode runs."""
    sampler = EpisodeSampler(source, n_way=20, k_shot=5, q_query=15, seed=0)
    for _ in range(20):  # warm up
        sampler.sample()
    runs = []
    for _ in range(repeats):
        wall, cpu = timed(lambda: [sampler.sample() for _ in range(200)])
        runs.append((wall / 200, cpu / 200))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--omniglot-dir", type=Path, default=DEFAULT_OMNIGLOT)
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{date.today()} · {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"load average {load:.1f} at start\n"
    )
    print("| target | wall (median) | CPU time | limit | met |")
    print("|---|---|---|---|---|")

    runs = [timed(lambda: GlyphsSource("train")) for _ in range(args.repeats)]
    print(row("glyphs: 1,000 classes x 20 drawings, 28x28", runs, 5.0), flush=True)

    if (
        not (args.omniglot_dir / "images_background.zip").exists()
        and not (args.omniglot_dir / "images_background").is_dir()
    ):
        print(f"| Omniglot rows | skipped: no background set in {args.omniglot_dir} | | | |")
        return 0
    with tempfile.TemporaryDirectory() as cache:

        def load(split="train", **kwargs):
            return load_task_source(
                "omniglot", split, data_dir=args.omniglot_dir, cache_dir=cache, **kwargs
            )

        runs = [timed(load)]  # the cache is empty: decode 19,280 PNGs and write the cache
        print(row("Omniglot background: first decode (+ cache write)", runs, 20.0), flush=True)
        runs = [timed(load) for _ in range(args.repeats)]
        print(row("Omniglot background: cached load", runs, 1.0), flush=True)
        source = load()
        runs = bench_episode(source, args.repeats)
        print(row("Omniglot 20-way 5-shot 15-query episode", runs, 2.0, "ms"), flush=True)
        rotated = load(rotations=True)
        runs = bench_episode(rotated, args.repeats)
        print(row("... same, with rotations (3,252 classes)", runs, 2.0, "ms"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
