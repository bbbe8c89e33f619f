"""The DuckDB warehouse: connect, migrate the schema in ``sql/``, and write rows idempotently."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.paths import SQL_DIR, warehouse_path

_MIGRATION = re.compile(r"^(\d{3})_(\w+)\.sql$")


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating and migrating it if needed (read-only opens skip migrations)."""
    path = Path(path) if path is not None else warehouse_path()
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    migrate(con)
    return con


@contextmanager
def session(
    path: str | Path | None = None, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection: DuckDB allows one writer per file, so never hold one open."""
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def migrations() -> list[tuple[int, str, Path]]:
    """Schema files in ``sql/schema`` as (version, name, path), in order."""
    found = []
    for path in sorted((SQL_DIR / "schema").glob("*.sql")):
        match = _MIGRATION.match(path.name)
        if match:
            found.append((int(match.group(1)), match.group(2), path))
    return found


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the schema files not yet recorded, recreate the views; returns versions applied."""
    known = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()[0]
    done = (
        {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
        if known
        else set()
    )
    applied = []
    for version, name, path in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    for path in sorted((SQL_DIR / "views").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


@cache
def query_text(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    return (SQL_DIR / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run ``sql/queries/<name>.sql`` with ``$name`` parameters; returns a polars frame."""
    return con.execute(query_text(name), params or None).pl()


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All writes inside commit together or not at all (a killed run leaves no half state)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def delete_rows(con: duckdb.DuckDBPyConnection, table: str, where: Mapping[str, Any]) -> None:
    clause = " AND ".join(f"{key} = ?" for key in where) or "TRUE"
    con.execute(f"DELETE FROM {table} WHERE {clause}", list(where.values()))


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Insert the frame's columns that the table has; returns rows inserted."""
    if frame.is_empty():
        return 0
    present = [c for c in table_columns(con, table) if c in frame.columns]
    con.register("_incoming", frame.select(present).to_arrow())
    try:
        columns = ", ".join(present)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        con.unregister("_incoming")
    return frame.height


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    where: Mapping[str, Any],
) -> int:
    """Delete the rows matching ``where`` and insert ``frame`` in one transaction.

    This is how a partition (a year, a level, a submission) is rewritten: re-running with the
    same input leaves the same rows, never duplicates.
    """
    with transaction(con):
        delete_rows(con, table, where)
        return insert_frame(con, table, frame)


def insert_missing(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: list[str]
) -> int:
    """Insert the rows of ``frame`` whose ``key`` is not in ``table`` yet; returns rows added."""
    if frame.is_empty():
        return 0
    existing = con.execute(f"SELECT DISTINCT {', '.join(key)} FROM {table}").pl()
    if not existing.is_empty():
        existing = existing.cast({c: frame.schema[c] for c in key})
        frame = frame.join(existing, on=key, how="anti")
    return insert_frame(con, table, frame)
