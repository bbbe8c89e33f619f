"""Figures derived from a level's scores that the pages and the annex share: group means, each
unit's strengths and weaknesses, and the rank correlation of two methods."""

from __future__ import annotations

import math

import polars as pl

from pipelines.report.contents import LevelData


def group_means(frame: pl.DataFrame, by: str = "node_id") -> pl.DataFrame:
    """Mean ratio per (group, node) over the group's units."""
    return frame.group_by("group_id", by).agg(pl.col("ratio").mean().alias("group_mean"))


def strengths_weaknesses(
    level: LevelData, unit_id: str, n: int = 3
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Components furthest above and below the group's mean ratio for one unit."""
    comps = level.components
    group_id = comps.filter(pl.col("unit_id") == unit_id)["group_id"][0]
    gaps = component_gaps(comps.filter(pl.col("group_id") == group_id))
    return split_strengths(gaps.filter(pl.col("unit_id") == unit_id), n)


def component_gaps(components: pl.DataFrame) -> pl.DataFrame:
    """Every unit's components with their group's mean ratio and the gap to it."""
    return components.join(
        group_means(components), on=["group_id", "node_id"], how="left"
    ).with_columns((pl.col("ratio") - pl.col("group_mean")).alias("gap"))


def split_strengths(gaps: pl.DataFrame, n: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each unit's ``n`` components furthest above, and below, its group's mean (from
    :func:`component_gaps`, one unit or many; ties go to the component listed first)."""
    first_n = pl.int_range(pl.len()).over("unit_id") < n
    strengths = gaps.filter(pl.col("gap") > 1e-9).sort("gap", "ordinal", descending=[True, False])
    weaknesses = gaps.filter(pl.col("gap") < -1e-9).sort("gap", "ordinal")
    return strengths.filter(first_n), weaknesses.filter(first_n)


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation (None when undefined: fewer than 3 units or no spread)."""
    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return None  # scipy would warn, then give NaN
    from scipy.stats import spearmanr

    value = spearmanr(a, b).statistic
    return None if value is None or math.isnan(value) else float(value)
