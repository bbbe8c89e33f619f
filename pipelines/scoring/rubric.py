"""The rubric (method ``points``): each leaf's own rule applied to its raw value
(docs/framework-format.md, "Rules")."""

from __future__ import annotations

import numpy as np

from pipelines.framework.model import Framework
from pipelines.scoring.leaf_arrays import LeafArrays, LeafColumns, share


def rubric_cells(state: LeafArrays, columns: np.ndarray, framework: Framework) -> None:
    """The rubric's points of the grid's values in ``columns`` into ``state``
    (``relative_best`` reads the best value of the unit's comparison group)."""
    grid, leaves = state.grid, state.columns
    x = grid.value[:, columns]
    direction = leaves.direction[columns]
    best = grid.by_group(np.fmax, x * direction) * direction  # the best, in raw terms
    points = rubric_points_of(x, columns, best, leaves, framework)
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
    rows = cells.any(axis=1)  # only the rows with such a cell are read
    x = state.grid.value[rows][:, columns]
    points = np.nan_to_num(rubric_points_of(x, columns, x, state.columns, framework))
    return np.nan_to_num(share(points, state.columns.max_points[columns]))[cells[rows]]


def rubric_points_of(
    x: np.ndarray,
    columns: np.ndarray,
    best: np.ndarray,
    leaves: LeafColumns,
    framework: Framework,
) -> np.ndarray:
    """The rubric's points (NaN: none) of the values ``x`` (``units × columns``; NaN: none) of
    the leaf ``columns``, by each leaf's rule (NaN for a leaf without one), ``best`` being the
    group's best value (read by ``relative_best``):

    - ``ratio``: ``min(x / target, 1)`` (≥ 0) × max; lower-is-better ``min(target / x, 1)``,
      and the maximum for x ≤ 0;
    - ``yesno``: the maximum for x ≥ 0.5, else 0;
    - ``relative_best``: ``x / best`` (≥ 0) × max, 0 when the best is ≤ 0 (nobody achieved
      anything); lower-is-better ``best / x`` (≥ 0) × max, the maximum for x ≤ 0;
    - ``direct``: x clipped to [0, max];
    - ``steps``: the points of the first threshold reached (thresholds are listed best first),
      else the ``else`` points;
    - ``categorical``: the points of the value's category, else none (codes compare as
      numbers: ``-0.0`` is category 0; the loader refuses a code listed twice).
    """
    points = np.full(x.shape, np.nan)
    for k, j in enumerate(columns):
        rule = framework.nodes[leaves.ids[j]].rule
        if rule is None:
            continue
        v, b, top, lower = x[:, k], best[:, k], leaves.max_points[j], leaves.direction[j] < 0
        params = rule.params
        with np.errstate(divide="ignore", invalid="ignore"):
            if rule.kind == "ratio":
                target = float(params["target"])
                if lower:
                    got = np.where(v <= 0, 1.0, np.fmin(target / v, 1.0)) * top
                else:
                    got = np.maximum(np.fmin(v / target, 1.0), 0.0) * top
            elif rule.kind == "yesno":
                got = np.where(v >= 0.5, top, 0.0)
            elif rule.kind == "relative_best":
                if lower:
                    got = np.where(v <= 0, top, np.maximum(b / v, 0.0) * top)
                else:
                    got = np.where(b <= 0, 0.0, np.maximum(v / b, 0.0) * top)
            elif rule.kind == "direct":
                got = np.clip(v, 0.0, top)
            elif rule.kind == "steps":
                got = np.full(v.shape, float(params.get("else", 0.0)))
                for threshold, step_points in reversed(params["thresholds"]):  # first wins
                    reached = v <= float(threshold) if lower else v >= float(threshold)
                    got[reached] = float(step_points)
            else:  # categorical
                got = np.full(v.shape, np.nan)
                for category, category_points in params["categories"].items():
                    got[v == float(category)] = float(category_points)
        points[:, k] = np.where(np.isnan(v), np.nan, got)
    return points
