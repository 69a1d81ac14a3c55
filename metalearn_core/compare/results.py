"""A comparison's results: the cells pooled per learner, a reading, ``comparison.json``.

``comparison.json`` holds the plan, the machine, and per learner the main score
(``accuracy`` or ``mse``) with its 95% interval pooled over every seed's test episodes,
episodes trained, seconds, parameters, time per episode, per-seed, per-shot and per-way
rows, the inner-step curve and the training curves. No weights: the files are small
enough to keep in the repository (the prepared comparisons are such files).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metalearn_core.compare.plan import ComparisonError, ComparisonPlan
from metalearn_core.engine.evaluation import mean_ci95
from metalearn_core.words import N_

FORMAT = "metalearn-comparison"
VERSION = 1
RESULT_FILE = "comparison.json"
MAX_RESULT_BYTES = 20 * 1024 * 1024  # a comparison file is tens of kilobytes


def machine_description() -> str:
    """Where the comparison ran, in words (CPU cores or the GPU)."""
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} GPU"
    return f"{os.cpu_count()}-core CPU ({platform.machine()}), torch {torch.__version__}"


def _mean_rows(rows_by_seed: list[list[dict]], key: str) -> list[dict]:
    """Average per-seed rows (same order in every seed) field by field."""
    merged = []
    for rows in zip(*rows_by_seed, strict=True):
        means = [r["mean"] for r in rows if r.get("mean") is not None]
        row = {k: v for k, v in rows[0].items() if k not in ("mean", "ci95")}
        row["mean"] = float(np.mean(means)) if means else None
        row["ci95"] = float(np.mean([r["ci95"] for r in rows])) if means else None
        merged.append(row)
    return merged


def learner_summary(cells: list[dict], metric: str) -> dict[str, Any]:
    """One learner's cells (one per seed) as its row of the results."""
    cells = sorted(cells, key=lambda c: c["seed"])
    pooled = np.concatenate([np.asarray(c["episode_scores"], dtype=np.float64) for c in cells])
    mean, ci95 = mean_ci95(pooled)
    episodes = int(np.mean([c["episodes"] for c in cells]))
    seconds = float(np.mean([c["seconds"] for c in cells]))
    first = cells[0]
    inner = [c["inner_steps"] for c in cells if c["inner_steps"] is not None]
    return {
        "algo": first["algo"],
        metric: mean,
        "ci95": ci95,
        "episodes": episodes,
        "seconds": round(seconds, 3),
        "seconds_per_episode": seconds / episodes if episodes else None,
        "parameters": first["parameters"],
        "hparams": first["hparams"],
        "lr_schedule": first["lr_schedule"],
        "per_seed": [
            {
                k: c[k]
                for k in ("seed", metric, "ci95", "episodes", "iterations", "seconds", "diverged")
            }
            for c in cells
        ],
        "per_shot": _mean_rows([c["per_shot"] for c in cells], "k_shot"),
        "per_way": _mean_rows([c["per_way"] for c in cells], "n_way"),
        "inner_steps": _mean_rows(inner, "steps") if inner else None,
        "curves": first["curves"],
    }


def build_result(
    plan: ComparisonPlan, cells: list[dict], *, machine: str | None = None, command: str = ""
) -> dict[str, Any]:
    """The whole comparison from its cells (any order), with the generated reading."""
    metric = plan.metric
    learners = {}
    for algo in plan.algos:
        mine = [c for c in cells if c["algo"] == algo]
        if not mine:
            raise ComparisonError(f"no result for {algo}")
        learners[algo] = learner_summary(mine, metric)
    result = {
        "format": FORMAT,
        "version": VERSION,
        "metric": metric,
        "machine": machine or machine_description(),
        "command": command,
        "plan": plan.to_dict(),
        "learners": learners,
    }
    result["reading"] = reading(result)
    return result


def _title(algo: str) -> str:
    from metalearn_core.algorithms import ALGORITHMS

    cls = ALGORITHMS.get(algo)
    return cls.title if cls is not None else algo


def _value(metric: str, value: float) -> str:
    return f"{100 * value:.1f}%" if metric == "accuracy" else f"{value:.3g}"


@dataclass(frozen=True)
class ReadingWords:
    """The words of ``reading``, English by default (a page passes them translated)."""

    leads: str = N_(
        "{lead} leads on test {what}: {value} ± {ci}, ahead of {second} ({second_value} ± "
        "{second_ci}) by {gap}. "
    )
    points: str = N_("{gap} points")
    accuracy: str = N_("accuracy")
    mse: str = N_("MSE (lower is better)")
    overlap: str = N_(
        "Their 95% intervals overlap: on these test episodes the lead may be chance; more "
        "test episodes or seeds would tell."
    )
    apart: str = N_("Their 95% intervals do not overlap: the lead is more than chance.")
    last: str = N_(" {learner} comes last ({value}).")
    fastest: str = N_(" {learner} trains fastest ({ms} ms per episode).")


