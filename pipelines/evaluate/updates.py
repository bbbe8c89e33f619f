"""Update periods: how a unit's points and rank move between updates within a year.

Đắk Lắk's decision promises that points are computed automatically and change as data is
updated, so units can follow their rank. Each time a year's scores are recomputed *from changed
inputs* — the observations (values and appraised points), the units scored with their comparison
groups, the framework versions or the methods — :func:`record_update_period` records a new period
with every unit's total points, ratio, rank and class per level and method. Recomputing with
unchanged inputs records nothing, so re-running the yearly job is harmless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.framework.preset import Preset
from pipelines.framework.registry import comparison_groups, units_in_year
from pipelines.store.warehouse import insert_frame, run_query, transaction


@dataclass(frozen=True)
class UpdatePeriod:
    year: int
    period: int
    recorded_at: dt.datetime
    input_hash: str
    n_units: int
    new_files: list[str]


def _frame_digest(frame: pl.DataFrame, keys: list[str]) -> str:
    stable = frame.sort(keys).with_columns(pl.col(pl.Float64).round(9))
    digest = hashlib.sha256(json.dumps(stable.columns).encode())
    for row in stable.iter_rows():
        digest.update(json.dumps(row, default=str, ensure_ascii=False).encode())
    return digest.hexdigest()


def year_input_hash(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> str:
    """Hash of everything a year's scores are computed from."""
    observations = con.execute(
        "SELECT level, unit_id, indicator_id, value, appraised_points FROM observations "
        "WHERE year = ?",
        [year],
    ).pl()
    units = pl.concat(
        [
            comparison_groups(
                units_in_year(preset.registry, level, year),
                preset.levels[level].comparison_group,
                year,
            ).with_columns(pl.lit(level).alias("level"))
            for level in preset.levels
        ]
    )
    setup = {
        "frameworks": {level: preset.framework(level).content_hash() for level in preset.levels},
        "methods": list(preset.methods),
    }
    parts = [
        _frame_digest(observations, ["level", "unit_id", "indicator_id"]),
        _frame_digest(units.select("level", "unit_id", "group_id"), ["level", "unit_id"]),
        json.dumps(setup, sort_keys=True),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def record_update_period(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    year: int,
    now: dt.datetime | None = None,
) -> UpdatePeriod | None:
    """Record the year's current totals and ranks as a new period when the inputs changed since
    the last period; returns it, or None when nothing changed (or nothing is scored yet)."""
    input_hash = year_input_hash(con, preset, year)
    last = con.execute(
        "SELECT period, input_hash, max_received_seq FROM update_periods WHERE year = ? "
        "ORDER BY period DESC LIMIT 1",
        [year],
    ).fetchone()
    if last is not None and last[1] == input_hash:
        return None
    totals = con.execute(
        "SELECT level, method, group_id, unit_id, points, max_points, ratio, rank, class_label "
        "FROM scores WHERE year = ? AND node_level = 'index'",
        [year],
    ).pl()
    if totals.is_empty():
        return None
    period = 1 if last is None else last[0] + 1
    since = -1 if last is None or last[2] is None else last[2]
    files = con.execute(
        "SELECT file_name, received_seq FROM submissions "
        "WHERE (year = ? OR inbox_year = ?) AND received_seq > ? AND coalesce(evaluation, 1) = 1 "
        "ORDER BY received_seq",
        [year, year, since],
    ).fetchall()
    max_seq = con.execute(
        "SELECT max(received_seq) FROM submissions WHERE year = ? OR inbox_year = ?", [year, year]
    ).fetchone()[0]
    recorded_at = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    names = [name for name, _ in files]
    header = pl.DataFrame(
        [
            {
                "year": year,
                "period": period,
                "recorded_at": recorded_at,
                "input_hash": input_hash,
                "max_received_seq": max_seq,
                "n_submissions": len(names),
                "new_files": json.dumps(names, ensure_ascii=False),
            }
        ]
    )
    rows = totals.with_columns(pl.lit(year).alias("year"), pl.lit(period).alias("period"))
    with transaction(con):
        insert_frame(con, "update_periods", header)
        insert_frame(con, "update_period_scores", rows)
    n_units = totals.select("level", "unit_id").unique().height
    return UpdatePeriod(year, period, recorded_at, input_hash, n_units, names)


def unit_history(
    con: duckdb.DuckDBPyConnection, year: int, unit_id: str, method: str | None = None
) -> pl.DataFrame:
    """Per period (and method): the unit's points, rank, group size and the change since the
    previous period (``rank_change`` > 0 means it moved up). ``new_files`` (a JSON list) holds
    only the period's new files that concern the unit: its own workbooks and the appraisal files
    with a row for it."""
    history = run_query(con, "unit_history", year=year, unit_id=unit_id, method=method)
    own = unit_file_names(con, year, unit_id)
    return history.with_columns(
        pl.col("new_files").map_elements(
            lambda names: json.dumps(
                [name for name in json.loads(names or "[]") if name in own], ensure_ascii=False
            ),
            return_dtype=pl.String,
        )
    )


def unit_file_names(con: duckdb.DuckDBPyConnection, year: int, unit_id: str) -> set[str]:
    """The names of the year's files that concern one unit: its own submissions and the
    appraisal files with an appraised value or points for it."""
    rows = con.execute(
        "SELECT DISTINCT s.file_name FROM submissions AS s "
        "WHERE (s.year = $year OR s.inbox_year = $year) AND (s.unit_id = $unit "
        "OR EXISTS (SELECT 1 FROM raw_values AS r "
        "           WHERE r.submission_id = s.submission_id AND r.unit_id = $unit) "
        "OR EXISTS (SELECT 1 FROM appraised_points AS a "
        "           WHERE a.submission_id = s.submission_id AND a.unit_id = $unit))",
        {"year": year, "unit": unit_id},
    ).fetchall()
    return {name for (name,) in rows}
