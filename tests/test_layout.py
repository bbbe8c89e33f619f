"""The layout of ``pipelines/``: no import circles among its modules, and no module too long to
read in one sitting.

The import graph is read from the source with ``ast`` (nothing is imported): every
``import``/``from … import`` naming a ``pipelines`` module counts, including those deferred inside a
function — a deferred import hides a circle, it does not remove it. Importing a package's module
does not count as importing the package's ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
MAX_LINES = 450

# Modules still over MAX_LINES while they are being split; empty it, never add to it.
KNOWN_LONG: set[str] = set()
# Import circles still being taken apart (each as the sorted modules on it); empty it too.
KNOWN_CIRCLES: set[tuple[str, ...]] = set()


def module_name(path: Path) -> str:
    """``pipelines/a/b.py`` → ``pipelines.a.b``; a package's ``__init__.py`` → the package."""
    parts = path.relative_to(PIPELINES.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def pipelines_modules() -> dict[str, Path]:
    """Every module of ``pipelines/`` by dotted name."""
    return {module_name(p): p for p in sorted(PIPELINES.rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``pipelines`` modules ``name`` imports anywhere in its source: ``from pkg import mod``
    names the module ``pkg.mod`` when it is one, else the package ``pkg``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:
                    found.add(full)
                elif base in known:
                    found.add(base)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Each ``pipelines`` module → the ``pipelines`` modules it imports."""
    modules = pipelines_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_circles_finds_a_circle_and_only_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [("a", "b", "c")]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_and_relative_imports_count(tmp_path: Path) -> None:
    source = tmp_path / "pipelines" / "pkg" / "mod.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from . import other\n"
        "def f():\n"
        "    from pipelines.pkg2.deep import thing\n"
        "    import pipelines.paths\n",
        encoding="utf-8",
    )
    known = {"pipelines.pkg.other", "pipelines.pkg2.deep", "pipelines.paths", "pipelines.pkg"}
    assert imported_modules("pipelines.pkg.mod", source, known) == {
        "pipelines.pkg.other",
        "pipelines.pkg2.deep",
        "pipelines.paths",
    }


def test_no_import_circles_in_pipelines() -> None:
    found = set(circles(import_graph()))
    new = sorted(found - KNOWN_CIRCLES)
    assert not new, "import circles among pipelines modules: " + "; ".join(
        " ↔ ".join(c) for c in new
    )


def test_no_pipelines_module_is_too_long() -> None:
    too_long = []
    for path in sorted(PIPELINES.rglob("*.py")):
        where = path.relative_to(PIPELINES.parent).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and where not in KNOWN_LONG:
            too_long.append(f"{where} ({lines} lines)")
    assert not too_long, f"pipelines modules over {MAX_LINES} lines: " + ", ".join(too_long)
