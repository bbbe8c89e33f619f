"""Idempotence: re-materialising a year with the same inputs gives a snapshot with the
identical content hash and adds no row anywhere; the same inputs in a new warehouse give the
same snapshots (ids and content hashes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import reliability_support as support

from dti_assets.definitions import all_assets
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.store.warehouse import connect

pytestmark = pytest.mark.system

YEAR = "2024"
ANNUAL = set(support.ANNUAL_ASSETS)


def _materialize(home: Path, names: set[str], inbox: Path) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        [a for a in all_assets if a.key.to_user_string() in names],
        partition_key=YEAR,
        resources={
            "warehouse": Warehouse(database=str(home / "w.duckdb")),
            "settings": DtiSettings(
                preset=str(support.TINY6), inbox=str(inbox), archive=str(home / "archive")
            ),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return result


def _state(path: Path) -> tuple[dict, dict, list]:
    con = connect(path)
    try:
        return (
            support.dump(con),
            support.duplicated_rows(con),
            support.latest_snapshot_rows(con, int(YEAR)).rows(),
        )
    finally:
        con.close()


def test_rematerialising_a_year_changes_nothing(tmp_path: Path):
    inbox = tmp_path / "inbox"
    _materialize(tmp_path, {"demo_submissions"}, inbox)
    _materialize(tmp_path, ANNUAL, inbox)
    first, duplicates, snapshots = _state(tmp_path / "w.duckdb")
    assert duplicates == {}
    assert len(snapshots) == 6  # 2 levels × 3 methods

    _materialize(tmp_path, ANNUAL, inbox)
    second, duplicates, again = _state(tmp_path / "w.duckdb")
    assert duplicates == {}
    assert again == snapshots  # same ids, same content hashes
    for table in first:
        assert second[table] == first[table], f"{table} changed on re-materialisation"

    # the same files in a fresh warehouse (and a fresh archive) give the same snapshots
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copytree(inbox, fresh / "inbox")
    _materialize(fresh, ANNUAL, fresh / "inbox")
    _, duplicates, rebuilt = _state(fresh / "w.duckdb")
    assert duplicates == {}
    assert rebuilt == snapshots
