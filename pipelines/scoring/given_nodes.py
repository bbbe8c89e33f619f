"""Values given at a node above the leaves (a published main-index value, a pillar's value).

A data file may give, for a unit, the value of any node of the framework instead of the values of
the leaves below it (docs/analysis.md, "Values at any node"). A non-leaf node's value is given
the way the Ministry publishes main-index values: as an index from 0 to 1, the node's points ÷
its maximum (922/QĐ-BTTTT; "0,8575" for a digital-government activity of 171.5 / 200 points).
Its points are ``value × max_points``; they are its points (nothing below it is aggregated), and
its ancestors, views and composites aggregate them like any child's
(:func:`pipelines.scoring.tree.aggregate`, ``given``).

Rules kept here, once, for the file readers and the engine:

- a unit gives a node or something below it, never both (:func:`mixed_levels`);
- a given value lies in [0, 1] (:func:`out_of_range`);
- only the ``points`` method scores given nodes (:func:`refuse_method`): min-max and z-score
  rescale raw leaf values across units, and a published index is no raw value;
- the nodes below a given node are not scored (:func:`given_grid` on the engine's arrays,
  :func:`mark_given` on its node frame: no points, ratio or z, and ``rule_applied`` says why).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.grid import typed
from pipelines.scoring.tree import Tree

Key = tuple[str, int | None]


def non_leaf_ids(framework: Framework) -> set[str]:
    """The tree nodes that are not leaves (the nodes a file may give instead of leaves)."""
    leaves = set(framework.leaf_ids())
    return {node_id for node_id in framework.nodes if node_id not in leaves}


def mixed_levels(
    rows: Iterable[tuple[str, int | None, str]], framework: Framework
) -> Iterator[tuple[str, int | None, str, str]]:
    """``(unit, year, node, descendant)`` for every unit that gives a node and something below
    it; ``rows``: ``(unit, year, node_id)`` of the values given (missing values excluded)."""
    given: dict[Key, set[str]] = {}
    for unit, year, node_id in rows:
        given.setdefault((unit, year), set()).add(node_id)
    order = {node_id: k for k, node_id in enumerate(framework.nodes)}
    for (unit, year), ids in given.items():
        for node_id in sorted(ids, key=lambda n: order.get(n, len(order))):
            if node_id not in order:
                continue
            for ancestor in framework.ancestors(node_id):
                if ancestor in ids:
                    yield unit, year, ancestor, node_id


def out_of_range(value: float) -> bool:
    """Whether a non-leaf node's given value is outside [0, 1] (below 0 or above its maximum)."""
    return not 0.0 <= value <= 1.0


