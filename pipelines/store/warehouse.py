"""The DuckDB warehouse: connect, migrate the schema in ``sql/``, and write rows idempotently.

Reliability rules (``docs/deployment.md``):

- **Schema versions.** ``sql/schema/NNN_name.sql`` files are applied in order, each in its own
  transaction, and recorded in ``schema_migrations`` with the sha256 of the file's text. An
  applied migration is never edited: a change is a new file. Opening a warehouse whose recorded
  checksum differs from the file refuses with :class:`MigrationError`.
- **One writer at a time.** A read-write :func:`session` holds the writer lock of
  :mod:`pipelines.store.lock` (so does the Dagster resource): a second writing process waits
  for the first instead of failing on DuckDB's file lock.
- **One transaction per write.** :func:`transaction` commits everything inside it or nothing;
  blocks nest (the outer block commits), so a stage can put several tables in one commit. A
  process killed with SIGKILL leaves the last committed state.
- **Published snapshots are read-only.** Every write path of this module (:func:`delete_rows`,
  :func:`replace_rows`, :func:`insert_frame`, :func:`insert_missing`) refuses to delete or add
  rows of a snapshot whose ``published_at`` is set (DuckDB has no triggers: these functions are
  the only writers of ``snapshots`` and ``snapshot_scores``).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.paths import SQL_DIR, warehouse_path
from pipelines.store.lock import busy_error, writer_lock

_MIGRATION = re.compile(r"^(\d{3})_(\w+)\.sql$")

# Tables that hold published results; rows of a published snapshot are never deleted or added.
SNAPSHOT_TABLES = ("snapshots", "snapshot_scores")


class MigrationError(RuntimeError):
    """An applied migration file was changed afterwards (never edit an applied migration)."""


class PublishedSnapshotError(RuntimeError):
    """An attempt to change a published snapshot (its rows are read-only forever)."""


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating and migrating it if needed (read-only opens skip migrations).
    While another process writes to it, DuckDB refuses:
    :class:`pipelines.store.lock.WarehouseBusyError`."""
    path = Path(path) if path is not None else warehouse_path()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "Conflicting lock" not in str(exc):
            raise
        holder = re.search(r"\(PID (\d+)\)", str(exc))
        raise busy_error(path, holder.group(1) if holder else "?") from exc
    if not read_only:
        migrate(con)
    return con


