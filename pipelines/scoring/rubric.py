"""The rubric (method ``points``): each leaf's own rule applied to its raw value
(docs/framework-format.md, "Rules")."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.grid import LEAF
from pipelines.scoring.leaf_frame import (
    DEFAULT_KEYS,
    Keys,
    leaf_code,
    leaf_table,
    method_points,
    note_pick,
)
from pipelines.scoring.methods import MethodSpec


def rubric_points(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Apply each leaf's rubric rule (docs/framework-format.md, "Rules") to its raw value."""
    return method_points(values, framework, rubric_signed, spec, history)


def rubric_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec | None = None,
    history: pl.DataFrame | None = None,
    keys: Keys = DEFAULT_KEYS,
) -> pl.DataFrame:
    """:func:`rubric_points` on a frame with the leaf attributes and ``signed``."""
    group = list(keys.group)
    lower = pl.col("direction") == -1
    kinds = [leaf.rule.kind if leaf.rule else None for leaf in framework.leaves()]
    relative = [i for i, k in enumerate(kinds) if k == "relative_best"]
    best = pl.lit(None, dtype=pl.Float64).alias("best")
    if relative:  # the best of the group, on the rows of relative_best leaves alone
        rows = frame.select(pl.col(LEAF).is_in(relative).fill_null(False).arg_true())
        rows = rows.to_series()
        # the highest signed value, back in raw terms (lower-is-better: the lowest value)
        signed = pl.col("value") * pl.col("direction")
        found = frame[rows].select((signed.max().over(group) * pl.col("direction")).alias("b"))
        best = pl.Series("best", np.full(frame.height, np.nan), nan_to_null=True)
        best = best.scatter(rows, found["b"])
    frame = frame.with_columns(best)
    points = pl.Series("points", _simple_rules(frame, framework), nan_to_null=True)
    frame = frame.with_columns(points)
    frame = _table_rules(frame, framework)
    frame = frame.with_columns(
        pl.when(pl.col("max_points") > 0)
        .then(pl.col("points") / pl.col("max_points"))
        .otherwise(None)  # a leaf of maximum 0 (reported, not scored): no share, never NaN
        .alias("normalised"),
        pl.lit(None, dtype=pl.Float64).alias("z"),
    )
    # points.{kind}, and "(best ≤ 0 → 0)" for a higher-is-better relative_best nobody achieved
    texts = [
        None if k is None else f"points.{k}{tail}" for k in kinds for tail in ("", "(best ≤ 0 → 0)")
    ]
    nobody = (pl.col("rule_kind") == "relative_best") & ~lower & (pl.col("best") <= 0)
    return note_pick(frame, texts, leaf_code(2, nobody.fill_null(False)))


SIMPLE_KINDS = ("ratio", "yesno", "relative_best", "direct")


