"""Read-side helpers for analysts: tidy frames out of the warehouse (short connections only —
DuckDB allows one writer, and a notebook holding a connection would block the pipeline)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.store.warehouse import run_query, session


def unit_totals(year: int, method: str, warehouse: str | Path | None = None) -> pl.DataFrame:
    """Total points, ratio, rank and class of every unit in ``year`` by ``method``."""
    with session(warehouse, read_only=True) as con:
        return run_query(con, "unit_totals_for_year", year=year, method=method)


def pillar_scores(year: int, method: str, warehouse: str | Path | None = None) -> pl.DataFrame:
    """Every unit's pillar points and ratios in ``year`` (one row per unit and pillar)."""
    with session(warehouse, read_only=True) as con:
        return run_query(con, "pillar_scores", year=year, method=method)


def years_available(warehouse: str | Path | None = None) -> list[int]:
    """Years that have scores in the warehouse."""
    with session(warehouse, read_only=True) as con:
        rows = con.execute("SELECT DISTINCT year FROM node_scores ORDER BY year").fetchall()
    return [row[0] for row in rows]


# Tables written by the analysis assets (sql/schema/007_analysis.sql), readable here.
ANALYSIS_TABLES = (
    "method_comparison",
    "method_correlations",
    "rank_uncertainty",
    "sensitivity_indices",
    "uncertainty_runs",
    "uncertainty_replications",
    "coherence_alpha",
    "coherence_correlations",
    "indicator_outliers",
    "winsorised_values",
    "score_trends",
    "score_growth",
    "trend_warnings",
    "unit_strengths",
    "backfill_runs",
)


def analysis_table(
    name: str,
    year: int | None = None,
    level: str | None = None,
    warehouse: str | Path | None = None,
) -> pl.DataFrame:
    """Rows of an analysis table (optionally of one year and level); empty when the analysis
    has not run. ``score_trends``/``trend_warnings`` filter on ``year_to``, ``score_growth`` on
    ``up_to_year``."""
    if name not in ANALYSIS_TABLES:
        raise ValueError(f"unknown analysis table {name!r}; one of {', '.join(ANALYSIS_TABLES)}")
    year_column = {"score_trends": "year_to", "trend_warnings": "year_to"}.get(name, "year")
    if name == "score_growth":
        year_column = "up_to_year"
    clauses, params = [], []
    if year is not None and name not in ("uncertainty_replications",):
        clauses.append(f"{year_column} = ?")
        params.append(year)
    if level is not None and name not in ("uncertainty_replications",):
        clauses.append("level = ?")
        params.append(level)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    with session(warehouse, read_only=True) as con:
        known = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
        if not known:
            return pl.DataFrame()
        return con.execute(f"SELECT * FROM {name}{where}", params).pl()


def levels_available(year: int, warehouse: str | Path | None = None) -> list[str]:
    """Levels with observations in ``year``."""
    with session(warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT level FROM observations WHERE year = ? ORDER BY level", [year]
        ).fetchall()
    return [row[0] for row in rows]
