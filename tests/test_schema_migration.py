"""Schema versioning: an older warehouse file migrates forward without data loss, and
an applied migration that was edited afterwards is refused (never edit an applied migration).

The old file is built the way the first release built it: only the migrations 001–004 applied
(their SQL, which the policy says never changes), recorded in ``schema_migrations`` without the
checksum column that 008 adds, and filled with data of every table they create.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import paths
from pipelines.store import warehouse
from pipelines.store.warehouse import MigrationError, connect, migrations, run_query, schema_version

OLD_VERSION = 4
NOW = dt.datetime(2025, 4, 1, 6, 0)


def _old_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        for version, name, file in migrations():
            if version > OLD_VERSION:
                break
            con.execute(file.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, name, NOW],
            )
        con.execute(
            "INSERT INTO units VALUES ('daklak', 'X-1', 'commune', 'Xã Một', 'Một', 'H-1', "
            "true, false, false, 'generated', 'assumed', 2021, NULL)"
        )
        con.execute(
            "INSERT INTO framework_versions VALUES ('fh1', 'f', 'v1', 'F', 'commune', 1000, "
            "2021, 2025, '{}', '[]', '[]', 'test')"
        )
        con.execute(
            "INSERT INTO framework_nodes VALUES ('fh1', 'P1.1', 'P1', 'component', 2, 1, 'C', "
            "15, 1, 'yesno', '{}', '', 'assumed', NULL, true)"
        )
        con.execute("INSERT INTO year_frameworks VALUES (2024, 'commune', 'fh1')")
        con.execute(
            "INSERT INTO submissions VALUES ('sha1', 1, 'self', 'DTI_2024_X-1.xlsx', "
            "'archive/sh/sha1.xlsx', 2024, 'commune', 'X-1', 'f', 'v1', 1, 0, 'accepted')"
        )
        con.execute(
            "INSERT INTO raw_values VALUES ('sha1', 'DTI_2024_X-1.xlsx', 'Tự đánh giá', 9, 'G', "
            "2024, 'commune', 'X-1', 'P1.1', 'self', 'Có', 1.0, NULL)"
        )
        con.execute(
            "INSERT INTO rejected_rows VALUES ('sha1', 'DTI_2024_X-1.xlsx', 'Tự đánh giá', 10, "
            "'G', 2024, 'X-1', 'P1.2', 'abc', 'not_a_number', 'sai')"
        )
        con.execute(
            "INSERT INTO validation_results VALUES (2024, 'commune', 'observations', 'e', true, "
            "true, 'd', 0, '[]')"
        )
        con.execute(
            "INSERT INTO observations VALUES (2024, 'commune', 'X-1', 'P1.1', 1.0, NULL, 1.0, "
            "NULL, 'sha1', NULL, 'f', 'v1')"
        )
        con.execute(
            "INSERT INTO leaf_scores VALUES (2024, 'commune', 'points', 'H-1', 'X-1', 'P1.1', "
            "1.0, 1.0, NULL, 15.0, 0)"
        )
        con.execute(
            "INSERT INTO node_scores VALUES (2024, 'commune', 'points', 'H-1', 'X-1', 'P1.1', "
            "'component', 3, 15.0, 15.0, 1.0, NULL, 0)"
        )
        con.execute("INSERT INTO ranks VALUES (2024, 'commune', 'points', 'X-1', 'P1.1', 1, NULL)")
        con.execute(
            "INSERT INTO snapshots VALUES ('snap1', 2024, 'commune', 'points', '{}', 'f', 'v1', "
            "'fh1', 'ih', 'cv', 'ch', 1, ?, ?)",
            [NOW, NOW],
        )
        con.execute(
            "INSERT INTO snapshot_scores VALUES ('snap1', 'H-1', 'X-1', 'P1.1', 'component', "
            "15.0, 15.0, 1.0, NULL, 1, NULL, 0)"
        )
    finally:
        con.close()


def _rows(path: Path, tables: list[str]) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


OLD_TABLES = [
    "units",
    "framework_versions",
    "framework_nodes",
    "year_frameworks",
    "submissions",
    "raw_values",
    "rejected_rows",
    "validation_results",
    "observations",
    "leaf_scores",
    "node_scores",
    "ranks",
    "snapshots",
    "snapshot_scores",
]


def test_an_older_warehouse_migrates_forward_without_data_loss(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    before = _rows(path, OLD_TABLES)
    assert all(before.values())

    con = connect(path)  # the current code: applies 005 … onwards
    try:
        latest = migrations()[-1][0]
        assert schema_version(con) == latest
        applied = [v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()]
        assert sorted(applied) == [v for v, _, _ in migrations()]
        # every applied file's checksum is recorded (those before 008 too)
        assert (
            con.execute("SELECT count(*) FROM schema_migrations WHERE checksum IS NULL").fetchone()[
                0
            ]
            == 0
        )
        # nothing lost, and the new columns are filled in for the old rows
        for table, count in before.items():
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count, table
        assert con.execute(
            "SELECT file_sha256, evaluation FROM submissions WHERE submission_id = 'sha1'"
        ).fetchone() == ("sha1", 1)
        assert con.execute("SELECT excluded FROM leaf_scores").fetchone()[0] is False
        assert con.execute("SELECT raw_text, value FROM raw_values").fetchone() == ("Có", 1.0)
        assert con.execute("SELECT published_at FROM snapshots").fetchone()[0] == NOW
        # the views and queries of the current code work on the migrated file
        assert con.execute("SELECT count(*) FROM scores").fetchone()[0] == 1
        assert con.execute(
            "SELECT version, published_version FROM snapshot_versions"
        ).fetchone() == (1, 1)
        status = run_query(con, "status")
        assert status.row(0, named=True)["published"] == 1
    finally:
        con.close()
    # connecting again applies nothing more
    con = connect(path)
    try:
        assert warehouse.migrate(con) == []
    finally:
        con.close()


def test_an_edited_applied_migration_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    sql = tmp_path / "sql"
    shutil.copytree(paths.SQL_DIR, sql)
    edited = sql / "schema" / "003_staging.sql"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n-- edited later\n", "utf-8")
    monkeypatch.setattr(warehouse, "SQL_DIR", sql)
    with pytest.raises(MigrationError, match=r"003_staging\.sql"):
        connect(path)
    # a new migration file is the way to change the schema
    edited.write_text((paths.SQL_DIR / "schema" / "003_staging.sql").read_text("utf-8"), "utf-8")
    (sql / "schema" / "999_later_change.sql").write_text(
        "ALTER TABLE observations ADD COLUMN later_note VARCHAR;\n", "utf-8"
    )
    con = connect(path)
    try:
        assert schema_version(con) == 999
        assert "later_note" in warehouse.table_columns(con, "observations")
    finally:
        con.close()
