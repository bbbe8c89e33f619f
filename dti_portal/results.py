"""What the portal reads from the warehouse: read-only, one short connection per page, and only
published snapshots (public), the update periods and appraisal adjustments of the asking unit,
and the year's submission states for the officer's board. The portal never writes there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from pipelines.evaluate.appraisal import differences
from pipelines.evaluate.updates import unit_history
from pipelines.framework.preset import Preset
from pipelines.paths import warehouse_path
from pipelines.store.warehouse import connect


@contextmanager
def reading() -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection to the warehouse, or None when there is none (or a writer holds
    it: the page then says the results are not available right now)."""
    path = warehouse_path()
    if not path.exists():
        yield None
        return
    try:
        con = connect(path, read_only=True)
    except Exception:  # a busy or missing warehouse: no results now, never an error page
        yield None
        return
    try:
        yield con
    finally:
        con.close()


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()[0]
    )


def published_snapshots(method: str | None = None) -> list[dict]:
    """Every published snapshot, newest year first: year, level, method, units, when."""
    with reading() as con:
        if con is None or not _has(con, "snapshots"):
            return []
        return (
            con.execute(
                "SELECT snapshot_id, year, level, method, n_units, published_at FROM snapshots "
                "WHERE published_at IS NOT NULL AND ($m IS NULL OR method = $m) "
                "ORDER BY year DESC, level, method",
                {"m": method},
            )
            .pl()
            .to_dicts()
        )


def published_totals(snapshot_id: str) -> list[dict]:
    """A published snapshot's index totals (unit, group, points, rank, class); [] when the
    snapshot is not published."""
    with reading() as con:
        if con is None or not _has(con, "snapshots"):
            return []
        return (
            con.execute(
                "SELECT sc.unit_id, u.name, sc.group_id, sc.points, sc.max_points, sc.rank, "
                "sc.class_label FROM snapshot_scores sc JOIN snapshots s USING (snapshot_id) "
                "LEFT JOIN (SELECT unit_id, first(name) AS name FROM units GROUP BY unit_id) u "
                "USING (unit_id) WHERE s.snapshot_id = $id AND s.published_at IS NOT NULL "
                "AND sc.node_level = 'index' ORDER BY sc.group_id, sc.rank, sc.unit_id",
                {"id": snapshot_id},
            )
            .pl()
            .to_dicts()
        )


def published_unit(unit_query: str) -> list[dict]:
    """A unit looked up by id or part of its name, in every published snapshot."""
    text = unit_query.strip()
    if not text:
        return []
    with reading() as con:
        if con is None or not _has(con, "snapshots"):
            return []
        return (
            con.execute(
                "SELECT s.year, s.level, s.method, sc.unit_id, u.name, sc.points, sc.max_points, "
                "sc.rank, sc.class_label FROM snapshot_scores sc "
                "JOIN snapshots s USING (snapshot_id) "
                "LEFT JOIN (SELECT unit_id, first(name) AS name FROM units GROUP BY unit_id) u "
                "USING (unit_id) WHERE s.published_at IS NOT NULL AND sc.node_level = 'index' "
                "AND (lower(sc.unit_id) = lower($q) OR contains(lower(u.name), lower($q))) "
                "ORDER BY s.year DESC, s.level, s.method, sc.unit_id LIMIT 200",
                {"q": text},
            )
            .pl()
            .to_dicts()
        )


def latest_period(year: int) -> dict | None:
    """The last update period the pipeline recorded for ``year`` (period, when, files)."""
    with reading() as con:
        if con is None or not _has(con, "update_periods"):
            return None
        row = con.execute(
            "SELECT period, recorded_at, n_submissions FROM update_periods WHERE year = ? "
            "ORDER BY period DESC LIMIT 1",
            [year],
        ).fetchone()
    return dict(zip(("period", "recorded_at", "n_submissions"), row, strict=True)) if row else None


def unit_periods(year: int, unit_id: str, released: int) -> list[dict]:
    """The unit's points and rank after each update period of ``year`` up to the last one the
    officer ``released`` (its own rows only)."""
    with reading() as con:
        if con is None or not _has(con, "update_periods"):
            return []
        history = unit_history(con, year, unit_id)
        return history.filter(history["period"] <= released).to_dicts()


def unit_adjustments(preset: Preset, year: int, unit_id: str) -> list[dict]:
    """The appraiser's adjustments of the unit's values and points, with the reasons."""
    with reading() as con:
        if con is None or not _has(con, "observations"):
            return []
        frame = differences(con, preset, year)
        if frame.is_empty():
            return []
        return frame.filter(frame["unit_id"] == unit_id).to_dicts()


def next_received_seq() -> int:
    """The arrival number the next file the ingest picks up will get, if no other comes first
    (as :func:`pipelines.intake.ingest.ingest_files` numbers them)."""
    with reading() as con:
        if con is None or not _has(con, "submissions"):
            return 1
        return con.execute("SELECT coalesce(max(received_seq), 0) + 1 FROM submissions").fetchone()[
            0
        ]


def submission_states(year: int) -> dict[str, str]:
    """Per unit, the state of its latest self-assessment in the warehouse for ``year``
    (accepted, partially_accepted or refused), and ``appraised`` for units an appraisal covers."""
    with reading() as con:
        if con is None or not _has(con, "submissions"):
            return {}
        states = dict(
            con.execute(
                "SELECT unit_id, arg_max(status, received_seq) FROM submissions "
                "WHERE kind = 'self' AND year = ? AND unit_id IS NOT NULL GROUP BY unit_id",
                [year],
            ).fetchall()
        )
        appraised = {
            row[0]
            for row in con.execute(
                "SELECT DISTINCT unit_id FROM raw_values WHERE year = ? AND kind = 'appraised' "
                "UNION SELECT DISTINCT unit_id FROM appraised_points WHERE year = ?",
                [year, year],
            ).fetchall()
        }
        for unit in appraised:
            states[unit] = "appraised"
        return states
