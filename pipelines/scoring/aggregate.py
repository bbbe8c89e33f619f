"""Leaf points → every node of the tree, views and composites (DOMAIN.md, "aggregation").

Aggregation is the sum of the children's points, level by level, which is the weighted arithmetic
mean with the maximum points as weights, scaled to the parent's maximum. Summing leaf points over
a closure table (leaf → each ancestor) gives the same numbers in one grouped pass.

The aggregated z-score of a node is the max-points-weighted mean of its leaves' z over the leaves
that have a value; it is what COINr reports when it aggregates z-scores arithmetically.
"""

from __future__ import annotations

import polars as pl

from pipelines.framework.model import Framework

UNIT_KEYS = ["unit_id", "year", "group_id"]


def aggregate_tree(leaf_scores: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Points, maximum, ratio and aggregated z at every node (leaves included).

    ``leaf_scores`` has ``unit_id, year, group_id, node_id, points, z`` with points already
    filled by the missing-data rule.
    """
    nodes = framework.nodes_frame().select("node_id", "node_level", "max_points", "ordinal")
    closure = framework.leaf_ancestry()
    weighted = (
        leaf_scores.select(*UNIT_KEYS, pl.col("node_id").alias("leaf_id"), "points", "z")
        .join(
            nodes.select(pl.col("node_id").alias("leaf_id"), pl.col("max_points").alias("w")),
            on="leaf_id",
        )
        .join(closure, on="leaf_id")
    )
    z_weight = pl.when(pl.col("z").is_not_null()).then(pl.col("w")).otherwise(0.0)
    tree = weighted.group_by([*UNIT_KEYS, "node_id"]).agg(
        pl.col("points").sum().alias("points"),
        ((pl.col("z") * pl.col("w")).sum() / z_weight.sum()).alias("z"),
    )
    tree = tree.join(nodes, on="node_id")
    tree = pl.concat(
        [tree, _views(tree, framework), _composites(tree, framework)], how="diagonal_relaxed"
    )
    return tree.with_columns(
        pl.when(pl.col("max_points") > 0)
        .then(pl.col("points") / pl.col("max_points"))
        .otherwise(None)
        .alias("ratio"),
        pl.col("z").fill_nan(None),
    ).sort([*UNIT_KEYS, "ordinal"])


def _views(tree: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    frames = []
    for ordinal, view in enumerate(framework.views, start=len(framework.nodes)):
        frames.append(
            tree.filter(pl.col("node_id").is_in(view.over))
            .group_by(UNIT_KEYS)
            .agg(pl.col("points").sum(), pl.col("z").mean())
            .with_columns(
                pl.lit(view.id).alias("node_id"),
                pl.lit("view").alias("node_level"),
                pl.lit(view.divisor).alias("max_points"),
                pl.lit(ordinal, dtype=pl.Int32).alias("ordinal"),
            )
        )
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def _composites(tree: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    if not framework.composites:
        return pl.DataFrame()
    ratios = pl.concat([tree, _views(tree, framework)], how="diagonal_relaxed").with_columns(
        (pl.col("points") / pl.col("max_points")).alias("ratio")
    )
    frames = []
    start = len(framework.nodes) + len(framework.views)
    for ordinal, composite in enumerate(framework.composites, start=start):
        weights = pl.DataFrame(
            list(composite.weights.items()), schema=["node_id", "weight"], orient="row"
        )
        frames.append(
            ratios.join(weights, on="node_id")
            .group_by(UNIT_KEYS)
            .agg((pl.col("ratio") * pl.col("weight")).sum().alias("points"))
            .with_columns(
                pl.lit(composite.id).alias("node_id"),
                pl.lit("composite").alias("node_level"),
                pl.lit(1.0).alias("max_points"),
                pl.lit(ordinal, dtype=pl.Int32).alias("ordinal"),
            )
        )
    return pl.concat(frames, how="diagonal_relaxed")
