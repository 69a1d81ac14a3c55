"""``python -m metalearn_core algorithms``: what each algorithm does and what it can be set to.

    python -m metalearn_core algorithms                 # every algorithm, one paragraph each
    python -m metalearn_core algorithms maml --kind regression

Lists the algorithm's summary, the kinds of task it learns, and every hyperparameter with
its default for that kind of task (the papers' settings) and what it means. Any of them
can be given to ``train`` with ``--set NAME=VALUE``.
"""

from __future__ import annotations

import argparse
import textwrap

from metalearn_core.settings import settings_of


def register(subparsers: argparse._SubParsersAction) -> None:
    from metalearn_core.algorithms import ALGORITHMS

    parser = subparsers.add_parser(
        "algorithms",
        help="list the algorithms and their hyperparameters (defaults, meaning)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="ALGO",
                        help=f"one or more of {', '.join(ALGORITHMS)} (default: all)")  # fmt: skip
    parser.add_argument("--kind", choices=["classification", "regression"],
                        help="defaults for this kind of task (default: the first it learns)")  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from metalearn_core.algorithms import ALGORITHMS

    blocks = [describe(name, args.kind) for name in (args.names or ALGORITHMS)]
    print("\n\n".join(blocks))
    return 0


def describe(name: str, kind: str | None = None) -> str:
    """One algorithm as text: title, summary, task kinds, then a line per hyperparameter."""
    from metalearn_core.algorithms import ALGORITHMS, default_hparams
    from metalearn_core.spec import ProblemSpec

    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; allowed: {', '.join(ALGORITHMS)}")
    learner_class = ALGORITHMS[name]
    kind = kind or learner_class.task_kinds[0]
    if kind not in learner_class.task_kinds:
        raise ValueError(
            f"{name} learns {' and '.join(learner_class.task_kinds)} tasks, not {kind}"
        )
    spec = (
        ProblemSpec("regression", (1,), n_way=1, backbone="mlp")
        if kind == "regression"
        else ProblemSpec("classification", (1, 28, 28), n_way=5)
    )
    defaults = default_hparams(name, spec)
    lines = [
        f"{name}: {learner_class.title} ({', '.join(learner_class.task_kinds)})",
        textwrap.fill(learner_class.summary, 96, initial_indent="  ", subsequent_indent="  "),
        f"  hyperparameters ({kind} defaults):",
    ]
    for info in settings_of(type(defaults)).values():
        value = f"{info.name} = {getattr(defaults, info.name)!r}"
        if info.choices:
            limits = " [" + " | ".join(map(repr, info.choices)) + "]"
        else:
            limits = "" if info.kind is bool else f" [{info.allowed()}]"
        lines.append(f"    {value:<34} {info.help}{limits}".rstrip())
    return "\n".join(lines)