def reading(
    result: dict[str, Any],
    *,
    words: ReadingWords = ReadingWords(),
    title: Callable[[str], str] = _title,
) -> str:
    """Who leads, by how much, and whether the 95% intervals overlap, in words (``words``;
    ``title`` names a learner by its algorithm)."""
    metric = result["metric"]
    better_high = metric == "accuracy"
    rows = sorted(result["learners"].values(), key=lambda r: r[metric], reverse=better_high)
    lead, second = rows[0], rows[1]
    gap = abs(lead[metric] - second[metric])
    gap_text = words.points.format(gap=f"{100 * gap:.1f}") if better_high else f"{gap:.3g}"
    overlap = gap <= lead["ci95"] + second["ci95"]
    text = words.leads.format(
        lead=title(lead["algo"]),
        what=words.accuracy if better_high else words.mse,
        value=_value(metric, lead[metric]),
        ci=_value(metric, lead["ci95"]),
        second=title(second["algo"]),
        second_value=_value(metric, second[metric]),
        second_ci=_value(metric, second["ci95"]),
        gap=gap_text,
    )
    text += words.overlap if overlap else words.apart
    if len(rows) > 2:
        last = rows[-1]
        text += words.last.format(learner=title(last["algo"]), value=_value(metric, last[metric]))
    fastest = min(rows, key=lambda r: r["seconds_per_episode"] or float("inf"))
    if fastest["seconds_per_episode"]:
        text += words.fastest.format(
            learner=title(fastest["algo"]), ms=f"{1000 * fastest['seconds_per_episode']:.1f}"
        )
    return text


# ----- files -------------------------------------------------------------------------------
def write_result(out_dir: str | os.PathLike[str], result: dict[str, Any]) -> Path:
    """Write ``out_dir/comparison.json`` (atomically: a reader never sees half a file)."""
    from metalearn_core.engine.checkpoint import atomic_write

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULT_FILE
    atomic_write(path, json.dumps(result, indent=1) + "\n")
    return path


def read_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A ``comparison.json`` (or a folder holding one), checked to be one of ours.

    Raises:
        FileNotFoundError: no such file or folder.
        ComparisonError: unreadable, too large, or not a comparison file.
    """
    file = Path(path)
    if file.is_dir():
        file = file / RESULT_FILE
    if not file.is_file():
        raise FileNotFoundError(f"no comparison file at {str(file)!r}")
    if file.stat().st_size > MAX_RESULT_BYTES:
        raise ComparisonError(f"{file.name} is larger than {MAX_RESULT_BYTES} bytes")
    return parse_result(file.read_bytes(), file.name)


def parse_result(data: bytes, name: str = RESULT_FILE) -> dict[str, Any]:
    """Check and return a comparison from the bytes of its JSON file."""
    if len(data) > MAX_RESULT_BYTES:
        raise ComparisonError(f"{name} is larger than {MAX_RESULT_BYTES} bytes")
    try:
        result = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ComparisonError(f"{name} is not readable JSON ({error})") from None
    if not isinstance(result, dict) or result.get("format") != FORMAT:
        raise ComparisonError(f'{name} is not a comparison file (it has no "format": "{FORMAT}")')
    if result.get("version") != VERSION:
        raise ComparisonError(
            f"{name} is comparison format version {result.get('version')!r}; this version "
            f"reads {VERSION}"
        )
    _check_structure(result, name)
    return result


def _check_structure(result: dict[str, Any], name: str) -> None:
    metric = result.get("metric")
    learners = result.get("learners")
    if metric not in ("accuracy", "mse") or not isinstance(learners, dict) or len(learners) < 2:
        raise ComparisonError(f"{name} is damaged: no metric or fewer than two learners")
    for algo, row in learners.items():
        if not isinstance(row, dict):
            raise ComparisonError(f"{name} is damaged: learner {algo!r} has no row")
        for key in (metric, "ci95", "episodes", "seconds", "parameters"):
            value = row.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ComparisonError(f"{name} is damaged: {algo}'s {key} is {value!r}")
        curves = row.get("curves")
        if not isinstance(curves, dict):
            raise ComparisonError(f"{name} is damaged: {algo} has no curves")
    if not isinstance(result.get("reading"), str):
        raise ComparisonError(f"{name} is damaged: no reading")


MAX_ZIP_MEMBERS = 10_000  # a comparison folder holds one file, or a few saved runs


def parse_result_zip(data: bytes, name: str = "the zip") -> dict[str, Any]:
    """The ``comparison.json`` inside a zip of a comparison folder (at its top or in one
    folder), checked like a file; sizes are checked before anything is decompressed."""
    import io
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise ComparisonError(f"{name} is not a readable zip ({error})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ComparisonError(f"{name} holds more than {MAX_ZIP_MEMBERS} files")
        found = [
            m
            for m in members
            if not m.is_dir()
            and m.filename.rsplit("/", 1)[-1] == RESULT_FILE
            and m.filename.count("/") <= 1
        ]
        if len(found) != 1:
            raise ComparisonError(
                f"{name} holds {'no' if not found else 'more than one'} {RESULT_FILE} at its "
                "top or in one folder: zip the folder that compare --out wrote"
            )
        member = found[0]
        if member.file_size > MAX_RESULT_BYTES:
            raise ComparisonError(f"{member.filename} is larger than {MAX_RESULT_BYTES} bytes")
        try:
            with archive.open(member) as handle:
                content = handle.read(MAX_RESULT_BYTES + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError) as error:  # damaged, encrypted
            raise ComparisonError(f"{member.filename} cannot be read ({error})") from None
    return parse_result(content, member.filename)
