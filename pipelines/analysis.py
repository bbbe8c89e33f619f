"""Read-side helpers for analysts: tidy frames out of the warehouse (short connections only —
DuckDB allows one writer, and a notebook holding a connection would block the pipeline)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.warehouse import session


def unit_totals(year: int, method: str, warehouse: str | Path | None = None) -> pl.DataFrame:
    """Total points, ratio, rank and class of every unit in ``year`` by ``method``."""
    with session(warehouse, read_only=True) as con:
        return con.execute(
            "SELECT * FROM unit_totals WHERE year = ? AND method = ? "
            "ORDER BY level, group_id, rank, unit_id",
            [year, method],
        ).pl()


def pillar_scores(year: int, method: str, warehouse: str | Path | None = None) -> pl.DataFrame:
    """Every unit's pillar ratios in ``year`` (one row per unit and pillar)."""
    with session(warehouse, read_only=True) as con:
        return con.execute(
            "SELECT s.level, s.group_id, s.unit_id, u.name AS unit_name, s.node_id, "
            "n.name AS pillar, s.points, s.max_points, s.ratio, s.rank "
            "FROM scores s JOIN year_frameworks y USING (year, level) "
            "JOIN framework_nodes n ON n.framework_hash = y.framework_hash AND n.node_id = s.node_id "
            "LEFT JOIN units u ON u.unit_id = s.unit_id "
            "WHERE s.year = ? AND s.method = ? AND s.node_level = 'pillar' "
            "ORDER BY s.level, s.unit_id, n.ordinal",
            [year, method],
        ).pl()


def years_available(warehouse: str | Path | None = None) -> list[int]:
    with session(warehouse, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT DISTINCT year FROM node_scores ORDER BY 1").fetchall()]
