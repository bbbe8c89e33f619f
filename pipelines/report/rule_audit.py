"""Which special rule gave which unit's leaves their points, as the report lists it."""

from __future__ import annotations

import re

import duckdb
import polars as pl

from pipelines.store.warehouse import table_columns

_RULE_FAMILY = re.compile(r"^\s*([A-Za-z_]+\.[A-Za-z_]+)")


def rule_audit(
    con: duckdb.DuckDBPyConnection, year: int, level: str, method: str, totals: pl.DataFrame
) -> pl.DataFrame | None:
    """Which special rule gave which unit's leaves their points (``leaf_scores.rule_applied``),
    when that column exists and the live leaf scores still add up to the snapshot's totals.
    Returns rule, unit_id, n_leaves (only rules with a dotted family, e.g. ``missing.zero``)."""
    if "rule_applied" not in table_columns(con, "leaf_scores"):
        return None
    leaves = con.execute(
        "SELECT unit_id, rule_applied, points FROM leaf_scores WHERE year = ? AND level = ? "
        "AND method = ?",
        [year, level, method],
    ).pl()
    if leaves.is_empty():
        return None
    sums = leaves.group_by("unit_id").agg(pl.col("points").sum().alias("leaf_sum"))
    check = totals.select("unit_id", "points").join(sums, on="unit_id", how="left")
    if check["leaf_sum"].is_null().any() or (
        (check["leaf_sum"] - check["points"]).abs().max() > 1e-6
    ):
        return None
    families = leaves.with_columns(
        pl.col("rule_applied").str.extract(_RULE_FAMILY.pattern, 1).alias("rule")
    ).filter(pl.col("rule").is_not_null())
    return families.group_by("rule", "unit_id").len("n_leaves").sort("rule", "unit_id")
