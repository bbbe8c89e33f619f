"""The long leaf and node frames of the warehouse ↔ the dense arrays of :mod:`tree`.

The leaf stage gives one row per unit and leaf, each unit's rows consecutive and in the same
leaf order (:func:`pipelines.scoring.engine.complete_grid`): its columns reshape to
``units × leaves`` arrays without a join. The node frame is built back from the
``units × columns`` results, one block of rows per unit (sorted by ``year, group_id,
unit_id``), nodes in document order, then views and composites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.keys import UNIT_KEYS
from pipelines.scoring.tree import Aggregate, Tree

FINAL_ORDER = ["year", "group_id", "unit_id"]

NODE_COLUMNS = [
    *UNIT_KEYS,
    "node_id",
    "points",
    "z",
    "excluded",
    "node_level",
    "max_points",
    "ordinal",
    "ratio",
    "n_missing",
    "rule_applied",
]


@dataclass
class LeafGrid:
    """A leaf frame as a grid: ``frame``'s rows are ``units.height`` blocks of
    ``len(leaf_ids)`` rows, one per leaf in ``leaf_ids`` order."""

    frame: pl.DataFrame
    units: pl.DataFrame  # unit_id, year, group_id of each block
    leaf_ids: list[str]

    def column(self, name: str, fill: float | None = None) -> np.ndarray:
        """A leaf column as a ``units × leaves`` float array (null → ``fill``, else NaN)."""
        series = self.frame[name].cast(pl.Float64)
        if fill is not None:
            series = series.fill_null(fill)
        return series.to_numpy().reshape(self.units.height, len(self.leaf_ids))

    def optional(self, name: str, fill: bool | int) -> np.ndarray | None:
        """A flag or count column as a ``units × leaves`` array (null → ``fill``); None when
        the frame has no such column."""
        if name not in self.frame.columns:
            return None
        values = self.frame[name].fill_null(fill).to_numpy()
        return values.reshape(self.units.height, len(self.leaf_ids))


def _blocks(frame: pl.DataFrame, leaf_ids: set[str]) -> tuple[int, list[str]] | None:
    """``(units, leaf order)`` when ``frame`` is one block per unit of every leaf once, each
    block in the same leaf order; else None."""
    n_leaves = len(leaf_ids)
    if n_leaves == 0 or frame.is_empty() or frame.height % n_leaves:
        return None
    n_units = frame.height // n_leaves
    order = frame["node_id"].head(n_leaves)
    if set(order.to_list()) != leaf_ids or order.n_unique() != n_leaves:
        return None
    if not frame["node_id"].equals(order.gather(np.tile(np.arange(n_leaves), n_units))):
        return None
    runs = frame.select(pl.struct(UNIT_KEYS).rle_id())[:, 0].to_numpy()
    if not np.array_equal(runs, np.repeat(np.arange(n_units, dtype=runs.dtype), n_leaves)):
        return None
    return n_units, order.to_list()


def leaf_grid(leaves: pl.DataFrame, framework: Framework) -> LeafGrid:
    """``leaves`` (one row per unit and leaf) as a :class:`LeafGrid`; rows in another order
    are sorted first. Refused (ValueError) when a unit lacks a leaf or has one twice."""
    leaf_ids = set(framework.leaf_ids())
    frame = leaves.filter(pl.col("node_id").is_in(leaf_ids)) if leaves.height else leaves
    shape = _blocks(frame, leaf_ids)
    if shape is None and frame.height:
        frame = frame.sort([*UNIT_KEYS, "node_id"], nulls_last=True)
        shape = _blocks(frame, leaf_ids)
        if shape is None:
            raise ValueError(
                "leaf scores are not one row per unit and leaf (a leaf missing or listed twice)"
            )
    if shape is None:
        return LeafGrid(frame, frame.select(UNIT_KEYS).clear(), sorted(leaf_ids))
    n_units, order = shape
    units = frame.select(UNIT_KEYS).gather(np.arange(n_units) * len(order))
    if units.is_duplicated().any():
        raise ValueError("leaf scores list a unit's leaves in two separate blocks")
    return LeafGrid(frame, units, order)


def node_frame(grid: LeafGrid, tree: Tree, result: Aggregate) -> pl.DataFrame:
    """``NODE_COLUMNS``: every column of ``result`` for every unit, rows sorted by year,
    group and unit, then by the columns' order (the framework's ordinal)."""
    n_units, n_columns = grid.units.height, len(tree.node_ids)
    # the scores' final order (year, group, unit): the engine's last sort then has nothing to do
    perm = grid.units.with_row_index("_i").sort(FINAL_ORDER, nulls_last=True)["_i"].to_numpy()
    units = grid.units.gather(perm)
    node_rows = np.tile(np.arange(n_columns, dtype=np.uint32), n_units)
    maxima = np.broadcast_to(result.max_points, (1, n_columns))[0]
    ratio = result.ratio[perm].reshape(-1)
    z = None if result.z is None else result.z[perm].reshape(-1)
    frame = units.gather(np.repeat(np.arange(n_units, dtype=np.uint32), n_columns)).with_columns(
        pl.Series("node_id", tree.node_ids, dtype=pl.String).gather(node_rows),
        pl.Series("points", result.points[perm].reshape(-1), dtype=pl.Float64),
        pl.lit(None, dtype=pl.Float64).alias("z")
        if z is None
        else pl.Series("z", z, dtype=pl.Float64, nan_to_null=True),
        pl.Series("excluded", result.excluded[perm].reshape(-1), dtype=pl.Boolean),
        pl.Series("node_level", tree.node_types, dtype=pl.String).gather(node_rows),
        pl.Series("max_points", maxima, dtype=pl.Float64).gather(node_rows),
        pl.Series("ordinal", tree.ordinals, dtype=pl.Int32).gather(node_rows),
        pl.Series("ratio", ratio, dtype=pl.Float64, nan_to_null=True),
        pl.Series("n_missing", result.n_missing[perm].reshape(-1), dtype=pl.Int32),
    )
    return frame.with_columns(_leaf_rules(grid, tree, perm)).select(NODE_COLUMNS)


def _leaf_rules(grid: LeafGrid, tree: Tree, perm: np.ndarray) -> pl.Series:
    """``rule_applied`` of the leaf rows (the leaf frame's), null on the other rows."""
    n_units, n_columns = grid.units.height, len(tree.node_ids)
    if "rule_applied" not in grid.frame.columns or n_units == 0:
        return pl.Series("rule_applied", [None] * (n_units * n_columns), dtype=pl.String)
    n_leaves = len(grid.leaf_ids)
    position = {leaf: j for j, leaf in enumerate(grid.leaf_ids)}
    leaf_at = np.full(n_columns, -1)
    for j, leaf in enumerate(tree.leaf_ids):
        leaf_at[tree.leaf_column[j]] = position[leaf]
    is_leaf = np.tile(leaf_at >= 0, n_units)
    source = (perm[:, None] * n_leaves + np.maximum(leaf_at, 0)[None, :]).reshape(-1)
    rules = grid.frame["rule_applied"].cast(pl.String).gather(source[is_leaf])
    return (
        pl.Series("rule_applied", [None], dtype=pl.String)
        .gather(np.zeros(n_units * n_columns, dtype=np.int64))
        .scatter(np.flatnonzero(is_leaf), rules)
    )
