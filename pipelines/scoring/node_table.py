"""The node stage: the leaf stage's ``units × leaves`` arrays (:mod:`leaf_arrays`) aggregated
to every node, view and composite (:mod:`tree`), ranked and classed (:mod:`rank`), and the
long node frame built from the ``units × columns`` results: one block of rows per unit (sorted
by ``year, group_id, unit_id``), nodes in document order, then views and composites.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.given_nodes import GivenGrid, given_grid, mark_given
from pipelines.scoring.grid import UNIT_KEYS, UNIT_ORDER, Grid, in_blocks
from pipelines.scoring.leaf_arrays import LeafArrays, Notes
from pipelines.scoring.rank import (
    RankPrecision,
    class_column,
    rank_by_group,
    rank_column,
    unit_classes,
)
from pipelines.scoring.tree import Aggregate, Tree, aggregate, build_tree

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


@dataclass(frozen=True)
class Ranking:
    """How the nodes are ranked and classed when scored together
    (:func:`pipelines.scoring.engine.ranked` says what each means)."""

    reading: str | None
    precision: RankPrecision


@dataclass
class Ranked:
    """Ranks (``units × columns``, 0 = no rank) and each unit's class label (None: the
    framework has no classes)."""

    rank: np.ndarray
    labels: np.ndarray | None
    root: int  # the column of the index, the row that carries the label

    def columns(self) -> tuple[pl.Series, pl.Series]:
        """``rank`` and ``class_label`` of the long frame built from the arrays (each unit's
        columns in turn)."""
        n_units, n_columns = self.rank.shape
        roots = np.arange(n_units) * n_columns + self.root
        rank = rank_column(self.rank.reshape(-1))
        return rank, class_column(self.labels, roots, self.rank.size)


def rank_arrays(
    points: np.ndarray,
    ratio: np.ndarray,
    maxima: np.ndarray,
    units: pl.DataFrame,
    node_ids: Sequence[str],
    node_levels: Sequence[str],
    framework: Framework,
    ranking: Ranking,
) -> Ranked:
    """:class:`Ranked` of ``points`` (``units × columns``, the columns' ``node_ids`` and
    ``node_levels``, maxima broadcast against them) within each unit's comparison group, and
    each unit's class from its total's and pillars' ``ratio``."""
    rank = rank_by_group(points, maxima, units, ranking.precision)
    if framework.root_id not in node_ids:
        return Ranked(rank, None, 0)
    root = list(node_ids).index(framework.root_id)
    labels = unit_classes(ratio, node_levels, root, framework, ranking.reading, ranking.precision)
    return Ranked(rank, labels, root)


@dataclass
class NodeArrays:
    """Every node, view and composite of a grid's units (:func:`aggregate_leaves`)."""

    tree: Tree
    result: Aggregate
    given: GivenGrid | None


def aggregate_leaves(
    leaves: LeafArrays, framework: Framework, given: pl.DataFrame | None = None
) -> NodeArrays:
    """``leaves`` aggregated to every node with the values ``given`` at nodes: the leaves
    below a given node count for nothing (0 points, not left out, not missing) and the given
    points replace the node's (:func:`pipelines.scoring.tree.aggregate`)."""
    tree = build_tree(framework, leaves.grid.leaf_ids)
    points, excluded, n_missing = np.nan_to_num(leaves.points), leaves.excluded, leaves.n_missing
    z = None if np.isnan(leaves.z).all() else leaves.z  # no leaf has a z (the rubric's points)
    cut = given_grid(given, leaves.grid.units, tree)
    if cut is not None:
        off = cut.cut_leaves(tree)
        points = np.where(off, 0.0, points)
        z = None if z is None else np.where(off, np.nan, z)
        excluded = excluded & ~off
        n_missing = np.where(off, 0, n_missing)
    result = aggregate(
        tree, points, excluded, z, n_missing, given=None if cut is None else cut.points
    )
    return NodeArrays(tree, result, cut)


def grid_nodes(
    leaves: LeafArrays,
    framework: Framework,
    given: pl.DataFrame | None = None,
    ranking: Ranking | None = None,
) -> pl.DataFrame:
    """``NODE_COLUMNS`` of ``leaves`` and the values ``given`` at nodes
    (:func:`aggregate_leaves`); with a ``ranking`` also ``rank`` and ``class_label``, from the
    arrays (as :func:`pipelines.scoring.engine.ranked` gives them from the frame)."""
    nodes = aggregate_leaves(leaves, framework, given)
    return node_frame(nodes, leaves.grid, leaves.notes, framework, ranking)


def rank_nodes(
    nodes: NodeArrays,
    ratio: np.ndarray,
    units: pl.DataFrame,
    framework: Framework,
    ranking: Ranking,
) -> Ranked:
    """:class:`Ranked` of ``nodes`` (their ``ratio``, computed once by the caller) within each
    unit's comparison group; a node below a given one has no points, so no rank, and does not
    count as a pillar for the class."""
    tree, result, given = nodes.tree, nodes.result, nodes.given
    points = result.points
    if given is not None:
        points = np.where(given.cut, np.nan, points)
        ratio = np.where(given.cut, np.nan, ratio)
    maxima = np.broadcast_to(result.max_points, (1, points.shape[1]))
    return rank_arrays(
        points, ratio, maxima, units, tree.node_ids, tree.node_types, framework, ranking
    )


