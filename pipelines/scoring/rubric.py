"""The rubric (method ``points``): each leaf's own rule applied to its raw value
(docs/framework-format.md, "Rules")."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from pipelines.framework.model import Framework
from pipelines.scoring.leaf_arrays import LeafArrays, share


def rubric_cells(state: LeafArrays, columns: np.ndarray, framework: Framework) -> None:
    """The rubric's points of the grid's values in ``columns`` into ``state``
    (``relative_best`` reads the best value of the unit's comparison group)."""
    grid, leaves = state.grid, state.columns
    x = grid.value[:, columns]
    direction = leaves.direction[columns]
    best = grid.by_group(np.fmax, x * direction) * direction  # the best, in raw terms
    points = rubric_array(x, np.broadcast_to(leaves.position[columns], x.shape), best, framework)
    state.points[:, columns] = points
    state.normalised[:, columns] = share(points, leaves.max_points[columns])
    # points.{kind}, and "(best ≤ 0 → 0)" for a higher-is-better relative_best nobody achieved
    kinds = [leaves.kind[j] for j in columns]
    texts = state.notes.codes_of(
        [
            None if k is None else f"points.{k}{tail}"
            for k in kinds
            for tail in ("", "(best ≤ 0 → 0)")
        ]
    )
    relative = np.array([k == "relative_best" for k in kinds]) & (direction > 0)
    nobody = relative & (best <= 0)
    code = texts[np.arange(len(columns)) * 2 + nobody]
    state.notes.codes[:, columns] = np.where(np.isnan(points), -1, code)


def rubric_share(
    state: LeafArrays, cells: np.ndarray, columns: np.ndarray, framework: Framework
) -> np.ndarray:
    """The no-spread rule of min-max and z-score (a group where max = min, sd = 0, or a single
    value), on ``cells`` (a mask over ``columns``): the leaf's rubric points of the value ÷ the
    leaf's maximum (0 for a leaf of maximum 0, or a value the rubric gives nothing), so no unit
    earns points for a value nobody achieved. ``relative_best`` compares the value with itself
    (the group's best when every value is equal)."""
    x = state.grid.value[:, columns][cells]
    leaf = np.broadcast_to(state.columns.position[columns], cells.shape)[cells]
    top = np.broadcast_to(state.columns.max_points[columns], cells.shape)[cells]
    points = np.nan_to_num(rubric_array(x, leaf, x, framework))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(top > 0, points / top, 0.0)


def rubric_array(
    x: np.ndarray, leaf: np.ndarray, best: np.ndarray, framework: Framework
) -> np.ndarray:
    """The rubric's points (NaN: none) of the values ``x`` (NaN: none) of the leaves at
    positions ``leaf`` (``len(framework.leaves())``: no known leaf); ``best``: the group's
    best value, read by ``relative_best``."""
    shape = np.shape(x)
    x, leaf = np.ravel(x), np.ravel(leaf)
    points = _simple_rules(x, leaf, np.ravel(best), framework)
    _table_rules(x, leaf, points, framework)
    return points.reshape(shape)


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
    leaves = framework.leaves()
    kinds = [leaf.rule.kind if leaf.rule else None for leaf in leaves]
    # per leaf (and one past the end for rows of no known leaf)
    code = np.array(
        [*(SIMPLE_KINDS.index(k) if k in SIMPLE_KINDS else -1 for k in kinds), -1], dtype=np.int8
    )
    tops = np.array([*(float(leaf.max_points) for leaf in leaves), np.nan])
    lowers = np.array([*(leaf.direction == -1 for leaf in leaves), False])
    target = [leaf.rule.params.get("target") if leaf.rule else None for leaf in leaves]
    targets = np.array([*(np.nan if t is None else float(t) for t in target), np.nan])
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
