"""Ranks within comparison groups and classes from the framework's bands."""

from __future__ import annotations

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.methods import RANK_DECIMALS


def rank_within_groups(scores: pl.DataFrame) -> pl.DataFrame:
    """Rank every node's points within (year, group, node), descending; ties share the lowest
    rank (1, 2, 2, 4). Points are compared at ``RANK_DECIMALS`` decimals."""
    return scores.with_columns(
        pl.col("points")
        .round(RANK_DECIMALS)
        .rank(method="min", descending=True)
        .over(["year", "group_id", "node_id"])
        .cast(pl.Int32)
        .alias("rank")
    )


def classify(scores: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Add ``class_label`` on the index row of each unit from the framework's bands.

    Bands apply to the total ratio; with ``pillar_minimum`` every pillar's ratio must also reach
    the band's ratio. Below the lowest band the class is null (not classified).
    """
    classification = framework.classification
    if classification is None:
        return scores.with_columns(pl.lit(None, dtype=pl.String).alias("class_label"))
    keys = ["unit_id", "year", "group_id"]
    total = pl.col("node_id") == framework.root_id
    floor = (
        scores.filter(pl.col("node_level") == "pillar")
        .group_by(keys)
        .agg(pl.col("ratio").min().alias("weakest_pillar"))
    )
    scored = scores.join(floor, on=keys, how="left", nulls_equal=True)
    label = pl.lit(None, dtype=pl.String)
    for band in reversed(classification.bands):  # highest band is applied last, so it wins
        reached = pl.col("ratio").round(RANK_DECIMALS) >= band.min_ratio
        if classification.pillar_minimum:
            reached = reached & (
                pl.col("weakest_pillar").is_null()
                | (pl.col("weakest_pillar").round(RANK_DECIMALS) >= band.min_ratio)
            )
        label = pl.when(reached).then(pl.lit(band.label)).otherwise(label)
    return scored.with_columns(
        pl.when(total).then(label).otherwise(None).alias("class_label")
    ).drop("weakest_pillar")
