"""The trends of a year stored in the warehouse: the changes ending in the year, the growth up to
it, and their warnings."""

from __future__ import annotations

import polars as pl

from pipelines.analysis.trend_series import series_from_connection
from pipelines.analysis.trends import Trends, trends
from pipelines.store.warehouse import replace_rows


def store_trends(con, result: Trends, year: int, method: str) -> int:
    """Rewrite the changes ending in ``year``, the growth up to ``year`` and their warnings."""
    changes = result.changes.filter(pl.col("year_to") == year).with_columns(
        pl.lit(method).alias("method")
    )
    growth = result.growth.with_columns(
        pl.lit(year, dtype=pl.Int32).alias("up_to_year"), pl.lit(method).alias("method")
    )
    warnings = result.warnings.filter(pl.col("year_to") == year).with_columns(
        pl.lit(method).alias("method")
    )
    keys = {"method": method}
    rows = replace_rows(con, "score_trends", changes, {"year_to": year, **keys})
    replace_rows(con, "score_growth", growth, {"up_to_year": year, **keys})
    replace_rows(con, "trend_warnings", warnings, {"year_to": year, **keys})
    return rows


def trends_year(con, preset, year: int, method: str | None = None) -> dict[str, object]:
    """Trends of every level up to ``year`` from the latest snapshots; stored."""
    method = method or preset.primary_method
    series, versions, successors, lineage = series_from_connection(con, preset, method, up_to=year)
    result = trends(series, versions, successors, lineage)
    rows = store_trends(con, result, year, method)
    return {
        "changes": rows,
        "warnings": result.warnings.filter(pl.col("year_to") == year)["message"].to_list(),
    }
