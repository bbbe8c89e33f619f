"""The portal is a top layer: nothing in ``pipelines`` or ``dti_assets`` imports it, and inside it
only two modules reach into ``pipelines`` (the intake side and the warehouse reads)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_nothing_below_imports_the_portal() -> None:
    for package in ("pipelines", "dti_assets"):
        for path in (ROOT / package).rglob("*.py"):
            assert not any(m.split(".")[0] == "dti_portal" for m in imported(path)), path


def test_the_portal_reaches_the_pipeline_through_two_modules() -> None:
    users = {
        path.name
        for path in (ROOT / "dti_portal").rglob("*.py")
        if any(m.split(".")[0] == "pipelines" for m in imported(path))
    }
    assert users == {"pipeline.py", "results.py"}
