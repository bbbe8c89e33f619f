"""A year's figures as an engineer checks them before publishing: per level, the units
observed and scored, missing values, refused rows, blocking expectations, the top and bottom
unit, and a small preview table. Read from the warehouse; nothing is computed a second time."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from pipelines.framework.preset import Preset


def observation_figures(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, dict[str, Any]]:
    """Per level of ``year``: units observed, values present and missing, refused rows of the
    year's files, how many blocking expectations passed and which failed (by name)."""
    observed = con.execute(
        "SELECT level, count(DISTINCT unit_id), count(value), count(*) - count(value) "
        "FROM observations WHERE year = ? GROUP BY level ORDER BY level",
        [year],
    ).fetchall()
    refused = dict(
        con.execute(
            "SELECT s.level, count(*) FROM rejected_rows AS r "
            "JOIN submissions AS s USING (submission_id) WHERE r.year = ? GROUP BY s.level",
            [year],
        ).fetchall()
    )
    expectations = con.execute(
        "SELECT level, expectation, success FROM validation_results "
        "WHERE year = ? AND blocking ORDER BY level, expectation",
        [year],
    ).fetchall()
    figures: dict[str, dict[str, Any]] = {}
    for level, units, present, missing in observed:
        figures[level] = {
            "units": units,
            "values": present,
            "missing_values": missing,
            "refused_rows": refused.get(level, 0),
            "blocking_passed": sum(1 for lvl, _, ok in expectations if lvl == level and ok),
            "blocking_failed": [e for lvl, e, ok in expectations if lvl == level and not ok],
        }
    return figures


def failed_expectations(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, str]:
    """``"<level>: <expectation>"`` → its description (Vietnamese, as Great Expectations
    stored it) for every blocking expectation of ``year`` that failed."""
    rows = con.execute(
        "SELECT level, expectation, description, unexpected_count FROM validation_results "
        "WHERE year = ? AND blocking AND NOT success ORDER BY level, expectation",
        [year],
    ).fetchall()
    return {f"{level}: {name}": f"{text} ({n} dòng)" for level, name, text, n in rows}


def unit_totals(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int, level: str, ranked: bool = False
) -> pl.DataFrame:
    """The level's totals by the preset's primary method, most points first (then unit id);
    ``ranked`` adds the rank in the comparison group (once ranks are computed)."""
    rank = ", r.rank" if ranked else ""
    join = "JOIN ranks AS r USING (year, level, method, unit_id, node_id) " if ranked else ""
    return con.execute(
        f"SELECT n.unit_id, u.name AS unit_name, n.group_id, n.points, n.max_points{rank}, "
        "n.n_missing FROM node_scores AS n "
        f"{join}LEFT JOIN units AS u ON u.registry = ? AND u.unit_id = n.unit_id "
        "WHERE n.year = ? AND n.level = ? AND n.method = ? AND n.node_level = 'index' "
        "ORDER BY n.points DESC, n.unit_id",
        [preset.id, year, level, preset.primary_method],
    ).pl()


def score_figures(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int
) -> dict[str, dict[str, Any]]:
    """Per level of ``year`` (primary method): units scored, units with a missing value, and
    the top and bottom unit by total points (``"<id> <name>: <points>"``)."""
    figures: dict[str, dict[str, Any]] = {}
    for level in preset.levels:
        totals = unit_totals(con, preset, year, level)
        if totals.is_empty():
            continue
        top, bottom = totals.row(0, named=True), totals.row(-1, named=True)
        figures[level] = {
            "units_scored": totals.height,
            "units_with_missing": int((totals["n_missing"] > 0).sum()),
            "top": _unit_line(top),
            "bottom": _unit_line(bottom),
        }
    return figures


def _unit_line(row: dict[str, Any]) -> str:
    return f"{row['unit_id']} {row['unit_name']}: {row['points']:.2f}/{row['max_points']:g}"


def preview_markdown(frame: pl.DataFrame, rows: int = 5) -> str:
    """The first and last ``rows`` rows of ``frame`` as a markdown table (``…`` between)."""
    if frame.height > 2 * rows:
        shown = [*frame.head(rows).iter_rows(), None, *frame.tail(rows).iter_rows()]
    else:
        shown = list(frame.iter_rows())
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    for row in shown:
        cells = ["…"] * frame.width if row is None else [_cell(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|")
