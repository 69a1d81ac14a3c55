"""``python -m metalearn_core gan``: train a 2-D GAN headless and report mode coverage.

Example (PacGAN's ring experiment)::

    python -m metalearn_core gan --dataset ring8 --loss nonsaturating --pack 2 \\
        --steps 3000 --seed 0 --json
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from metalearn_core.cli.arguments import seed_int
from metalearn_core.gan.losses import LOSSES
from metalearn_core.gan.toy_data import TOY_DATASETS
from metalearn_core.gan.toy_gan import MAX_TRAIN_STEPS, PRESETS, ToyGAN, ToyGANConfig, preset

# Flags that override the preset (or the defaults) only when given.
_OVERRIDES = {
    "dataset": "dataset", "loss": "loss", "pack": "pack", "batch_size": "batch_size",
    "g_lr": "g_lr", "d_lr": "d_lr", "d_steps": "d_steps", "g_steps": "g_steps",
    "noise_dim": "noise_dim",
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gan",
        help="train a 2-D GAN and report PacGAN's mode coverage",
        description="Train a 2-D GAN (ring of 8 Gaussians, 5x5 grid, moons, shapes) and "
        "report modes covered, the high-quality share and the reverse KL of mode counts "
        "on 2,500 samples.",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="start from a lesson preset")
    parser.add_argument("--dataset", choices=sorted(TOY_DATASETS))
    parser.add_argument("--loss", choices=LOSSES)
    parser.add_argument("--pack", type=int, help="samples per discriminator input (PacGAN m)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--g-lr", type=float, help="generator learning rate (Adam)")
    parser.add_argument("--d-lr", type=float, help="discriminator learning rate (Adam)")
    parser.add_argument("--d-steps", type=int, help="discriminator updates per step")
    parser.add_argument("--g-steps", type=int, help="generator updates per step")
    parser.add_argument("--noise-dim", type=int)
    parser.add_argument(
        "--steps", type=int, default=3000, help=f"training steps, 1 to {MAX_TRAIN_STEPS:,} "
        "(default 3000)"
    )  # fmt: skip
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def build_config(args: argparse.Namespace) -> ToyGANConfig:
    changes = {
        field: getattr(args, flag)
        for flag, field in _OVERRIDES.items()
        if getattr(args, flag) is not None
    }
    if args.preset:
        return preset(args.preset, seed=args.seed, **changes)
    return ToyGANConfig(seed=args.seed, **changes)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.steps <= MAX_TRAIN_STEPS:
        raise ValueError(f"--steps must be between 1 and {MAX_TRAIN_STEPS}, got {args.steps}")
    config = build_config(args)
    gan = ToyGAN(config)
    start = time.perf_counter()
    gan.train(args.steps)
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {
        "dataset": config.dataset,
        "loss": config.loss,
        "pack": config.pack,
        "steps": gan.steps,
        "seed": config.seed,
        "seconds": round(seconds, 2),
        "d_loss": gan.last_d_loss,
        "g_loss": gan.last_g_loss,
        "divergence": gan.divergence,
        "modes": None,
        "high_quality": None,
        "reverse_kl": None,
    }
    if gan.dataset.modes is not None:
        coverage = gan.evaluate()
        result.update(
            modes=coverage.modes,
            num_modes=coverage.num_modes,
            high_quality=coverage.high_quality,
            reverse_kl=coverage.reverse_kl,
            counts=list(coverage.counts),
        )
    result["config"] = config.as_dict()
    if args.json:
        print(json.dumps(result))
    else:
        if result["modes"] is not None:
            print(
                f"{config.dataset} {config.loss} pack={config.pack}: {result['modes']}/"
                f"{result['num_modes']} modes, high quality {result['high_quality']:.3f}, "
                f"reverse KL {result['reverse_kl']:.3f} after {gan.steps} steps ({seconds:.1f} s)"
            )
        else:
            print(f"{config.dataset}: {gan.steps} steps in {seconds:.1f} s, "
                  f"D loss {gan.last_d_loss:.3f}, G loss {gan.last_g_loss:.3f}")  # fmt: skip
        if gan.divergence:
            print(gan.divergence)
    return 0 if gan.divergence is None else 1
