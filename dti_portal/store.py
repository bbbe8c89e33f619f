"""The portal's own state, in one SQLite file under ``$DTI_HOME/portal/`` (never the warehouse):
accounts, sessions, login attempts, the audit log, the deadline, the update periods the officer
released to the units, the units' drafts and what was sent through the portal."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    login         TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('unit', 'appraiser', 'officer')),
    unit_id       TEXT,
    level         TEXT,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    password_set_at TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id  TEXT PRIMARY KEY,
    login       TEXT NOT NULL REFERENCES accounts(login),
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_attempts (
    kind        TEXT NOT NULL CHECK (kind IN ('account', 'address')),
    key         TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_key ON login_attempts (kind, key, at);
CREATE TABLE IF NOT EXISTS audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    login       TEXT,
    address     TEXT,
    action      TEXT NOT NULL,
    target      TEXT,
    content_sha256 TEXT,
    detail      TEXT
);
CREATE TABLE IF NOT EXISTS portal_submissions (
    file_sha256 TEXT NOT NULL,
    year        INTEGER NOT NULL,
    level       TEXT,
    unit_id     TEXT,
    kind        TEXT NOT NULL,
    login       TEXT NOT NULL,
    via         TEXT NOT NULL CHECK (via IN ('upload', 'online', 'appraisal')),
    status      TEXT NOT NULL,
    inbox_path  TEXT,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drafts (
    unit_id      TEXT NOT NULL,
    year         INTEGER NOT NULL,
    indicator_id TEXT NOT NULL,
    value_text   TEXT NOT NULL DEFAULT '',
    points_text  TEXT NOT NULL DEFAULT '',
    evidence     TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (unit_id, year, indicator_id)
);
CREATE TABLE IF NOT EXISTS released_periods (
    year        INTEGER NOT NULL,
    period      INTEGER NOT NULL,
    released_by TEXT NOT NULL,
    released_at TEXT NOT NULL,
    PRIMARY KEY (year, period)
);
CREATE TABLE IF NOT EXISTS deadlines (
    year        INTEGER PRIMARY KEY,
    due_date    TEXT NOT NULL,
    source      TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    set_at      TEXT NOT NULL
);
"""


def portal_home() -> Path:
    """``$DTI_HOME/portal``: the store and the secret key."""
    from dti_portal.pipeline import dti_home

    return dti_home() / "portal"


def store_path() -> Path:
    """The SQLite file (``$DTI_PORTAL_STORE`` or ``$DTI_HOME/portal/portal.sqlite3``)."""
    return Path(os.environ.get("DTI_PORTAL_STORE", portal_home() / "portal.sqlite3"))


def now_text() -> str:
    """Now, UTC, ISO 8601 to the second (how the store keeps times)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    """A short connection to the store, created on first use (the file readable by its owner
    only), committed when the block ends without an error."""
    path = path or store_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = not path.exists()
    con = sqlite3.connect(path, timeout=30)
    con.row_factory = sqlite3.Row
    try:
        if fresh:
            os.chmod(path, 0o600)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.executescript(SCHEMA)
        yield con
        con.commit()
    finally:
        con.close()


def audit(
    con: sqlite3.Connection,
    login: str | None,
    address: str | None,
    action: str,
    target: str | None = None,
    content_sha256: str | None = None,
    detail: str | None = None,
) -> None:
    """One audit line: who, from where, when, what, on what, the content's hash."""
    con.execute(
        "INSERT INTO audit_log (at, login, address, action, target, content_sha256, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (now_text(), login, address, action, target, content_sha256, detail),
    )
