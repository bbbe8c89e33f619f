"""Leaf points → every node of the tree, views and composites (DOMAIN.md, "aggregation").

Aggregation is the sum of the children's points, level by level, which is the weighted arithmetic
mean with the maximum points as weights, scaled to the parent's maximum. Summing leaf points over
a closure table (leaf → each ancestor) gives the same numbers in one grouped pass.

Missing data ``exclude``: leaves marked ``excluded`` are dropped and every parent re-weights over
its present children, level by level: ``points = Σ present points ÷ Σ their maxima × the parent's
maximum``. A node whose children are all excluded is itself excluded (0 points, ratio null) and
its own parent re-weights without it. Where nothing below a node is excluded its points are the
plain sum, exactly as above. Views and composites re-weight the same way over the nodes they cover.

The aggregated z-score of a node is the max-points-weighted mean of its leaves' z over the leaves
that have a z (scored from a reported value). Under ``exclude`` it is re-weighted level by level
like the points: a parent's z is the max-points-weighted mean of its children's z over the
children that have one — what COINr reports when it aggregates z-scores arithmetically with
missing values left out (``na.rm``) — so a node whose other leaves are present keeps its weight.
"""

from __future__ import annotations

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.keys import UNIT_KEYS


def aggregate_tree(leaf_scores: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Points, maximum, ratio, aggregated z and ``excluded`` at every node (leaves included).

    ``leaf_scores`` has ``unit_id, year, group_id, node_id, points, z`` (and optionally
    ``excluded``) with points already filled by the missing-data rule.
    """
    if "excluded" not in leaf_scores.columns:
        leaf_scores = leaf_scores.with_columns(pl.lit(False).alias("excluded"))
    leaf_scores = leaf_scores.with_columns(pl.col("excluded").fill_null(False))
    nodes = framework.nodes_frame().select("node_id", "node_level", "max_points", "ordinal")
    closure = framework.leaf_ancestry()
    weighted = (
        leaf_scores.select(
            *UNIT_KEYS, pl.col("node_id").alias("leaf_id"), "points", "z", "excluded"
        )
        .join(
            nodes.select(pl.col("node_id").alias("leaf_id"), pl.col("max_points").alias("w")),
            on="leaf_id",
            maintain_order="left",
        )
        .join(closure, on="leaf_id", maintain_order="left")
    )
    z_weight = pl.when(pl.col("z").is_not_null()).then(pl.col("w")).otherwise(0.0)
    tree = weighted.group_by([*UNIT_KEYS, "node_id"]).agg(
        pl.col("points").sum().alias("points"),
        ((pl.col("z") * pl.col("w")).sum() / z_weight.sum()).alias("z"),
        pl.col("excluded").all().alias("excluded"),
    )
    if leaf_scores["excluded"].any():
        reweighted = _reweighted_points(leaf_scores, framework)
        tree = (
            tree.drop("points", "z", "excluded")
            .join(reweighted, on=[*UNIT_KEYS, "node_id"], how="left", nulls_equal=True)
            .with_columns(pl.col("excluded").fill_null(False))
        )
    tree = tree.join(nodes, on="node_id")
    if framework.views or framework.composites:
        # they sum over these rows: in one fixed order (see _reweighted_points)
        tree = tree.sort([*UNIT_KEYS, "ordinal"])
    tree = pl.concat(
        [tree, _views(tree, framework), _composites(tree, framework)], how="diagonal_relaxed"
    )
    return tree.with_columns(
        pl.when((pl.col("max_points") > 0) & ~pl.col("excluded"))
        .then(pl.col("points") / pl.col("max_points"))
        .otherwise(None)
        .alias("ratio"),
        pl.col("z").fill_nan(None),
    ).sort([*UNIT_KEYS, "ordinal"])


def _reweighted_points(leaf_scores: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Bottom-up points and z with excluded children left out and the rest re-weighted, level
    by level (the z over the children that have one, weighted by their maxima)."""
    nodes = framework.nodes_frame().select("node_id", "parent_id", "depth", "max_points")
    depth = dict(zip(nodes["node_id"], nodes["depth"], strict=True))
    computed = leaf_scores.select(
        *UNIT_KEYS, "node_id", "points", pl.col("z").fill_nan(None), "excluded"
    ).with_columns(pl.col("node_id").replace_strict(depth, return_dtype=pl.Int32).alias("depth"))
    parents = nodes.select(
        pl.col("node_id"), "parent_id", pl.col("max_points").alias("child_max")
    ).join(
        nodes.select(
            pl.col("node_id").alias("parent_id"), pl.col("max_points").alias("parent_max")
        ),
        on="parent_id",
        how="left",
    )
    for level in range(int(nodes["depth"].max()), 0, -1):
        # a float sum depends on the order of its terms: the children in one fixed order, so
        # that re-scoring the same inputs gives the same bits (the snapshot's content hash)
        children = (
            computed.filter(pl.col("depth") == level)
            .join(parents, on="node_id")
            .sort([*UNIT_KEYS, "parent_id", "node_id"])
        )
        present = ~pl.col("excluded")
        has_z = present & pl.col("z").is_not_null()
        parent = (
            children.group_by([*UNIT_KEYS, "parent_id"])
            .agg(
                pl.col("points").sum().alias("all_points"),
                pl.col("points").filter(present).sum().alias("present_points"),
                pl.col("child_max").filter(present).sum().alias("present_max"),
                (pl.col("z") * pl.col("child_max")).filter(has_z).sum().alias("z_sum"),
                pl.col("child_max").filter(has_z).sum().alias("z_weight"),
                has_z.any().alias("any_z"),
                pl.col("parent_max").first(),
                pl.col("excluded").any().alias("some_excluded"),
                pl.col("excluded").all().alias("excluded"),
            )
            .with_columns(
                pl.when(pl.col("excluded"))
                .then(0.0)
                .when(~pl.col("some_excluded"))
                .then(pl.col("all_points"))
                .when(pl.col("present_max") > 0)
                .then(pl.col("present_points") / pl.col("present_max") * pl.col("parent_max"))
                .otherwise(0.0)
                .alias("points"),
                pl.when(pl.col("any_z") & (pl.col("z_weight") > 0))
                .then(pl.col("z_sum") / pl.col("z_weight"))
                .otherwise(None)
                .alias("z"),
                pl.lit(level - 1, dtype=pl.Int32).alias("depth"),
            )
            .select(
                *UNIT_KEYS,
                pl.col("parent_id").alias("node_id"),
                "points",
                "z",
                "excluded",
                "depth",
            )
        )
        computed = pl.concat([computed, parent], how="vertical_relaxed")
    return computed.drop("depth")


def _reweighted_sum(points: pl.Expr, weight: pl.Expr) -> pl.Expr:
    """Σ points, or over the present items re-weighted to the full weight when some are
    excluded (0 when all are)."""
    present = ~pl.col("excluded")
    present_weight = weight.filter(present).sum()
    return (
        pl.when(~pl.col("excluded").any())
        .then(points.sum())
        .when(present_weight > 0)
        .then(points.filter(present).sum() / present_weight * weight.sum())
        .otherwise(0.0)
    )


def _views(tree: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    frames = []
    for ordinal, view in enumerate(framework.views, start=len(framework.nodes)):
        frames.append(
            tree.filter(pl.col("node_id").is_in(view.over))
            .group_by(UNIT_KEYS)
            .agg(
                _reweighted_sum(pl.col("points"), pl.col("max_points")).alias("points"),
                pl.col("z").mean(),
                pl.col("excluded").all(),
            )
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
        pl.when(pl.col("max_points") > 0)
        .then(pl.col("points") / pl.col("max_points"))
        .otherwise(0.0)
        .alias("ratio")
    )
    frames = []
    start = len(framework.nodes) + len(framework.views)
    for ordinal, composite in enumerate(framework.composites, start=start):
        weights = pl.DataFrame(
            list(composite.weights.items()), schema=["node_id", "weight"], orient="row"
        )
        frames.append(
            ratios.join(weights, on="node_id", maintain_order="left")
            .group_by(UNIT_KEYS)
            .agg(
                _reweighted_sum(pl.col("ratio") * pl.col("weight"), pl.col("weight")).alias(
                    "points"
                ),
                pl.col("excluded").all(),
            )
            .with_columns(
                pl.lit(composite.id).alias("node_id"),
                pl.lit("composite").alias("node_level"),
                pl.lit(1.0).alias("max_points"),
                pl.lit(ordinal, dtype=pl.Int32).alias("ordinal"),
            )
        )
    return pl.concat(frames, how="diagonal_relaxed")
