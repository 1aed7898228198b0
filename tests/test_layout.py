"""The tests' own layout: a folder's tests use the shared worlds, never another folder's."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
SHARED = {"worlds", "support", "conftest", "code_calls"}


def cross_folder_imports() -> list[str]:
    """`file: module` for each import of another test folder's modules."""
    found = []
    for path in sorted(TESTS.glob("*/**/*.py")):
        folder = path.relative_to(TESTS).parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                parts = name.split(".")
                if parts[0] == "tests" and len(parts) > 1 and parts[1] not in {folder, *SHARED}:
                    found.append(f"{path.relative_to(TESTS)}: {name}")
    return found


def test_no_test_folder_imports_another() -> None:
    assert cross_folder_imports() == []
