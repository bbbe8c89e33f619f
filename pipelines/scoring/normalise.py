"""Leaf values → leaf points, per comparison group and year (DOMAIN.md, "Scoring methods").

Input frames have one row per unit, year and leaf: ``unit_id, year, group_id, node_id, value``
with ``value`` null where nothing was reported. Statistics ignore missing values; missing values
stay missing here and get points from the missing-data rule in :mod:`pipelines.scoring.engine`.

Degenerate groups (documented, never NaN):
- min-max with max = min (one unit, or all present values equal): ``n = 1`` — every unit equals
  the best value observed, which min-max maps to 1;
- z-score with fewer than two values or sd = 0: ``z = 0`` (every unit is at the mean), so
  ``Φ(z) × max = max / 2``.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.special import ndtr

from pipelines.framework.model import Framework

GROUP_KEYS = ["year", "group_id", "node_id"]


def leaf_table(framework: Framework) -> pl.DataFrame:
    """Leaf attributes needed by the methods: max points, direction, rule kind and parameters."""
    return (
        framework.nodes_frame()
        .filter(pl.col("is_leaf"))
        .select("node_id", "max_points", "direction", "rule_kind", "rule_params")
    )


def _signed(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Attach leaf attributes and the direction-adjusted value (lower-is-better is negated)."""
    return values.join(leaf_table(framework), on="node_id", how="left").with_columns(
        (pl.col("value") * pl.col("direction")).alias("signed")
    )


def minmax_points(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """``n = (x − min) / (max − min)`` over the group's present values; points = n × max points."""
    frame = _signed(values, framework).with_columns(
        pl.col("signed").min().over(GROUP_KEYS).alias("lo"),
        pl.col("signed").max().over(GROUP_KEYS).alias("hi"),
    )
    span = pl.col("hi") - pl.col("lo")
    normalised = (
        pl.when(pl.col("signed").is_null())
        .then(None)
        .when(span == 0)
        .then(1.0)
        .otherwise((pl.col("signed") - pl.col("lo")) / span)
    )
    return frame.with_columns(
        normalised.alias("normalised"),
        (normalised * pl.col("max_points")).alias("points"),
        pl.lit(None, dtype=pl.Float64).alias("z"),
    ).select(*values.columns, "normalised", "z", "points")


def zscore_points(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """``z = (x − mean) / sd`` with the sample sd (n − 1); points = Φ(z) × max points."""
    frame = _signed(values, framework).with_columns(
        pl.col("signed").mean().over(GROUP_KEYS).alias("mean"),
        pl.col("signed").std(ddof=1).over(GROUP_KEYS).alias("sd"),
    )
    z = (
        pl.when(pl.col("signed").is_null())
        .then(None)
        .when(pl.col("sd").is_null() | (pl.col("sd") == 0))
        .then(0.0)
        .otherwise((pl.col("signed") - pl.col("mean")) / pl.col("sd"))
    )
    frame = frame.with_columns(z.alias("z"))
    cdf = ndtr(frame["z"].to_numpy(allow_copy=True).astype(np.float64))
    frame = frame.with_columns(pl.Series("normalised", cdf).fill_nan(None))
    return frame.with_columns((pl.col("normalised") * pl.col("max_points")).alias("points")).select(
        *values.columns, "normalised", "z", "points"
    )


def rubric_points(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Apply each leaf's rubric rule (docs/framework-format.md, "Rules") to its raw value."""
    frame = _signed(values, framework)
    x, top, lower = pl.col("value"), pl.col("max_points"), pl.col("direction") == -1
    best = (
        pl.when(lower)
        .then(pl.col("value").min().over(GROUP_KEYS))
        .otherwise(pl.col("value").max().over(GROUP_KEYS))
    )
    target = pl.col("rule_params").str.json_path_match("$.target").cast(pl.Float64)
    ratio = (
        pl.when(lower)
        .then(pl.when(x <= 0).then(1.0).otherwise(pl.min_horizontal(target / x, 1.0)))
        .otherwise(pl.min_horizontal(x / target, 1.0).clip(lower_bound=0.0))
        * top
    )
    # lower: best / x × max (x ≤ 0 is the best possible → max; a best of 0 gives the others 0);
    # higher: x / best × max, and 0 when the best is ≤ 0 (nobody achieved anything)
    relative = (
        pl.when(lower)
        .then(pl.when(x <= 0).then(top).otherwise((best / x).clip(lower_bound=0.0) * top))
        .when(best <= 0)
        .then(0.0)
        .otherwise((x / best).clip(lower_bound=0.0) * top)
    )
    kind = pl.col("rule_kind")
    simple = (
        pl.when(x.is_null())
        .then(None)
        .when(kind == "ratio")
        .then(ratio)
        .when(kind == "yesno")
        .then(pl.when(x >= 0.5).then(top).otherwise(0.0))
        .when(kind == "relative_best")
        .then(relative)
        .when(kind == "direct")
        .then(x.clip(0.0, top))
        .otherwise(None)
    )
    frame = frame.with_columns(simple.alias("points"))
    frame = _table_rules(frame, framework)
    return frame.with_columns(
        (pl.col("points") / pl.col("max_points")).alias("normalised"),
        pl.lit(None, dtype=pl.Float64).alias("z"),
    ).select(*values.columns, "normalised", "z", "points")


def _table_rules(frame: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Steps and categorical rules: a lookup table joined on (leaf, value)."""
    steps, categories = [], []
    for leaf in framework.leaves():
        if leaf.rule is None:
            continue
        if leaf.rule.kind == "steps":
            for order, (threshold, points) in enumerate(leaf.rule.params["thresholds"]):
                steps.append((leaf.id, order, float(threshold), float(points)))
        elif leaf.rule.kind == "categorical":
            for code, points in leaf.rule.params["categories"].items():
                categories.append((leaf.id, float(code), float(points)))
    keys = ["unit_id", *GROUP_KEYS]
    if steps:
        table = pl.DataFrame(
            steps, schema=["node_id", "step_order", "threshold", "step_points"], orient="row"
        )
        hit = (
            frame.filter(pl.col("rule_kind") == "steps", pl.col("value").is_not_null())
            .select(*keys, "value", "direction")
            .join(table, on="node_id")
            .filter(
                pl.when(pl.col("direction") == -1)
                .then(pl.col("value") <= pl.col("threshold"))
                .otherwise(pl.col("value") >= pl.col("threshold"))
            )
            # thresholds are listed best first: the first satisfied one gives the points
            .group_by(keys)
            .agg(pl.col("step_points").sort_by("step_order").first())
        )
        else_points = {
            leaf.id: float(leaf.rule.params.get("else", 0.0))
            for leaf in framework.leaves()
            if leaf.rule is not None and leaf.rule.kind == "steps"
        }
        frame = frame.join(hit, on=keys, how="left").with_columns(
            pl.when((pl.col("rule_kind") == "steps") & pl.col("value").is_not_null())
            .then(
                pl.coalesce(
                    "step_points",
                    pl.col("node_id").replace_strict(else_points, default=0.0),
                )
            )
            .otherwise(pl.col("points"))
            .alias("points")
        )
    if categories:
        table = pl.DataFrame(
            categories, schema=["node_id", "value", "category_points"], orient="row"
        )
        frame = frame.join(table, on=["node_id", "value"], how="left").with_columns(
            pl.when(pl.col("rule_kind") == "categorical")
            .then(pl.col("category_points"))
            .otherwise(pl.col("points"))
            .alias("points")
        )
    return frame
