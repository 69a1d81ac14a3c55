"""Command line: ``python -m metalearn_core <subcommand> ...``.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` (a function
``(args) -> int`` returning the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Order here is the order in --help.
SUBCOMMAND_MODULES = (
    "train", "evaluate", "compare", "algorithms", "bench", "gan", "fewshot_gan",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m metalearn_core",
        description="MetaLearn Studio, headless: train, evaluate and benchmark "
        "few-shot meta-learners and GANs with the same configurations as the app.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(f"metalearn_core.cli.{module_name}").register(subparsers)
    return parser


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.handler(args) or 0)
    except (ValueError, FileNotFoundError) as error:
        # Bad input gets one clear line, not a stack trace.
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the machine's side: a full disk, a folder gone
        print(f"error: {error}", file=sys.stderr)
        return 1