@contextmanager
def session(
    path: str | Path | None = None, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection: DuckDB allows one writer per file, so never hold one open. A
    read-write session holds the warehouse's writer lock (:mod:`pipelines.store.lock`)."""
    path = Path(path) if path is not None else warehouse_path()
    with nullcontext() if read_only else writer_lock(path):
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


def migration_checksum(path: Path) -> str:
    """sha256 of a migration file's text (line endings normalised)."""
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = ? AND column_name = ?",
            [table, column],
        ).fetchone()[0]
    )


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied (0 for an empty file)."""
    known = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()[0]
    if not known:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the schema files not yet recorded, recreate the views; returns versions applied.

    An older warehouse file is brought forward file by file (each in its own transaction, with
    its data); the checksum of every applied file is compared with the file on disk."""
    known = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()[0]
    done = (
        {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
        if known
        else set()
    )
    files = migrations()
    applied = []
    for version, name, path in files:
        if version in done:
            continue
        with transaction(con):
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
            if _has_column(con, "schema_migrations", "checksum"):
                con.execute(
                    "UPDATE schema_migrations SET checksum = ? WHERE version = ?",
                    [migration_checksum(path), version],
                )
        applied.append(version)
    _check_migrations(con, files)
    for path in sorted((SQL_DIR / "views").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


def _check_migrations(con: duckdb.DuckDBPyConnection, files: list[tuple[int, str, Path]]) -> None:
    """Record the checksums of files applied before checksums existed (trusted as they are), and
    refuse a warehouse whose applied migration files were edited since."""
    if not _has_column(con, "schema_migrations", "checksum"):
        return
    recorded = dict(con.execute("SELECT version, checksum FROM schema_migrations").fetchall())
    edited = []
    for version, name, path in files:
        if version not in recorded:
            continue
        checksum = migration_checksum(path)
        if recorded[version] is None:
            with transaction(con):
                con.execute(
                    "UPDATE schema_migrations SET checksum = ? WHERE version = ?",
                    [checksum, version],
                )
        elif recorded[version] != checksum:
            edited.append(f"{version:03d}_{name}.sql")
    if edited:
        raise MigrationError(
            f"migration file(s) {', '.join(edited)} changed after this warehouse applied them; "
            "never edit an applied migration: restore the file and put the change in a new "
            "sql/schema/NNN_*.sql (docs/deployment.md, 'Schema versions')"
        )


@cache
def query_text(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    return (SQL_DIR / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run ``sql/queries/<name>.sql`` with ``$name`` parameters; returns a polars frame."""
    return con.execute(query_text(name), params or None).pl()


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


_OPEN: weakref.WeakSet = weakref.WeakSet()  # connections inside a transaction block

# Crash tests only (tests/test_reliability_crash.py): with DTI_PAUSE_BEFORE_COMMIT set to a
# transaction's label (the table written), the process writes the file named by
# DTI_PAUSE_MARKER and sleeps before COMMIT, so a test can kill it in the middle of the write.
# Without the variable nothing happens.
PAUSE_ENV, MARKER_ENV, PAUSE_SECONDS_ENV = (
    "DTI_PAUSE_BEFORE_COMMIT",
    "DTI_PAUSE_MARKER",
    "DTI_PAUSE_SECONDS",
)


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, label: str = ""
) -> Iterator[duckdb.DuckDBPyConnection]:
    """All writes inside commit together or not at all (a killed run leaves no half state).

    Blocks nest: an inner block joins the outer transaction (DuckDB has no savepoints), so the
    outermost block decides; an exception anywhere rolls everything back."""
    if con in _OPEN:
        yield con
        _pause_before_commit(label)  # written, not committed: the outer block commits
        return
    con.execute("BEGIN TRANSACTION")
    _OPEN.add(con)
    try:
        yield con
        _pause_before_commit(label)
    except BaseException:
        _OPEN.discard(con)
        con.execute("ROLLBACK")
        raise
    _OPEN.discard(con)
    con.execute("COMMIT")


_PAUSES: dict[str, int] = {}


def _pause_before_commit(label: str) -> None:
    """``DTI_PAUSE_BEFORE_COMMIT=<label>`` pauses the first time a transaction block with that
    label ends, ``<label>#<n>`` the n-th time (test mode only)."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted or not label:
        return
    name, _, nth = wanted.partition("#")
    if name != label:
        return
    _PAUSES[label] = _PAUSES.get(label, 0) + 1
    if _PAUSES[label] != int(nth or 1):
        return
    marker = os.environ.get(MARKER_ENV)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {label}\n", encoding="utf-8")
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))


def published_snapshot_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "SELECT snapshot_id FROM snapshots WHERE published_at IS NOT NULL"
        ).fetchall()
    }


def _refuse_published(con: duckdb.DuckDBPyConnection, table: str, ids: set[str], what: str):
    touched = sorted(ids & published_snapshot_ids(con))
    if touched:
        raise PublishedSnapshotError(
            f"refused to {what} {table} rows of published snapshot(s) {', '.join(touched)}: a "
            "published snapshot is never changed; rescore to create a new version and publish "
            "that one (`dti publish YEAR --level L`)"
        )


def delete_rows(con: duckdb.DuckDBPyConnection, table: str, where: Mapping[str, Any]) -> None:
    clause = " AND ".join(f"{key} = ?" for key in where) or "TRUE"
    if table in SNAPSHOT_TABLES:
        ids = {
            row[0]
            for row in con.execute(
                f"SELECT DISTINCT snapshot_id FROM {table} WHERE {clause}", list(where.values())
            ).fetchall()
        }
        _refuse_published(con, table, ids, "delete")
    con.execute(f"DELETE FROM {table} WHERE {clause}", list(where.values()))


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Insert the frame's columns that the table has; returns rows inserted."""
    if frame.is_empty():
        return 0
    if table in SNAPSHOT_TABLES and "snapshot_id" in frame.columns:
        _refuse_published(con, table, set(frame["snapshot_id"].unique().to_list()), "add")
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
    with transaction(con, label=table):
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
