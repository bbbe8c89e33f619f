"""Read-side helpers for analysts: tidy frames out of the warehouse (short connections only —
DuckDB allows one writer, and a notebook holding a connection would block the pipeline)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.warehouse import run_query, session


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