def split_given(
    values: pl.DataFrame, framework: Framework
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """``(leaf values, given)``: ``given`` holds the non-leaf rows with a value (``unit_id, year,
    node_id, value``), None when there are none; a non-leaf row without a value gives nothing.

    Refused (ValueError) when a unit gives a node and something below it, or a value outside
    [0, 1]."""
    above = non_leaf_ids(framework)
    if values.is_empty() or not above:
        return values, None
    at_node = pl.col("node_id").cast(pl.String).is_in(above)
    if not values.select(at_node.any()).item():  # the usual case: leaves only, no copy
        return values, None
    given = values.filter(at_node & pl.col("value").is_not_null())
    leaf_values = values.filter(~at_node)
    if given.is_empty():
        return leaf_values, None
    given = given.select(typed("unit_id", "year", "node_id", "value"))
    for unit, year, node_id, value in given.iter_rows():
        if out_of_range(value):
            raise ValueError(
                f"unit {unit}, year {year}: the value {value:g} given at node {node_id} is not "
                "an index from 0 to 1 (points ÷ maximum)"
            )
    reported = leaf_values.filter(pl.col("value").is_not_null())
    rows = [
        *given.select("unit_id", "year", "node_id").iter_rows(),
        *reported.select(typed("unit_id", "year", "node_id")).iter_rows(),
    ]
    for unit, year, node_id, below in mixed_levels(rows, framework):
        raise ValueError(
            f"unit {unit}, year {year}: both node {node_id} and {below} below it are given"
        )
    return leaf_values, given


def refuse_method(method: str, given: pl.DataFrame | None) -> None:
    """ValueError when nodes are given and ``method`` is not ``points``."""
    if given is not None and method != "points":
        nodes = ", ".join(sorted(set(given["node_id"].to_list())))
        raise ValueError(
            f"giá trị cho ở chỉ số không phải chỉ số lá ({nodes}) là chỉ số đã công bố (điểm ÷ "
            f"điểm tối đa), chỉ chấm được với --method points, không với --method {method}"
        )


@dataclass
class GivenGrid:
    """Values given at nodes above the leaves (:mod:`pipelines.scoring.given_nodes`) on a grid's
    units: ``points`` (``units × tree nodes``, NaN where not given) and ``cut``
    (``units × columns``: strictly below a node the unit gave, so not scored)."""

    points: np.ndarray
    cut: np.ndarray
    values: np.ndarray  # the given index (0–1), NaN where not given

    def cut_leaves(self, tree: Tree) -> np.ndarray:
        """``units × leaves``: the leaves below a given node."""
        return self.cut[:, tree.leaf_column]


def given_grid(given: pl.DataFrame | None, units: pl.DataFrame, tree: Tree) -> GivenGrid | None:
    """``given`` (``unit_id, year, node_id, value``: an index 0–1) on the rows of the arrays
    (``units``): points = value × the node's maximum; None when nothing is given for them."""
    if given is None or given.is_empty() or units.is_empty():
        return None
    n_nodes = tree.n_nodes
    column = {node_id: k for k, node_id in enumerate(tree.node_ids[:n_nodes])}
    at = (
        units.with_row_index("_row")
        .join(given, on=["unit_id", "year"], how="inner", nulls_equal=True)
        .filter(pl.col("node_id").is_in(list(column)))
    )
    if at.is_empty():
        return None
    rows = at["_row"].to_numpy()
    columns = np.array([column[n] for n in at["node_id"].to_list()], dtype=int)
    values = np.full((units.height, n_nodes), np.nan)
    values[rows, columns] = at["value"].to_numpy()
    points = values * tree.max_points[:n_nodes][None, :]
    cut = np.zeros((units.height, len(tree.node_ids)), dtype=bool)
    cut[:, :n_nodes] = tree.cut_below(points)
    return GivenGrid(points, cut, values)


def mark_given(frame: pl.DataFrame, tree: Tree, given: GivenGrid) -> pl.DataFrame:
    """The node frame's rows below a given node emptied, and ``rule_applied`` of those rows and
    of the given nodes' rows (frame rows: the grid's units × columns)."""
    n_columns = len(tree.node_ids)
    n_units = given.cut.shape[0]
    cut = given.cut.reshape(-1)
    values = np.full((n_units, n_columns), np.nan)
    values[:, : tree.n_nodes] = given.values
    values = values.reshape(-1)
    at_given = ~np.isnan(values)
    maxima = np.tile(np.broadcast_to(tree.max_points, (n_columns,)), n_units)
    text = [
        f"given: {v:g} × {m:g} = {v * m:g} points" if g else None
        for v, m, g in zip(values, maxima, at_given, strict=True)
    ]
    return frame.with_columns(
        pl.when(pl.Series(cut)).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("points", "ratio", "z")
    ).with_columns(
        pl.when(pl.Series(cut))
        .then(pl.lit("not scored: a node above it was given"))
        .when(pl.Series(at_given))
        .then(pl.Series(text, dtype=pl.String))
        .otherwise(pl.col("rule_applied"))
        .cast(pl.Categorical)
        .alias("rule_applied"),
        pl.when(pl.Series(cut)).then(0).otherwise(pl.col("n_missing")).alias("n_missing"),
    )
