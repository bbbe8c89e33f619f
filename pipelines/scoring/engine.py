"""The scoring verbs: normalise → impute → aggregate → rank → classify.

Modelled on COINr's verbs (build, normalise, aggregate, rank): each step is a plain function on
polars frames. The warehouse stages call them one at a time (one table each); :func:`score`
chains them for files scored outside the warehouse (``dti score``).
"""

from __future__ import annotations

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.aggregate import aggregate_tree
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.normalise import minmax_points, rubric_points, zscore_points
from pipelines.scoring.rank import classify, rank_within_groups

NORMALISERS = {"points": rubric_points, "minmax": minmax_points, "zscore": zscore_points}
UNIT_KEYS = ["unit_id", "year", "group_id"]

SCORE_COLUMNS = [
    "year",
    "group_id",
    "unit_id",
    "node_id",
    "node_level",
    "ordinal",
    "points",
    "max_points",
    "ratio",
    "z",
    "rank",
    "class_label",
    "n_missing",
]


def complete_grid(values: pl.DataFrame, units: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """One row per (unit, year, leaf): what was reported, and null where nothing was.

    ``units`` lists who is scored (``unit_id, year, group_id``); values of anyone else are ignored,
    and a unit that reported nothing still gets a row for every leaf.
    """
    leaves = pl.DataFrame({"node_id": framework.leaf_ids()})
    reported = values.select(
        pl.col("unit_id").cast(pl.String),
        pl.col("year").cast(pl.Int32),
        pl.col("node_id").cast(pl.String),
        pl.col("value").cast(pl.Float64),
    ).unique(subset=["unit_id", "year", "node_id"], keep="last")
    grid = units.select(
        pl.col("unit_id").cast(pl.String),
        pl.col("year").cast(pl.Int32),
        pl.col("group_id").cast(pl.String),
    ).join(leaves, how="cross")
    # nulls_equal: a COINr iData without a Time column has year null on both sides
    return grid.join(reported, on=["unit_id", "year", "node_id"], how="left", nulls_equal=True)


def normalise(grid: pl.DataFrame, framework: Framework, spec: MethodSpec) -> pl.DataFrame:
    """Leaf points by the chosen method; missing values stay null (see :func:`impute`)."""
    return NORMALISERS[spec.method](grid, framework)


def impute(leaf_scores: pl.DataFrame, spec: MethodSpec) -> pl.DataFrame:
    """Apply the missing-data rule: ``zero`` gives 0 points to a leaf without a value
    (Đắk Lắk 2534: "không có số liệu báo cáo … mặc định là 0 điểm")."""
    return leaf_scores.with_columns(
        pl.col("points").is_null().cast(pl.Int32).alias("n_missing"),
        pl.col("points").fill_null(0.0),
    )


def leaf_scores(
    values: pl.DataFrame, units: pl.DataFrame, framework: Framework, spec: MethodSpec
) -> pl.DataFrame:
    """Stage 1: ``unit_id, year, group_id, node_id, value, normalised, z, points, n_missing``."""
    return impute(normalise(complete_grid(values, units, framework), framework, spec), spec)


def node_scores(leaves: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Stage 2: points, maximum, ratio, aggregated z and missing count at every node."""
    tree = aggregate_tree(leaves, framework)
    closure = framework.leaf_ancestry().rename({"leaf_id": "node_id", "node_id": "ancestor"})
    missing = (
        leaves.join(closure, on="node_id")
        .group_by([*UNIT_KEYS, "ancestor"])
        .agg(pl.col("n_missing").sum())
        .rename({"ancestor": "node_id"})
    )
    return tree.join(
        missing, on=[*UNIT_KEYS, "node_id"], how="left", nulls_equal=True
    ).with_columns(pl.col("n_missing").fill_null(0).cast(pl.Int32))


def ranked(nodes: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Stage 3: rank within each comparison group at every node, class on the total."""
    return classify(rank_within_groups(nodes), framework)


def score(
    values: pl.DataFrame, units: pl.DataFrame, framework: Framework, spec: MethodSpec
) -> pl.DataFrame:
    """Score ``units`` on ``framework``: one row per unit, year and node (``SCORE_COLUMNS``)."""
    nodes = node_scores(leaf_scores(values, units, framework, spec), framework)
    return (
        ranked(nodes, framework)
        .sort(["year", "group_id", "unit_id", "ordinal"])
        .select(SCORE_COLUMNS)
    )
