"""``python -m metalearn_core bench NAME [ARGS...]``: run the benchmark script bench/NAME.py.

Without NAME, lists the scripts with the first line of each one's docstring. Everything
after NAME goes to the script as its own command line; results are recorded by hand in
BENCHMARKS.md, with the machine they ran on.
"""

from __future__ import annotations

import argparse
import ast
import runpy
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark script from bench/ (list them without NAME)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="script name, without .py")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, metavar="ARGS", help="passed on")
    parser.set_defaults(handler=run_bench)


def bench_scripts(bench_dir: Path = BENCH_DIR) -> dict[str, str]:
    """Script name -> first docstring line, for every bench/*.py (helpers start with _)."""
    scripts = {}
    for path in sorted(bench_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        except SyntaxError:
            doc = "(does not parse)"
        scripts[path.stem] = doc.strip().splitlines()[0] if doc.strip() else ""
    return scripts


def run_bench(args: argparse.Namespace) -> int:
    scripts = bench_scripts()
    if args.name is None:
        if not scripts:
            print(f"no benchmark scripts in {BENCH_DIR}")
        for name, summary in scripts.items():
            print(f"{name:24s} {summary}")
        return 0
    if args.name not in scripts:
        raise ValueError(
            f"bench {args.name!r} not found in {BENCH_DIR}; available: {', '.join(scripts) or 'none'}"
        )
    return run_script(BENCH_DIR / f"{args.name}.py", args.script_args)


def run_script(path: Path, script_args: list[str]) -> int:
    """Run a script as ``__main__`` in this process, with its own argv; its exit status."""
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(path), *script_args]
    sys.path.insert(0, str(path.parent))  # scripts may import their sibling helpers
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0
