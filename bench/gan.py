"""GAN targets: PacGAN on the ring, the mode-collapse lesson, few-shot GANs; step speed.

    python -m metalearn_core bench gan [--only pacgan,collapse,rings,digits,glyphs,speed] [--json]
    python bench/gan.py --only digits        # also works: the repo root is put on sys.path

1. ``pacgan``: ring of 8 Gaussians, non-saturating loss, pairs (m = 2), 3,000 steps,
   seeds 0 and 1. Target: >= 7/8 modes and >= 80% high quality on both.
2. ``collapse``: the "mode_collapse" preset (unpacked, 5 generator updates per step),
   2,000 steps, seeds 0 and 1: expected to end on one or two modes.
3. ``rings``: few-shot GAN on random rings, default settings, 10 unseen rings, 20 steps.
   Target: >= 5 of 8 modes on average and >= 3 more than from scratch.
4. ``digits``: few-shot GAN on digits (8 and 9 held out, with rotations: 6 classes),
   12 held-out tasks, 10 steps. Target: class consistency >= 0.5 and >= 0.3 above from
   scratch, from scratch at its best learning rate (see docs/gan.md for the protocol).
5. ``glyphs``: the same on glyphs (200 held-out characters, 12 tasks); no target.
6. ``speed``: milliseconds per 2-D GAN step (pacgan preset), median of 5 rounds of 200.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

# ``python bench/gan.py`` puts bench/ first on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metalearn_core.gan.fewshot_tasks import run_fewshot_experiment
from metalearn_core.gan.toy_gan import ToyGAN, preset

ALL = ("pacgan", "collapse", "rings", "digits", "glyphs", "speed")


def toy_runs(preset_name: str, steps: int, seeds: tuple[int, ...]) -> list[dict]:
    rows = []
    for seed in seeds:
        gan = ToyGAN(preset(preset_name, seed=seed))
        start = time.perf_counter()
        gan.train(steps)
        coverage = gan.evaluate()
        rows.append(
            {
                "preset": preset_name, "seed": seed, "steps": gan.steps,
                "modes": coverage.modes, "high_quality": round(coverage.high_quality, 4),
                "reverse_kl": round(coverage.reverse_kl, 4),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    return rows


def step_speed(rounds: int = 5, steps: int = 200) -> dict:
    gan = ToyGAN(preset("pacgan", seed=0))
    gan.train(10)  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        gan.train(steps)
        times.append((time.perf_counter() - start) / steps * 1000)
    result = {"ms_per_step_median": round(statistics.median(times), 2),
              "ms_per_step_all": [round(t, 2) for t in times]}  # fmt: skip
    print(json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(ALL), help=f"comma list of {ALL}")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write all results to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(ALL)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {ALL}")
    results: dict = {}
    if "pacgan" in chosen:
        results["pacgan"] = toy_runs("pacgan", 3000, (0, 1))
    if "collapse" in chosen:
        results["collapse"] = toy_runs("mode_collapse", 2000, (0, 1))
    for domain in ("rings", "digits", "glyphs"):
        if domain in chosen:
            tasks = 10 if domain == "rings" else 12  # images: each held-out class twice
            outcome = run_fewshot_experiment(domain, seed=0, held_out_tasks=tasks).as_dict()
            outcome.pop("per_task")
            results[domain] = outcome
            print(json.dumps(outcome), flush=True)
    if "speed" in chosen:
        results["speed"] = step_speed()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
