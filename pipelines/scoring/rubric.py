"""The rubric (method ``points``): each leaf's own rule applied to its raw value
(docs/framework-format.md, "Rules")."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.grid import GROUP_CODE, LEAF
from pipelines.scoring.leaf_frame import (
    OUTPUT,
    leaf_code,
    leaf_table,
    note_pick,
    share,
    signed_frame,
)
from pipelines.scoring.methods import MethodSpec


def rubric_points(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Apply each leaf's rubric rule (docs/framework-format.md, "Rules") to its raw value: the
    input columns and ``OUTPUT``."""
    points = rubric_signed(signed_frame(values, framework), framework)
    return points.select(*values.columns, *OUTPUT)


def rubric_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """:func:`rubric_points` on a frame with the leaf attributes and ``signed``
    (:func:`signed_frame`)."""
    lower = pl.col("direction") == -1
    kinds = [leaf.rule.kind if leaf.rule else None for leaf in framework.leaves()]
    relative = [i for i, k in enumerate(kinds) if k == "relative_best"]
    best = pl.lit(None, dtype=pl.Float64).alias("best")
    if relative:  # the best of the group, on the rows of relative_best leaves alone
        rows = frame.select(pl.col(LEAF).is_in(relative).fill_null(False).arg_true())
        rows = rows.to_series()
        # the highest signed value, back in raw terms (lower-is-better: the lowest value)
        signed = pl.col("value") * pl.col("direction")
        found = frame[rows].select((signed.max().over(GROUP_CODE) * pl.col("direction")).alias("b"))
        best = pl.Series("best", np.full(frame.height, np.nan), nan_to_null=True)
        best = best.scatter(rows, found["b"])
    frame = frame.with_columns(best)
    # null → NaN: a value that is not a number scores nothing, as a missing one
    x = frame["value"].cast(pl.Float64).to_numpy()
    leaf = frame[LEAF].fill_null(len(kinds)).to_numpy()  # no known leaf: one past the end
    points = rubric_array(x, leaf, frame["best"].to_numpy(), framework)
    frame = frame.with_columns(pl.Series("points", points, nan_to_null=True))
    frame = frame.with_columns(
        share(pl.col("points")).alias("normalised"), pl.lit(None, dtype=pl.Float64).alias("z")
    )
    # points.{kind}, and "(best ≤ 0 → 0)" for a higher-is-better relative_best nobody achieved
    texts = [
        None if k is None else f"points.{k}{tail}" for k in kinds for tail in ("", "(best ≤ 0 → 0)")
    ]
    nobody = (pl.col("rule_kind") == "relative_best") & ~lower & (pl.col("best") <= 0)
    return note_pick(frame, texts, leaf_code(2, nobody.fill_null(False)))


def rubric_array(
    x: np.ndarray, leaf: np.ndarray, best: np.ndarray, framework: Framework
) -> np.ndarray:
    """The rubric's points (NaN: none) of the values ``x`` (NaN: none) of the leaves at
    positions ``leaf`` (``len(framework.leaves())``: no known leaf); ``best``: the group's
    best value, read by ``relative_best``."""
    points = _simple_rules(x, leaf, best, framework)
    _table_rules(x, leaf, points, framework)
    return points


SIMPLE_KINDS = ("ratio", "yesno", "relative_best", "direct")


def _simple_rules(
    x: np.ndarray, leaf: np.ndarray, best: np.ndarray, framework: Framework
) -> np.ndarray:
    """Points of the values ``x`` (NaN: none) of the leaves at positions ``leaf`` whose rule is
    a formula (NaN elsewhere: steps, categories, no rule, no value), each kind computed on its
    own rows only (``best``: the group's best, read by ``relative_best``):

    - ``ratio``: ``min(x / target, 1)`` (≥ 0) × max; lower-is-better ``min(target / x, 1)``,
      and the maximum for x ≤ 0;
    - ``yesno``: the maximum for x ≥ 0.5, else 0;
    - ``relative_best``: ``x / best`` (≥ 0) × max, 0 when the best is ≤ 0 (nobody achieved
      anything); lower-is-better ``best / x`` (≥ 0) × max, the maximum for x ≤ 0;
    - ``direct``: x clipped to [0, max]."""
    table = leaf_table(framework)
    kinds = table["rule_kind"].to_list()
    # per leaf (and one past the end for rows of no known leaf)
    code = np.array(
        [*(SIMPLE_KINDS.index(k) if k in SIMPLE_KINDS else -1 for k in kinds), -1], dtype=np.int8
    )
    tops = np.append(table["max_points"].cast(pl.Float64).to_numpy(), np.nan)
    lowers = np.append((table["direction"] == -1).to_numpy(), False)
    targets = np.append(table["target"].cast(pl.Float64).to_numpy(), np.nan)
    row_kind = code[leaf]
    row_kind[np.isnan(x)] = -1
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
        b = best[rows]
        t = tops[at]
        points[rows] = np.where(
            lowers[at],
            np.where(xs <= 0, t, np.maximum(b / xs, 0.0) * t),
            np.where(b <= 0, 0.0, np.maximum(xs / b, 0.0) * t),
        )
        rows = np.flatnonzero(row_kind == 3)  # direct
        points[rows] = np.clip(x[rows], 0.0, tops[leaf[rows]])
    return points


def _table_rules(x: np.ndarray, leaf: np.ndarray, points: np.ndarray, framework: Framework) -> None:
    """Steps and categorical rules into ``points`` (the values ``x`` of the leaves at positions
    ``leaf``): the first threshold reached (thresholds are listed best first), else the
    ``else`` points; the points of the category of the value, else null (codes compare as
    numbers: ``-0.0`` is category 0; the loader refuses a code listed twice). Only the rows of
    such leaves are read, leaf by leaf; a value that is not a number (NaN) gets no points, as a
    missing one."""
    steps: dict[int, tuple[list[tuple[float, float]], float]] = {}
    categories: dict[int, dict[float, float]] = {}
    for position, node in enumerate(framework.leaves()):
        if node.rule is None:
            continue
        if node.rule.kind == "steps":
            thresholds = [(float(t), float(p)) for t, p in node.rule.params["thresholds"]]
            steps[position] = (thresholds, float(node.rule.params.get("else", 0.0)))
        elif node.rule.kind == "categorical":
            categories[position] = {
                float(c): float(p) for c, p in node.rule.params["categories"].items()
            }
    if not steps and not categories:
        return
    is_table = np.zeros(len(framework.leaves()) + 1, dtype=bool)
    is_table[list(steps) + list(categories)] = True
    rows = np.flatnonzero(is_table[leaf] & ~np.isnan(x))
    leaf_of = leaf[rows].astype(np.int16 if is_table.size < 2**15 else np.int64)
    order = np.argsort(leaf_of, kind="stable")  # each leaf's rows together (a radix sort)
    bounds = np.flatnonzero(np.diff(leaf_of[order], prepend=-1, append=-1))
    lower = {i: node.direction == -1 for i, node in enumerate(framework.leaves())}
    for start, stop in pairwise(bounds):
        mine = rows[order[start:stop]]
        position = int(leaf[mine[0]])
        value = x[mine]
        if position in steps:
            thresholds, otherwise = steps[position]
            got = np.full(len(mine), otherwise)
            for threshold, step_points in reversed(thresholds):  # the first reached wins
                reached = value <= threshold if lower[position] else value >= threshold
                got[reached] = step_points
        else:
            got = np.full(len(mine), np.nan)  # a value of no category: null
            for code, category_points in categories[position].items():
                got[value == code] = category_points
        points[mine] = got