def rank_frame(nodes: pl.DataFrame, framework: Framework, ranking: Ranking) -> pl.DataFrame:
    """``nodes`` (``NODE_COLUMNS``, e.g. read back from the warehouse) with ``rank`` and
    ``class_label``, by :func:`rank_arrays` as the engine ranks its arrays; rows not in one
    block per unit are sorted into blocks (by year, group, unit, ordinal)."""
    if nodes.is_empty():
        return nodes.with_columns(rank_column(np.zeros(0)), class_column(None, np.zeros(0), 0))
    frame, units, order = in_blocks(nodes, [*UNIT_ORDER, "ordinal"], None, "node")
    shape = (units.height, len(order))

    def array(name: str) -> np.ndarray:
        return frame[name].cast(pl.Float64).to_numpy().reshape(shape)  # null → NaN

    maxima = frame["max_points"].head(len(order)).cast(pl.Float64).to_numpy()[None, :]
    levels = frame["node_level"].head(len(order)).cast(pl.String).to_list()
    ranked = rank_arrays(
        array("points"), array("ratio"), maxima, units, order, levels, framework, ranking
    )
    return frame.with_columns(*ranked.columns())


def node_frame(
    nodes: NodeArrays,
    grid: Grid,
    notes: Notes,
    framework: Framework,
    ranking: Ranking | None = None,
) -> pl.DataFrame:
    """``NODE_COLUMNS``: every column of ``nodes`` for every unit of ``grid``, in the grid's order
    of the units (:data:`UNIT_ORDER`), each unit's columns in the framework's order, with the
    leaves' ``notes``. Below a given node the rows have no points, ratio or z, and
    ``rule_applied`` says why; a given node's row says what was given. With a ``ranking``: also
    ``rank`` and ``class_label``."""
    tree, result, given = nodes.tree, nodes.result, nodes.given
    ratio = result.ratio  # a property that divides: computed once for the ranks and the frame
    ranked = None if ranking is None else rank_nodes(nodes, ratio, grid.units, framework, ranking)
    n_units, n_columns = grid.units.height, len(tree.node_ids)
    node_rows = pl.Series(np.tile(np.arange(n_columns, dtype=np.uint32), n_units))
    maxima = np.broadcast_to(result.max_points, (1, n_columns))[0]
    ratio = ratio.reshape(-1)
    z = None if result.z is None else result.z.reshape(-1)
    frame = grid.units.gather(
        np.repeat(np.arange(n_units, dtype=np.uint32), n_columns)
    ).with_columns(
        pl.Series("node_id", tree.node_ids, dtype=pl.Categorical).gather(node_rows),
        pl.Series("points", result.points.reshape(-1), dtype=pl.Float64),
        pl.lit(None, dtype=pl.Float64).alias("z")
        if z is None
        else pl.Series("z", z, dtype=pl.Float64, nan_to_null=True),
        pl.Series("excluded", result.excluded.reshape(-1), dtype=pl.Boolean),
        pl.Series("node_level", tree.node_types, dtype=pl.Categorical).gather(node_rows),
        # numbers of the node: its row repeated for every unit
        pl.Series("max_points", np.tile(maxima.astype(np.float64), n_units)),
        pl.Series("ordinal", np.tile(tree.ordinals.astype(np.int32), n_units)),
        pl.Series("ratio", ratio, dtype=pl.Float64, nan_to_null=True),
        pl.Series("n_missing", result.n_missing.reshape(-1), dtype=pl.Int32),
        _leaf_rules(grid, notes, tree),
    )
    if given is not None:
        frame = mark_given(frame, tree, given)
    if ranked is None:
        return frame.select(NODE_COLUMNS)
    return frame.select(NODE_COLUMNS).with_columns(*ranked.columns())


def _leaf_rules(grid: Grid, notes: Notes, tree: Tree) -> pl.Series:
    """``rule_applied`` of the leaf rows (the leaf frame's), null on the other rows."""
    n_units, n_columns = grid.units.height, len(tree.node_ids)
    if n_units == 0:
        return pl.Series("rule_applied", [None] * (n_units * n_columns), dtype=pl.Categorical)
    n_leaves = len(grid.leaf_ids)
    position = {leaf: j for j, leaf in enumerate(grid.leaf_ids)}
    leaf_at = np.full(n_columns, -1)
    for j, leaf in enumerate(tree.leaf_ids):
        leaf_at[tree.leaf_column[j]] = position[leaf]
    # each row's leaf-frame row, null on the rows that are not leaves: one gather
    source = pl.Series((np.arange(n_units)[:, None] * n_leaves + leaf_at[None, :]).reshape(-1))
    source = pl.select(pl.when(pl.lit(np.tile(leaf_at >= 0, n_units))).then(source)).to_series()
    return notes.series().gather(source).alias("rule_applied")
