"""The CUDA path end to end, for a lent GPU machine: every algorithm through the CLI.

Each algorithm trains a few episodes with the default device (``auto``, which must pick
CUDA when torch sees one), is evaluated on that device, and its saved run is opened and
evaluated again on the CPU. The two scores, on the same episodes, must agree up to a few
of the 250 queries: CUDA and CPU kernels round differently, and the learners that
fine-tune for many steps at test time (Reptile, the transfer baseline) flipped one or two
queries on an H200 (BENCHMARKS.md). One run is trained twice to see whether the same seed
gives the same curve on this device. All in one process, so the check costs seconds, not
a torch import per command.

    python bench/cuda_check.py --out /tmp/cuda             # on the GPU machine
    python bench/cuda_check.py --out /tmp/cuda --expect cpu   # the same check without one

Prints a line per run and a JSON summary; exits 1 if any run failed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from metalearn_core.cli import main  # noqa: E402

RUNS = {
    **{
        f"{algo}-glyphs": ["--algo", algo, "--dataset", "glyphs", "--k-shot", "1"]
        for algo in ("maml", "fomaml", "reptile", "protonet", "matchingnet", "snail", "transfer")
    },
    "maml-vmap-glyphs": ["--algo", "maml", "--dataset", "glyphs", "--set", "strategy=vmap"],
    **{
        f"{algo}-sinusoid": ["--algo", algo, "--dataset", "sinusoid", "--k-shot", "10"]
        for algo in ("maml", "reptile", "cnp")
    },
}
TRAIN = ["--episodes", "8", "--val-every", "1000", "--no-progress", "--json", "--seed", "0"]
EVALUATE = ["--episodes", "10", "--json"]


def cli_json(args: list[str]) -> dict:
    """Run one CLI command in this process; its last stdout line, parsed."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = main(args)
    if code != 0:
        raise RuntimeError(f"exit status {code}: {' '.join(args)}")
    return json.loads(captured.getvalue().strip().splitlines()[-1])


def score(result: dict) -> float:
    return result["accuracy"] if result["accuracy"] is not None else result["mse"]


def tolerance(result: dict) -> float:
    """How far two devices' scores of one run may differ: 2% of the queries, or 1% of an MSE."""
    return 0.02 if result["accuracy"] is not None else 0.01 * result["mse"]


def check_run(name: str, options: list[str], out: Path, expect: str) -> dict:
    run = out / name
    shutil.rmtree(run, ignore_errors=True)
    trained = cli_json(["train", *options, *TRAIN, "--out", str(run)])
    on_default = cli_json(["evaluate", str(run), *EVALUATE])
    on_cpu = cli_json(["evaluate", str(run), *EVALUATE, "--device", "cpu"])
    difference = abs(score(on_default) - score(on_cpu))
    ok = (
        trained["device"] == on_default["device"] == expect
        and on_cpu["device"] == "cpu"
        and difference <= tolerance(on_cpu)
    )
    print(
        f"{name}: trained on {trained['device']} ({trained['episodes_per_second']:.0f} ep/s); "
        f"score on {on_default['device']} {score(on_default):.4f}, on cpu {score(on_cpu):.4f}"
        f"{'' if ok else '  FAILED'}",
        flush=True,
    )
    return {"run": name, "ok": ok, "device": trained["device"], "difference": difference}


def same_curve_twice(out: Path) -> bool:
    """Two runs of one config and seed: the same losses and accuracies on this device?"""
    curves = []
    for copy in ("a", "b"):
        run = out / f"repeat-{copy}"
        shutil.rmtree(run, ignore_errors=True)
        cli_json(["train", *RUNS["maml-glyphs"], *TRAIN, "--out", str(run)])
        curves.append(curve_without_timing(run / "metrics.csv"))
    same = curves[0] == curves[1]
    print(f"same seed twice, MAML on glyphs: {'identical' if same else 'DIFFERENT'} curves")
    return same


def curve_without_timing(metrics_csv: Path) -> list[dict]:
    with metrics_csv.open(newline="") as file:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(file)]


def main_check(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp/metalearn-cuda-check")
    parser.add_argument("--expect", default="cuda", help="the device 'auto' must pick")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name, options in RUNS.items():
        try:
            results.append(check_run(name, options, out, args.expect))
        except Exception as error:  # report every run, not only the first failure
            print(f"{name}: FAILED: {error}", flush=True)
            results.append({"run": name, "ok": False, "error": str(error)})
    repeatable = same_curve_twice(out)
    failed = [r["run"] for r in results if not r["ok"]]
    summary = {"failed": failed, "runs": len(results), "same_curve_twice": repeatable}
    print(json.dumps(summary))
    (out / "cuda_check.json").write_text(
        json.dumps({"summary": summary, "runs": results}, indent=1)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_check())
