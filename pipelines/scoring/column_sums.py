"""Node points as column sums of a complete leaf grid (``units × leaves``): the aggregation of
:func:`pipelines.scoring.engine.node_scores` when the leaf frame is such a grid and nothing is
left out (the numbers of :func:`pipelines.scoring.aggregate.aggregate_tree`: sums of the same
leaves, left to right in leaf order).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.keys import UNIT_KEYS


def grid_shape(frame: pl.DataFrame, framework: Framework) -> tuple[int, list[str]] | None:
    """``(number of units, leaf order)`` when ``frame`` holds every leaf of ``framework`` once
    per unit, each unit's rows consecutive and in the same leaf order; else None."""
    leaf_ids = framework.leaf_ids()
    n_leaves = len(leaf_ids)
    if n_leaves == 0 or frame.is_empty() or frame.height % n_leaves:
        return None
    n_units = frame.height // n_leaves
    order = frame["node_id"].head(n_leaves).to_list()
    if sorted(order) != sorted(leaf_ids) or len(set(order)) != n_leaves:
        return None
    position = {leaf: i for i, leaf in enumerate(order)}
    codes = frame["node_id"].replace_strict(position, default=-1, return_dtype=pl.Int32)
    expected = np.tile(np.arange(n_leaves, dtype=np.int32), n_units)
    if not np.array_equal(codes.to_numpy(), expected):
        return None
    runs = frame.select(pl.struct(UNIT_KEYS).rle_id().alias("run"))["run"].to_numpy()
    if not np.array_equal(runs, np.repeat(np.arange(n_units, dtype=runs.dtype), n_leaves)):
        return None
    starts = frame.select(UNIT_KEYS).gather(np.arange(n_units) * n_leaves)
    if starts.unique().height != n_units:
        return None  # a unit listed twice: the general path groups its rows together
    return n_units, order


def _columns(frame: pl.DataFrame, column: str, n_units: int, fill: float | None) -> np.ndarray:
    """A leaf column as a ``leaves × units`` array (each leaf's values contiguous)."""
    series = frame[column].cast(pl.Float64)
    if fill is not None:
        series = series.fill_null(fill)
    return np.ascontiguousarray(series.to_numpy().reshape(n_units, -1).T)


