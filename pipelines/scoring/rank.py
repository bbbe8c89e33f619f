"""Ranks within comparison groups and classes from the framework's bands."""

from __future__ import annotations

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.choices import READINGS
from pipelines.scoring.ties import (
    NOISE_ONLY,
    RankPrecision,
    rank_descending,
    ratio_key,
    ratio_keys,
    tie_key_column,
)


def rank_within_groups(scores: pl.DataFrame, precision: RankPrecision = NOISE_ONLY) -> pl.DataFrame:
    """Rank every node's points within (year, group, node), descending; ties share the lowest
    rank (1, 2, 2, 4). Points are compared by their tie key (:mod:`pipelines.scoring.ties`)."""
    key = tie_key_column(scores["points"], scores["max_points"], precision).alias("_key")
    return (
        scores.with_columns(key)
        .with_columns(
            rank_descending(pl.col("_key")).over(["year", "group_id", "node_id"]).alias("rank")
        )
        .drop("_key")
    )


def effective_reading(framework: Framework, reading: str | None = None) -> str | None:
    """The classification reading used: the one asked for, else the framework's own
    (``pillar_minimum`` → ``total_and_pillars``); None when the framework has no classes."""
    if reading is not None and reading not in READINGS:
        raise ValueError(
            f"classification reading must be one of {', '.join(READINGS)}, not {reading!r}"
        )
    if framework.classification is None:
        return None
    if reading is not None:
        return reading
    return "total_and_pillars" if framework.classification.pillar_minimum else "total_only"


def classify(
    scores: pl.DataFrame,
    framework: Framework,
    reading: str | None = None,
    precision: RankPrecision = NOISE_ONLY,
) -> pl.DataFrame:
    """Add ``class_label`` on the index row of each unit from the framework's bands.

    Bands apply to the total ratio. Reading ``total_and_pillars`` (Huế 3043's table, which the
    decision introduces with "Các mức … được xác định như sau:"; Mức I: total ≥ 90 and every
    pillar ≥ 90 % of its maximum) also needs every pillar's ratio to reach the band's ratio;
    ``total_only`` looks at the total alone; None uses the framework's ``pillar_minimum``.
    Below the lowest band the class is null (not classified). A pillar left out by the
    ``exclude`` missing rule (ratio null) does not count against the minimum. A ratio reaches a
    band when its key reaches the band's (:func:`pipelines.scoring.ties.ratio_key`).
    """
    label = class_label(framework, reading, precision)
    if label is None:
        return scores.with_columns(pl.lit(None, dtype=pl.String).alias("class_label"))
    keys = ["unit_id", "year", "group_id"]
    total = pl.col("node_id") == framework.root_id
    # the weakest pillar ratio of each unit (a window: no join on three keys over every row)
    scored = scores.with_columns(
        pl.col("ratio")
        .filter(pl.col("node_level") == "pillar")
        .min()
        .over(keys)
        .alias("weakest_pillar")
    )
    return scored.with_columns(
        pl.when(total).then(label).otherwise(None).alias("class_label")
    ).drop("weakest_pillar")


def class_label(
    framework: Framework, reading: str | None = None, precision: RankPrecision = NOISE_ONLY
) -> pl.Expr | None:
    """The class of a total from its ``ratio`` and ``weakest_pillar`` (the lowest pillar
    ratio of the unit, null when none); None when the framework has no classes. Ratios and
    bands are compared by :func:`pipelines.scoring.ties.ratio_key` (monotone: the weakest
    pillar's key is the lowest pillar key)."""
    classification = framework.classification
    reading = effective_reading(framework, reading)
    if classification is None:
        return None
    label = pl.lit(None, dtype=pl.String)
    for band in reversed(classification.bands):  # highest band is applied last, so it wins
        floor = float(ratio_keys(band.min_ratio, precision))
        reached = ratio_key(pl.col("ratio"), precision) >= floor
        if reading == "total_and_pillars":
            reached = reached & (
                pl.col("weakest_pillar").is_null()
                | (ratio_key(pl.col("weakest_pillar"), precision) >= floor)
            )
        label = pl.when(reached).then(pl.lit(band.label)).otherwise(label)
    return label
