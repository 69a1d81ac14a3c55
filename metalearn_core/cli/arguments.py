"""Argument types shared by the subcommands: a bad value is an argparse error (exit 2)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable


def _whole_number(text: str, low: int, high: int, allowed: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{value} is invalid: must be {allowed}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (threads, episodes, N, K, Q)."""
    return _whole_number(text, 1, sys.maxsize, "at least 1")


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type for an integer in ``low..high``."""

    def parse(text: str) -> int:
        return _whole_number(text, low, high, f"an integer in {low}..{high}")

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


def seed_int(text: str) -> int:
    """A seed: an integer from 0 to 2**63 - 1, as a run's own seed."""
    return _whole_number(text, 0, 2**63 - 1, "in 0..2**63-1")


def positive_minutes(text: str) -> float:
    """A finite number of minutes > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is invalid: must be a finite number > 0")
    return value


# ----- the classroom limits, when asked for ---------------------------------------------
SERVER_LOOKUP = "the server's"  # --classroom-limits without a path


def add_classroom_limits_flag(parser: argparse.ArgumentParser) -> None:
    """``--classroom-limits [PATH]``: check the run against a shared server's limits."""
    parser.add_argument(
        "--classroom-limits",
        nargs="?",
        const=SERVER_LOOKUP,
        metavar="PATH",
        help="refuse settings past a classroom server's limits (the [classroom] section "
        "of PATH; without PATH the server's lookup: $METALEARN_CLASSROOM_CONFIG, else "
        "./classroom.toml, else the defaults), with the message the app gives",
    )


def classroom_limits(args: argparse.Namespace):
    """The ``ServerLimits`` asked for with ``--classroom-limits``, or None (no limits)."""
    from metalearn_core.engine.limits import load_server_limits

    chosen = getattr(args, "classroom_limits", None)
    if chosen is None:
        return None
    return load_server_limits(None if chosen == SERVER_LOOKUP else chosen)
