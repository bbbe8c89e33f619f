"""Shared inputs of the analysis tests.

* :func:`analysis_warehouse` — the tiny preset (4 departments; 5 communes in 2 districts) built
  once per session through Dagster in memory for 2023 and 2024: demo workbooks, the annual
  pipeline and the analysis assets. Tests that write take a copy (:func:`copy_of`).
* :func:`hand_input` — four units A–D on the tiny framework with values chosen so that every
  method's points can be computed by hand (see tests/test_compare.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from pipelines.analysis.inputs import AnalysisInput, asem_dir
from pipelines.framework.load import load_framework
from pipelines.scoring.methods import MethodSpec

FIXTURES = Path(__file__).parent / "fixtures"
TINY = str(FIXTURES / "presets" / "tiny.yaml")
TINY_FRAMEWORK = FIXTURES / "frameworks" / "tiny.yaml"
ASEM = asem_dir()
YEARS = ("2023", "2024")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
_BUILT: dict[str, Path] = {}


def analysis_warehouse(factory: pytest.TempPathFactory) -> Path:
    """The session's tiny warehouse with every analysis asset materialised (built on first use)."""
    if "warehouse" in _BUILT:
        return _BUILT["warehouse"]
    import dagster as dg

    from dti_assets.definitions import all_assets, analysis_assets
    from dti_assets.resources import DtiSettings, Warehouse

    home = factory.mktemp("analysis_home")
    resources = {
        "warehouse": Warehouse(database=str(home / "w.duckdb")),
        "settings": DtiSettings(
            preset=TINY, inbox=str(home / "inbox"), archive=str(home / "archive")
        ),
    }
    demo = [a for a in all_assets if a.key.to_user_string() == "demo_submissions"]
    annual = [
        a
        for a in all_assets
        if a.key.to_user_string() not in ("demo_submissions", "year_report", "year_annex")
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DTI_HOME", str(home))
        patch.delenv("DTI_WAREHOUSE", raising=False)
        for year in YEARS:
            for assets in (demo, annual, analysis_assets):
                result = dg.materialize(
                    assets,
                    partition_key=year,
                    resources=resources,
                    instance=dg.DagsterInstance.ephemeral(),
                    run_config=QUIET,
                )
                assert result.success
    _BUILT["warehouse"] = home / "w.duckdb"
    return _BUILT["warehouse"]


def copy_of(warehouse: Path, folder: Path) -> Path:
    target = folder / "copy.duckdb"
    shutil.copyfile(warehouse, target)
    return target


# A, B, C, D on the tiny framework (P1: P1.1 ratio to 100 % max 25, P1.2 yes/no max 15;
# P2: P2.1 steps 4→30, 3→20, 1→10 max 30, P2.2 days lower-is-better ratio to 1 day max 30).
HAND_VALUES = {
    "A": {"P1.1": 100.0, "P1.2": 1.0, "P2.1": 4.0, "P2.2": 1.0},
    "B": {"P1.1": 50.0, "P1.2": 1.0, "P2.1": 4.0, "P2.2": 2.0},
    "C": {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 1.0, "P2.2": 4.0},
    "D": {"P1.1": 50.0, "P1.2": 0.0, "P2.1": 5.0, "P2.2": 1.0},
}


def values_frame(values: dict[str, dict[str, float | None]], year: int = 2024) -> pl.DataFrame:
    rows = [
        {"unit_id": unit, "year": year, "node_id": node, "value": value}
        for unit, leaves in values.items()
        for node, value in leaves.items()
    ]
    return pl.DataFrame(
        rows,
        schema={"unit_id": pl.String, "year": pl.Int32, "node_id": pl.String, "value": pl.Float64},
    )


def hand_input(
    values: dict[str, dict[str, float | None]] | None = None,
    groups: dict[str, str] | None = None,
    nominal: MethodSpec | None = None,
) -> AnalysisInput:
    """An AnalysisInput of hand-made values on the tiny framework (one group unless given)."""
    values = values or HAND_VALUES
    groups = groups or {unit: "g" for unit in values}
    units = pl.DataFrame(
        {
            "unit_id": list(groups),
            "year": [2024] * len(groups),
            "group_id": list(groups.values()),
        },
        schema={"unit_id": pl.String, "year": pl.Int32, "group_id": pl.String},
    )
    return AnalysisInput(
        framework=load_framework(TINY_FRAMEWORK),
        values=values_frame(values),
        units=units,
        level="department",
        year=2024,
        nominal=nominal or MethodSpec("minmax"),
        names={unit: f"Unit {unit}" for unit in values},
        source="hand",
    )
