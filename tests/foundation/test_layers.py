"""The library's layers import only downwards: data < spec < models < algorithms < engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "metalearn_core"


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top, inside functions or under TYPE_CHECKING."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _files(*parts: str) -> list[Path]:
    target = CORE.joinpath(*parts)
    return sorted(target.rglob("*.py")) if target.is_dir() else [target]


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        (("spec.py",), ("metalearn_core.models", "metalearn_core.algorithms")),
        (("models",), ("metalearn_core.algorithms", "metalearn_core.engine")),
        (("algorithms",), ("metalearn_core.engine", "metalearn_core.figures")),
        (("engine", "evaluation.py"), ("metalearn_core.engine.trainer",)),
        (("engine", "checkpoint.py"), ("metalearn_core.engine.trainer",)),
        (("engine", "build.py"), ("metalearn_core.engine.trainer",)),
    ],
)
def test_a_layer_never_imports_the_layers_above_it(layer, forbidden):
    for path in _files(*layer):
        above = sorted(
            name for name in _imported_modules(path) if name.startswith(tuple(forbidden))
        )
        assert not above, f"{path.relative_to(CORE)} imports {above}"


def test_the_import_scan_sees_an_import_under_type_checking(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from metalearn_core.algorithms.base import ProblemSpec\n"
    )
    assert "metalearn_core.algorithms.base" in _imported_modules(sample)
