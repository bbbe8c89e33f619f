"""Test-wide set-up: every test runs against its own working area, never the user's ./var."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_itemcollected(item: pytest.Item) -> None:
    """``slow`` is the older name of ``system``."""
    if item.get_closest_marker("slow") and not item.get_closest_marker("system"):
        item.add_marker(pytest.mark.system)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: absent when it is not loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile``: one worker per test file, and per warehouse several files share
    (tests/support/scheduling.py)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from support.scheduling import SharedBuildScheduling

    return SharedBuildScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``system(first=True)`` (the longest) are put first, so that a parallel run
    starts them before everything else."""

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


def _dti() -> str:
    path = Path(sys.executable).parent / "dti"
    assert path.exists(), f"console script missing: {path}"
    return str(path)


@pytest.fixture
def dti_executable() -> str:
    """The installed ``dti`` console script of the running environment."""
    return _dti()


def subprocess_env(home: Path) -> dict[str, str]:
    """Environment for a child process that uses ``home`` as its working area."""
    env = dict(os.environ)
    env.update({"DTI_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")})
    env.pop("DTI_WAREHOUSE", None)
    return env


@dataclass(frozen=True)
class DemoYear:
    """The README's main job for one year, ``dti demo --years 2024``, run once in ``home``."""

    home: Path
    run: subprocess.CompletedProcess

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse" / "dti.duckdb"


@pytest.fixture(scope="session")
def demo_2024(tmp_path_factory: pytest.TempPathFactory) -> DemoYear:
    """``dti demo --years 2024`` in its own working area, run once per session (each test asserts
    its exit code). Tests read it; one that runs the demo there again must leave it unchanged."""
    home = tmp_path_factory.mktemp("demo_2024")
    run = subprocess.run(
        [_dti(), "demo", "--years", "2024"],
        env=subprocess_env(home),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return DemoYear(home=home, run=run)