class DenseTree:
    """Every tree node over a grid's leaves (in the grid's leaf ``order``): the nodes with a
    leaf below them in document order, and the sums that give their points."""

    def __init__(self, framework: Framework, order: list[str]) -> None:
        self.position = {leaf: i for i, leaf in enumerate(order)}
        below: dict[str, list[int]] = {}
        for leaf_id in order:  # each node's leaves, in the frame's leaf order
            for node_id in [leaf_id, *framework.ancestors(leaf_id)]:
                below.setdefault(node_id, []).append(self.position[leaf_id])
        self.below = below
        self.nodes = [node for node in framework.nodes.values() if node.id in below]
        self.weight = np.array([float(framework.nodes[leaf].max_points) for leaf in order])

    def aggregate(
        self, points: np.ndarray, z: np.ndarray, missing: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``points, z, n_missing`` of every node (``nodes × units``) from the leaves'
        (``leaves × units``; ``z`` NaN where null): sums left to right in leaf order, and
        the max-points-weighted mean of the z present."""
        n_units = points.shape[1]
        weight = self.weight
        has_z = ~np.isnan(z)
        z_weighted = np.where(has_z, z * weight[:, None], 0.0)
        z_weight = np.where(has_z, weight[:, None], 0.0)
        n_nodes = len(self.nodes)
        out_points = np.empty((n_nodes, n_units))
        out_z = np.empty((n_nodes, n_units))
        out_missing = np.empty((n_nodes, n_units), dtype=missing.dtype)
        for k, node in enumerate(self.nodes):
            first, *rest = self.below[node.id]
            acc, num, den, miss = (
                out_points[k],
                z_weighted[first].copy(),
                z_weight[first].copy(),
                out_missing[k],
            )
            acc[:] = points[first]
            miss[:] = missing[first]
            for c in rest:  # left to right, in leaf order
                acc += points[c]
                num += z_weighted[c]
                den += z_weight[c]
                miss += missing[c]
            with np.errstate(invalid="ignore", divide="ignore"):
                out_z[k] = num / den  # no leaf with a z: 0 / 0 → NaN → null (as the general path)
        return out_points, out_z, out_missing


def dense_node_scores(leaves: pl.DataFrame, framework: Framework) -> pl.DataFrame | None:
    """Every tree node's ``points, z, excluded, max_points, ratio, n_missing, rule_applied`` (the
    columns and row order of :func:`pipelines.scoring.engine.node_scores`), or None when the
    general path is needed (not a grid, excluded leaves, views or composites)."""
    if framework.views or framework.composites:
        return None
    if "excluded" in leaves.columns and leaves["excluded"].fill_null(False).any():
        return None
    shape = grid_shape(leaves, framework)
    if shape is None:
        return None
    n_units, order = shape
    n_leaves = len(order)
    points = _columns(leaves, "points", n_units, 0.0)
    z = _columns(leaves, "z", n_units, None)
    if "n_missing" in leaves.columns:
        missing = np.ascontiguousarray(
            leaves["n_missing"].fill_null(0).to_numpy().astype(np.int64).reshape(n_units, -1).T
        )
    else:
        missing = np.zeros((n_leaves, n_units), dtype=np.int64)
    tree = DenseTree(framework, order)
    nodes, position = tree.nodes, tree.position
    ordinal = {node_id: i for i, node_id in enumerate(framework.nodes)}
    n_nodes = len(nodes)
    out_points, out_z, out_missing = tree.aggregate(points, z, missing)

    # rows sorted by the unit keys (as the general path sorts), nodes in document order
    units = leaves.select(UNIT_KEYS).gather(np.arange(n_units) * n_leaves)
    perm = units.with_row_index("_i").sort(UNIT_KEYS)["_i"].to_numpy()
    units = units.gather(perm)
    node_rows = np.tile(np.arange(n_nodes), n_units)
    maxima = np.array([float(node.max_points) for node in nodes])
    flat_points = out_points[:, perm].T.reshape(-1)
    flat_max = np.tile(maxima, n_units)
    ratio = np.divide(
        flat_points, flat_max, out=np.full_like(flat_points, np.nan), where=flat_max > 0
    )
    leaf_col = np.array([position.get(node.id, -1) for node in nodes])
    is_leaf = np.tile(leaf_col >= 0, n_units)
    frame = units.gather(np.repeat(np.arange(n_units), n_nodes)).with_columns(
        pl.Series("node_id", [node.id for node in nodes], dtype=pl.String).gather(node_rows),
        pl.Series("points", flat_points, dtype=pl.Float64),
        pl.Series("z", out_z[:, perm].T.reshape(-1), dtype=pl.Float64).fill_nan(None),
        pl.lit(False).alias("excluded"),
        pl.Series("node_level", [node.type for node in nodes], dtype=pl.String).gather(node_rows),
        pl.Series("max_points", flat_max, dtype=pl.Float64),
        pl.Series("ordinal", [ordinal[node.id] for node in nodes], dtype=pl.Int32).gather(
            node_rows
        ),
        pl.Series("ratio", ratio, dtype=pl.Float64).fill_nan(None),
        pl.Series("n_missing", out_missing[:, perm].T.reshape(-1), dtype=pl.Int32),
    )
    if "rule_applied" in leaves.columns:
        source = (perm[:, None] * n_leaves + np.where(leaf_col >= 0, leaf_col, 0)[None, :]).reshape(
            -1
        )
        rule = leaves["rule_applied"].gather(source[is_leaf])
        frame = frame.with_columns(
            pl.Series("rule_applied", [None], dtype=pl.String)
            .gather(np.zeros(frame.height, dtype=np.int64))
            .scatter(np.flatnonzero(is_leaf), rule)
        )
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("rule_applied"))
    return frame
