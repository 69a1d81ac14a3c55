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
import zipfile
import zlib

from PIL import Image

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
        return fail(str(error))
    except (zipfile.BadZipFile, zlib.error) as error:  # a damaged or lying zip (bad CRC)
        return fail(f"a zip file is damaged or not what it claims: {error}")
    except Image.DecompressionBombError as error:
        return fail(f"an image is too large to decode: {error}")
    except RecursionError:
        return fail("an input (config or checkpoint) is nested too deeply to read")
    except MemoryError:
        return fail("not enough memory for these settings: choose smaller sizes")
    except RuntimeError as error:
        if not is_allocation_failure(error):
            raise  # a bug: its traceback is what a report needs
        return fail(f"not enough memory for these settings: choose smaller sizes ({error})")
    except OSError as error:  # the machine's side: a full disk, a folder gone
        return fail(str(error), status=1)


def fail(message: str, status: int = 2) -> int:
    """Print ``error: message`` on one line of stderr; return the exit status."""
    print(f"error: {' '.join(message.split())[:2000]}", file=sys.stderr)
    return status


def is_allocation_failure(error: RuntimeError) -> bool:
    """torch's allocators report a failed allocation as a RuntimeError (CPU) or its
    subclass ``OutOfMemoryError`` (CUDA), not as ``MemoryError``."""
    import torch

    return isinstance(error, torch.OutOfMemoryError) or "can't allocate memory" in str(error)