def _simple_rules(frame: pl.DataFrame, framework: Framework) -> np.ndarray:
    """Points of the leaves whose rule is a formula (NaN elsewhere: steps, categories, no rule,
    no value), each kind computed on its own rows only:

    - ``ratio``: ``min(x / target, 1)`` (≥ 0) × max; lower-is-better ``min(target / x, 1)``,
      and the maximum for x ≤ 0;
    - ``yesno``: the maximum for x ≥ 0.5, else 0;
    - ``relative_best``: ``x / best`` (≥ 0) × max, 0 when the best is ≤ 0 (nobody achieved
      anything); lower-is-better ``best / x`` (≥ 0) × max, the maximum for x ≤ 0;
    - ``direct``: x clipped to [0, max]."""
    table = leaf_table(framework)
    kinds = table["rule_kind"].to_list()
    n_leaves = len(kinds)
    # per leaf (and one past the end for rows of no known leaf)
    code = np.array(
        [*(SIMPLE_KINDS.index(k) if k in SIMPLE_KINDS else -1 for k in kinds), -1], dtype=np.int8
    )
    tops = np.append(table["max_points"].cast(pl.Float64).to_numpy(), np.nan)
    lowers = np.append((table["direction"] == -1).to_numpy(), False)
    targets = np.append(table["target"].cast(pl.Float64).to_numpy(), np.nan)
    value = frame["value"]
    x = value.to_numpy().astype(np.float64, copy=False)  # null → NaN
    leaf = _leaf_positions(frame, n_leaves)
    row_kind = code[leaf]
    if value.null_count():
        row_kind[value.is_null().to_numpy()] = -1
    points = np.full(len(x), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = np.flatnonzero(row_kind == 0)  # ratio
        xs, at = x[rows], leaf[rows]
        share = np.where(
            lowers[at],
            np.where(xs <= 0, 1.0, np.fmin(targets[at] / xs, 1.0)),
            np.maximum(np.fmin(xs / targets[at], 1.0), 0.0),
        )
        points[rows] = share * tops[at]
        rows = np.flatnonzero(row_kind == 1)  # yesno
        points[rows] = np.where(x[rows] >= 0.5, tops[leaf[rows]], 0.0)
        rows = np.flatnonzero(row_kind == 2)  # relative_best
        xs, at = x[rows], leaf[rows]
        b = frame["best"].gather(rows).to_numpy().astype(np.float64, copy=False)
        t = tops[at]
        points[rows] = np.where(
            lowers[at],
            np.where(xs <= 0, t, np.maximum(b / xs, 0.0) * t),
            np.where(b <= 0, 0.0, np.maximum(xs / b, 0.0) * t),
        )
        rows = np.flatnonzero(row_kind == 3)  # direct
        points[rows] = np.clip(x[rows], 0.0, tops[leaf[rows]])
    return points


def _leaf_positions(frame: pl.DataFrame, n_leaves: int) -> np.ndarray:
    """Each row's leaf position, ``n_leaves`` on a row of no known leaf (the frame's own
    32-bit codes, not a copy, when every row has one)."""
    return frame[LEAF].fill_null(n_leaves).to_numpy()


def _table_rules(frame: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Steps and categorical rules: the first threshold reached (thresholds are listed best
    first), else the ``else`` points; the points of the category of the value, else null (codes
    compare as numbers: ``-0.0`` is category 0; the loader refuses a code listed twice). Only the
    rows of such leaves are read, leaf by leaf; a value that is not a number (NaN) gets no
    points, as a missing one."""
    steps: dict[int, tuple[list[tuple[float, float]], float]] = {}
    categories: dict[int, dict[float, float]] = {}
    for position, leaf in enumerate(framework.leaves()):
        if leaf.rule is None:
            continue
        if leaf.rule.kind == "steps":
            thresholds = [(float(t), float(p)) for t, p in leaf.rule.params["thresholds"]]
            steps[position] = (thresholds, float(leaf.rule.params.get("else", 0.0)))
        elif leaf.rule.kind == "categorical":
            categories[position] = {
                float(c): float(p) for c, p in leaf.rule.params["categories"].items()
            }
    if not steps and not categories:
        return frame
    leaf_all = _leaf_positions(frame, len(framework.leaves()))
    is_table = np.zeros(len(framework.leaves()) + 1, dtype=bool)
    is_table[list(steps) + list(categories)] = True
    rows = np.flatnonzero(is_table[leaf_all] & frame["value"].is_not_null().to_numpy())
    if rows.size == 0:
        return frame
    leaf_of = leaf_all[rows]
    value = frame["value"].to_numpy()[rows]
    points = np.full(len(value), np.nan)
    order = np.argsort(leaf_of, kind="stable")  # each leaf's rows together
    bounds = np.flatnonzero(np.diff(leaf_of[order], prepend=-1, append=-1))
    lower = {i: leaf.direction == -1 for i, leaf in enumerate(framework.leaves())}
    for start, stop in pairwise(bounds):
        mine = order[start:stop]
        position = int(leaf_of[mine[0]])
        x = value[mine]
        if position in steps:
            thresholds, otherwise = steps[position]
            got = np.where(np.isnan(x), np.nan, otherwise)
            for threshold, step_points in reversed(thresholds):  # the first reached wins
                reached = x <= threshold if lower[position] else x >= threshold
                got[reached] = step_points
        else:
            got = np.full(len(mine), np.nan)  # a value of no category: null
            for code, category_points in categories[position].items():
                got[x == code] = category_points
        points[mine] = got
    new = pl.Series("p", points, nan_to_null=True)
    return frame.with_columns(frame["points"].clone().scatter(rows, new).alias("points"))
