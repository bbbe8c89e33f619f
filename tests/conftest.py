"""Test-wide set-up: every test runs against its own working area, never the user's ./var."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``slow`` is the older name of ``system``; tests marked ``system(first=True)`` (the
    longest) are put first, so that a parallel run starts them before everything else."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("system"):
            item.add_marker(pytest.mark.system)

    def starts_first(item: pytest.Item) -> bool:
        marker = item.get_closest_marker("system")
        return bool(marker and marker.kwargs.get("first"))

    items.sort(key=lambda item: not starts_first(item))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """DTI_HOME and DAGSTER_HOME point into a fresh temporary folder for each test."""
    home = tmp_path_factory.mktemp("dti_home")
    monkeypatch.setenv("DTI_HOME", str(home))
    monkeypatch.delenv("DTI_WAREHOUSE", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    (home / "dagster").mkdir()
    return home


@pytest.fixture
def dti_executable() -> str:
    """The installed ``dti`` console script of the running environment."""
    import sys

    path = Path(sys.executable).parent / "dti"
    assert path.exists(), f"console script missing: {path}"
    return str(path)


def subprocess_env(home: Path) -> dict[str, str]:
    """Environment for a child process that uses ``home`` as its working area."""
    env = dict(os.environ)
    env.update({"DTI_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")})
    env.pop("DTI_WAREHOUSE", None)
    return env
