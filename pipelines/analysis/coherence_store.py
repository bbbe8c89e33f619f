"""The coherence checks of a year stored in the warehouse, level by level."""

from __future__ import annotations

import polars as pl

from pipelines.analysis.coherence import SIGNIFICANCE, Coherence, coherence
from pipelines.analysis.inputs import levels_with_data, load_input
from pipelines.store.warehouse import replace_rows


def store_coherence(con, result: Coherence, year: int, level: str) -> int:
    """Rewrite the coherence tables of the year and level."""
    keys = {"year": year, "level": level}

    def tag(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.lit(year, dtype=pl.Int32).alias("year"),
            pl.lit(level).alias("level"),
            pl.lit(result.method).alias("method"),
        )

    parents = result.correlations.select(
        pl.lit("parent").alias("kind"),
        "parent_id",
        pl.col("node_id").alias("node_a"),
        pl.col("parent_id").alias("node_b"),
        "r",
        "p_value",
        "spearman",
        "significant",
        "negative",
        pl.lit(False).alias("redundant"),
    )
    pairs = result.pairs.select(
        pl.lit("siblings").alias("kind"),
        "parent_id",
        "node_a",
        "node_b",
        "r",
        "p_value",
        "spearman",
        (pl.col("p_value") < SIGNIFICANCE).alias("significant"),
        "negative",
        "redundant",
    )
    rows = replace_rows(con, "coherence_alpha", tag(result.alpha), keys)
    replace_rows(con, "coherence_correlations", tag(pl.concat([parents, pairs])), keys)
    replace_rows(con, "indicator_outliers", tag(result.outliers), keys)
    replace_rows(con, "winsorised_values", tag(result.winsorised), keys)
    return rows


def coherence_year(con, preset, year: int, winsorise_outliers: bool = False) -> dict[str, dict]:
    """Every level of the preset in ``year``: checks stored; a summary per level."""
    summary = {}
    for level in levels_with_data(con, preset, year):
        result = coherence(load_input(con, preset, year, level), None, winsorise_outliers)
        store_coherence(con, result, year, level)
        pillars = result.alpha.filter(pl.col("node_level") == "pillar")
        summary[level] = {
            "min_pillar_alpha": pillars["alpha"].drop_nulls().min(),
            "outliers": int(result.outliers["flagged"].sum()),
            "negative_pairs": int(result.pairs["negative"].sum()),
            "redundant_pairs": int(result.pairs["redundant"].sum()),
        }
    return summary
