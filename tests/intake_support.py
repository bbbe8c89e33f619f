"""Helpers shared by the intake tests: a private copy of the tiny preset (so a test may edit its
unit registry), workbooks written for its units, and small queries."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import duckdb

from pipelines import paths
from pipelines.framework.preset import Preset, load_preset
from pipelines.store import warehouse
from pipelines.store.reference import store_reference
from pipelines.workbook.write import write_appraisal_workbook, write_unit_workbook

FIXTURES = Path(__file__).parent / "fixtures"
YEAR = 2024
# 2024-03-05 08:00:00 UTC, and later arrivals a minute apart
T0 = 1709625600


def tiny_copy(root: Path) -> Path:
    """``root/data/{presets,frameworks,units}`` with the tiny preset; returns the preset path."""
    data = root / "data"
    for folder in ("presets", "frameworks", "units"):
        shutil.copytree(FIXTURES / folder, data / folder, dirs_exist_ok=True)
    return data / "presets" / "tiny.yaml"


def add_unit(preset_path: Path, line: str) -> None:
    """Append a unit to the copied registry (``unit_id,level,name,…`` as in units/tiny.csv)."""
    registry = preset_path.parent.parent / "units" / "tiny.csv"
    registry.write_text(registry.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


def open_warehouse(preset: Preset, year: int = YEAR) -> duckdb.DuckDBPyConnection:
    """The warehouse at ``$DTI_HOME`` (the test's own), with the year's reference data."""
    con = warehouse.connect(paths.warehouse_path())
    store_reference(con, preset, year)
    return con


def unit_of(preset: Preset, unit_id: str) -> dict:
    found = preset.registry.filter(preset.registry["unit_id"] == unit_id).to_dicts()
    if found:
        return found[0]
    return {"unit_id": unit_id, "name": f"Đơn vị {unit_id}", "level": "department"}


def submit(
    preset: Preset,
    inbox: Path,
    unit_id: str,
    values: Mapping[str, float | None],
    name: str | None = None,
    at: int | None = None,
    level: str = "department",
) -> Path:
    """A unit's workbook in ``inbox/<YEAR>/<level>``, with its modification time set to ``at``."""
    path = inbox / str(YEAR) / level / (name or f"DTI_{YEAR}_{unit_id}.xlsx")
    write_unit_workbook(path, preset.framework(level), unit_of(preset, unit_id), YEAR, values)
    if at is not None:
        os.utime(path, (at, at))
    return path


def submit_appraisal(
    preset: Preset,
    inbox: Path,
    rows: list[dict],
    name: str = "THAM_DINH.xlsx",
    at: int | None = None,
) -> Path:
    path = inbox / str(YEAR) / "department" / name
    write_appraisal_workbook(path, preset.framework("department"), "department", YEAR, rows)
    if at is not None:
        os.utime(path, (at, at))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def records(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[dict]:
    return con.execute(sql, list(params)).pl().to_dicts()


def observed(con: duckdb.DuckDBPyConnection, level: str = "department") -> dict:
    """``(unit, indicator) → observation row`` of the year, as scoring would read it."""
    frame = warehouse.run_query(con, "observations", year=YEAR, level=level)
    return {(r["unit_id"], r["indicator_id"]): r for r in frame.to_dicts()}


def load(preset_path: Path) -> Preset:
    return load_preset(preset_path)
