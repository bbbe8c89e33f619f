"""How ``pytest -n 2 --dist loadfile`` shares the tests between its workers: one work unit per
test file (so a module's own fixtures are built once), except that the files reading a warehouse
that a process builds once for everyone (``build_tiny_site``, ``analysis_warehouse``) form one
unit together, so that each is built once per run instead of once per worker."""

from __future__ import annotations

import re
from pathlib import Path

from xdist.scheduler import LoadFileScheduling

TESTS = Path(__file__).resolve().parents[1]
SHARED_BUILDS = ("build_tiny_site", "analysis_warehouse")


def shared_units(tests: Path = TESTS) -> dict[str, str]:
    """Test file (as in a node id, ``tests/test_x.py``) → the shared build it calls."""
    units = {}
    for path in sorted(tests.glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        for name in SHARED_BUILDS:
            if re.search(rf"\b{name}\(", text):
                units[f"{tests.name}/{path.name}"] = name
                break
    return units


class SharedBuildScheduling(LoadFileScheduling):
    """``--dist loadfile``, with the files of a shared build in one unit."""

    def __init__(self, config, log=None) -> None:
        super().__init__(config, log)
        self.units = shared_units()

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return self.units.get(path, path)
