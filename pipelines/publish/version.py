"""The code version recorded in snapshots: package version plus a hash of everything on the
scoring path that can change a number.

What is hashed: the source of every ``pipelines`` module in the import closure of the scoring
path's entry points (:data:`SCORING_ROOTS`: the warehouse stages, backfill, the lineage rule,
the appraisal override, the engine, the snapshot) — found by reading their ``import`` statements,
those inside functions included — and the installed versions of the numeric libraries
(:data:`NUMERIC_LIBRARIES`). A report or CLI change outside that closure does not make an
otherwise identical snapshot look new; a numpy upgrade does.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGE = "pipelines"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # pipelines/
# the entry points of everything that turns inputs into a snapshot's numbers: the warehouse
# stages and backfill (evaluate/), the appraisal override, the lineage rule, the engine, and the
# snapshot that stores them
SCORING_ROOTS: tuple[str, ...] = (
    "pipelines.evaluate.stages",
    "pipelines.evaluate.backfill",
    "pipelines.evaluate.appraisal",
    "pipelines.framework.lineage",
    "pipelines.scoring.engine",
    "pipelines.publish.snapshot",
)
NUMERIC_LIBRARIES: tuple[str, ...] = ("numpy", "polars", "scipy", "duckdb")


def module_path(name: str) -> Path | None:
    """The source file of ``pipelines`` module ``name`` (a package: its ``__init__.py``), or
    None when there is none."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


_FROM = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]+)", re.M)


def _imported(name: str, path: Path) -> set[str]:
    """The ``pipelines`` modules ``path`` imports (anywhere in the file, function bodies
    included), and their packages. Import statements are read as text (an ``ast`` walk of
    every file is ten times slower); a match inside a string only adds a module to the hash."""
    source = path.read_text(encoding="utf-8")
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for module, names in _FROM.findall(source):
        if module.startswith("."):  # relative: from the package, up (dots − 1)
            dots = len(module) - len(module.lstrip("."))
            anchor = package.split(".")[: len(package.split(".")) - dots + 1]
            module = ".".join([*anchor, module.lstrip(".")] if module.strip(".") else anchor)
        found.add(module)
        # ``from pipelines.scoring import engine``: an imported name may be a module itself
        for item in re.sub(r"#[^\n]*", "", names).strip("() \n").split(","):
            item = item.strip().split(" ")[0]
            if item:
                found.add(f"{module}.{item}")
    for names in _IMPORT.findall(source):
        found.update(item.strip().split(" ")[0] for item in names.split(","))
    modules = set()
    for module in found:
        parts = module.split(".")
        # a module's packages run their __init__ when it is imported
        modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {m for m in modules if module_path(m) is not None}


def scoring_modules(roots: tuple[str, ...] = SCORING_ROOTS) -> list[str]:
    """Every ``pipelines`` module the ``roots`` import, directly or not (sorted)."""
    seen: set[str] = set()
    todo = []
    for root in roots:
        if module_path(root) is None:
            raise ModuleNotFoundError(f"scoring root {root!r} has no source in {PACKAGE_DIR}")
        todo.append(root)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_path(name)
        assert path is not None
        todo.extend(_imported(name, path) - seen)
    return sorted(seen)


def code_inputs() -> dict[str, str]:
    """What :func:`code_version` hashes: ``module:<path>`` → sha256 of its source for every
    module of :func:`scoring_modules`, ``library:<name>`` → installed version."""
    inputs = {}
    for name in scoring_modules():
        path = module_path(name)
        assert path is not None
        relative = path.relative_to(PACKAGE_DIR.parent).as_posix()
        inputs[f"module:{relative}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    for library in NUMERIC_LIBRARIES:
        try:
            inputs[f"library:{library}"] = version(library)
        except PackageNotFoundError:
            inputs[f"library:{library}"] = "absent"
    return inputs


def digest(inputs: dict[str, str]) -> str:
    """A sha256 over ``key=value`` lines of ``inputs`` in key order."""
    text = "".join(f"{key}={inputs[key]}\n" for key in sorted(inputs))
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def code_version() -> str:
    """``<package version>+<12 hex digits of digest(code_inputs())>``."""
    try:
        package = version("dti")
    except PackageNotFoundError:
        package = "0+unknown"
    return f"{package}+{digest(code_inputs())[:12]}"
