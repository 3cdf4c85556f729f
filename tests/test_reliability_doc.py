"""docs/reliability.md names a test for every case of its matrix: each one must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def named_tests(text: str) -> list[tuple[str, str]]:
    """(file, function) for each test a table row names: ``tests/f.py::name``,
    and ``::name`` for another test of the file named before it in the row."""
    found = []
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        current = None
        for match in re.finditer(r"(tests/[\w/]+\.py)?::(\w+)", line):
            current = match.group(1) or current
            assert current, f"'::{match.group(2)}' names no file: {line}"
            found.append((current, match.group(2)))
    return found


def test_every_test_the_matrix_names_exists():
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = named_tests(text)
    assert len(named) > 60
    missing = [f"{f}::{name}" for f, name in named if name not in _test_functions(ROOT / f)]
    assert missing == []


def test_named_tests_parser():
    row = "| case | behaviour | `tests/a.py::test_x`, `::test_y`, `tests/b.py::test_z` |"
    assert named_tests(row) == [("tests/a.py", "test_x"), ("tests/a.py", "test_y"), ("tests/b.py", "test_z")]
    assert named_tests("not a row tests/a.py::test_x") == []
