"""Scoring a complete grid by arrays: the fast path of :func:`pipelines.scoring.engine.score`
and :func:`pipelines.scoring.engine.score_methods` (issue #7, scale).

When the units' values form a dense grid (:class:`pipelines.scoring.dense.DenseLayout`: every
unit a block of rows, one per leaf) and nothing needs the general path (no per-unit rule
switched on, no view or composite, no leaf left out by ``exclude``, no other years' values), a
method's scores are computed without string keys:

- the group statistics of the methods are windows over one integer code per (year, group, leaf)
  instead of the three string columns — the same groups with the same rows in the same order,
  so the same numbers (:class:`pipelines.scoring.normalise.Keys`);
- the leaf → node sums are the dense column sums of :class:`pipelines.scoring.dense.DenseTree`;
- the rows are built directly in the final order (year, group, unit, node ordinal), and the
  columns that do not depend on the method (keys, node, maximum) once per grid, shared by every
  method's frame;
- ranks are taken over one integer code per (year, group, node), classes on one row per unit.

The expressions are the general path's own (the normalisers, :func:`engine.missing_rule`, the
class bands of :mod:`pipelines.scoring.rank`): the frames are identical, value for value
(tests/test_scoring_methods_batch.py).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.dense import DenseLayout, DenseTree
from pipelines.scoring.methods import RANK_DECIMALS, MethodSpec
from pipelines.scoring.normalise import (
    LEAF,
    Keys,
    leaf_table,
    minmax_signed,
    rubric_signed,
    zscore_signed,
)
from pipelines.scoring.rank import class_label

SIGNED_NORMALISERS = {"points": rubric_signed, "minmax": minmax_signed, "zscore": zscore_signed}
KEYS = Keys(group=("_k",), pooled=("_pk",))
OUTPUT_ORDER = ["year", "group_id", "unit_id"]


class DenseScorer:
    """Scores one dense grid by any number of methods, sharing what they have in common."""

    def __init__(self, layout: DenseLayout, framework: Framework, reading: str | None) -> None:
        self.layout = layout
        self.framework = framework
        self.reading = reading
        self.n_units = layout.units.height
        self.n_leaves = len(layout.leaf_ids)
        self.tree = DenseTree(framework, layout.leaf_ids)

    @staticmethod
    def supports(framework: Framework, spec: MethodSpec, history: pl.DataFrame | None) -> bool:
        """Whether the spec can be scored here (the rest: the general path)."""
        if framework.views or framework.composites:
            return False
        if spec.reference_year is not None:
            return False  # reference-year bounds are joined on the string keys
        other_years = history is not None and not history.is_empty()
        return not (spec.minmax_bounds == "pooled" and other_years and spec.method == "minmax")

    # ------------------------------------------------------------ shared by every method

    @cached_property
    def _unit_group(self) -> np.ndarray:
        """A code per unit for its (year, group), in layout order."""
        # the layout is sorted by year and group: each (year, group) is one run of units
        codes = self.layout.units.select(
            pl.struct("year", "group_id").is_first_distinct().cum_sum().cast(pl.Int64).alias("g")
        )["g"]
        return codes.to_numpy()

    @cached_property
    def base(self) -> pl.DataFrame:
        """The grid without string keys: ``value``, ``_leaf`` and ``_k`` (the leaf attributes
        are added per method and dropped with its frame: less memory held between methods)."""
        leaves = self.framework.leaves()
        where = {leaf.id: i for i, leaf in enumerate(leaves)}
        leaf_pos = np.array([where[leaf] for leaf in self.layout.leaf_ids], dtype=np.uint32)
        n_units, n_leaves = self.n_units, self.n_leaves
        row_leaf = pl.Series(LEAF, np.tile(leaf_pos, n_units), dtype=pl.UInt32)
        key = np.repeat(self._unit_group * n_leaves, n_leaves) + np.tile(
            np.arange(n_leaves, dtype=np.int64), n_units
        )
        return pl.DataFrame(
            [self.layout.value_series(), row_leaf, pl.Series("_k", key, dtype=pl.Int64)]
        )

    def _method_frame(self, spec: MethodSpec) -> pl.DataFrame:
        """:attr:`base` with the attributes this method reads besides."""
        table = leaf_table(self.framework)
        extra = ["max_points", "direction"]
        if spec.method == "points":
            extra += ["rule_kind", "target"]
        elif spec.method == "minmax" and spec.minmax_bounds == "goalposts":
            extra += ["goalpost_lo", "goalpost_hi"]
        frame = self.base.with_columns(
            pl.lit(table[c]).gather(pl.col(LEAF)).alias(c) for c in extra
        ).with_columns((pl.col("value") * pl.col("direction")).alias("signed"))
        if spec.method == "minmax" and spec.minmax_bounds == "pooled":
            group = self.layout.units.select(
                pl.col("group_id").rank("dense").fill_null(0).cast(pl.Int64).alias("g")
            )["g"].to_numpy()
            pooled = np.repeat(group * self.n_leaves, self.n_leaves) + np.tile(
                np.arange(self.n_leaves, dtype=np.int64), self.n_units
            )
            frame = frame.with_columns(pl.Series("_pk", pooled, dtype=pl.Int64))
        return frame

    @cached_property
    def _order(self) -> np.ndarray | None:
        """The final unit order (sorted by year, group, unit as the general path sorts), or
        None when it is the layout's own."""
        perm = self.layout.units.with_row_index("_i").sort(OUTPUT_ORDER)["_i"].to_numpy()
        return None if np.array_equal(perm, np.arange(self.n_units)) else perm

    @cached_property
    def frame(self) -> pl.DataFrame:
        """The columns that do not depend on the method, in the final row order."""
        nodes = self.tree.nodes
        n_units, n_nodes = self.n_units, len(nodes)
        units = self.layout.units
        if self._order is not None:
            units = units.gather(self._order)
        node_rows = np.tile(np.arange(n_nodes), n_units)
        ordinal = {node_id: i for i, node_id in enumerate(self.framework.nodes)}
        return units.gather(np.repeat(np.arange(n_units), n_nodes)).select(
            "year",
            "group_id",
            "unit_id",
            pl.Series("node_id", [n.id for n in nodes], dtype=pl.String).gather(node_rows),
            pl.Series("node_level", [n.type for n in nodes], dtype=pl.String).gather(node_rows),
            pl.Series("ordinal", [ordinal[n.id] for n in nodes], dtype=pl.Int32).gather(node_rows),
            pl.Series("max_points", self._max_points, dtype=pl.Float64),
        )

    @cached_property
    def _max_points(self) -> np.ndarray:
        maxima = np.array([float(node.max_points) for node in self.tree.nodes])
        return np.tile(maxima, self.n_units)

    @cached_property
    def _rank_key(self) -> pl.Series:
        """One code per (year, group, node), in the final row order."""
        group = self._unit_group if self._order is None else self._unit_group[self._order]
        n_nodes = len(self.tree.nodes)
        key = np.repeat(group * n_nodes, n_nodes) + np.tile(
            np.arange(n_nodes, dtype=np.int64), self.n_units
        )
        return pl.Series("_k", key, dtype=pl.Int64)

    @cached_property
    def _rule_source(self) -> pl.Series:
        """For each final row of a leaf, its row in the grid (null on the other nodes)."""
        position = self.tree.position
        leaf_col = np.array([position.get(node.id, -1) for node in self.tree.nodes])
        units = np.arange(self.n_units) if self._order is None else self._order
        source = (units[:, None] * self.n_leaves + leaf_col[None, :]).reshape(-1)
        is_leaf = np.tile(leaf_col >= 0, self.n_units)
        return pl.select(
            pl.when(pl.lit(pl.Series(is_leaf))).then(pl.lit(pl.Series(source, dtype=pl.Int64)))
        ).to_series()

    # ------------------------------------------------------------ one method

    def score(self, spec: MethodSpec, history: pl.DataFrame | None = None) -> pl.DataFrame | None:
        """``SCORE_COLUMNS`` in the final order; None when the general path is needed (the
        ``exclude`` rule left leaves out)."""
        from pipelines.scoring.engine import missing_rule

        frame = SIGNED_NORMALISERS[spec.method](
            self._method_frame(spec), self.framework, spec, history, KEYS
        ).select("value", "_k", "max_points", "points", "z", "rule_applied")
        todo = pl.col("points").is_null()
        missing = frame.select(todo.arg_true()).to_series()
        if len(missing) and spec.missing == "exclude":
            return None  # leaves left out: re-weighting is the general path's
        if len(missing):
            if spec.missing == "mean":
                frame = frame.with_columns(
                    pl.col("points").mean().over("_k").alias("_mean"),
                    pl.col("points").count().over("_k").alias("_n"),
                )
            filled, text, _ = missing_rule(spec)
            filled_rows = frame[missing].select(filled.alias("f"), text.alias("t"))
            frame = frame.select(
                frame["points"].scatter(missing, filled_rows["f"]).alias("points"),
                "z",
                frame["rule_applied"].scatter(missing, filled_rows["t"]).alias("rule_applied"),
            )
        n_units, n_leaves = self.n_units, self.n_leaves
        points = np.ascontiguousarray(frame["points"].to_numpy().reshape(n_units, n_leaves).T)
        z = np.ascontiguousarray(frame["z"].to_numpy().reshape(n_units, n_leaves).T)
        lacking = np.zeros(n_units * n_leaves, dtype=np.int64)
        lacking[missing.to_numpy()] = 1
        lacking = np.ascontiguousarray(lacking.reshape(n_units, n_leaves).T)
        rules = frame["rule_applied"]
        del frame
        out_points, out_z, out_missing = self.tree.aggregate(points, z, lacking)
        del points, z, lacking
        return self._assemble(out_points, out_z, out_missing, rules)

    def _flat(self, by_node: np.ndarray) -> np.ndarray:
        """``nodes × units`` → one value per final row."""
        if self._order is not None:
            by_node = by_node[:, self._order]
        return by_node.T.reshape(-1)

    def _assemble(
        self, out_points: np.ndarray, out_z: np.ndarray, out_missing: np.ndarray, rules: pl.Series
    ) -> pl.DataFrame:
        points = self._flat(out_points)
        maxima = self._max_points
        ratio = np.divide(points, maxima, out=np.full_like(points, np.nan), where=maxima > 0)
        ranked = pl.DataFrame([pl.Series("p", points), self._rank_key]).select(
            pl.col("p")
            .round(RANK_DECIMALS)
            .rank(method="min", descending=True)
            .over("_k")
            .cast(pl.Int32)
        )["p"]
        return self.frame.select(
            "year",
            "group_id",
            "unit_id",
            "node_id",
            "node_level",
            "ordinal",
            pl.Series("points", points, dtype=pl.Float64),
            "max_points",
            pl.Series("ratio", ratio, dtype=pl.Float64).fill_nan(None),
            pl.Series("z", self._flat(out_z), dtype=pl.Float64).fill_nan(None),
            ranked.alias("rank"),
            self._class_labels(ratio).alias("class_label"),
            pl.Series("n_missing", self._flat(out_missing), dtype=pl.Int32),
            pl.lit(False).alias("excluded"),
            rules.gather(self._rule_source).alias("rule_applied"),
        )

    def _class_labels(self, ratio: np.ndarray) -> pl.Series:
        """``class_label`` on each unit's index row (:func:`pipelines.scoring.rank.classify`)."""
        n_units, nodes = self.n_units, self.tree.nodes
        n_nodes = len(nodes)
        label = class_label(self.framework, self.reading)
        if label is None:
            return pl.Series("class_label", [None], dtype=pl.String).gather(
                np.zeros(n_units * n_nodes, dtype=np.int64)
            )
        by_unit = ratio.reshape(n_units, n_nodes)
        root = next(k for k, node in enumerate(nodes) if node.id == self.framework.root_id)
        pillars = [k for k, node in enumerate(nodes) if node.type == "pillar"]
        with np.errstate(invalid="ignore"):
            weakest = (
                np.fmin.reduce(by_unit[:, pillars], axis=1) if pillars else np.full(n_units, np.nan)
            )
        labels = (
            pl.DataFrame(
                [
                    pl.Series("ratio", by_unit[:, root]).fill_nan(None),
                    pl.Series("weakest_pillar", weakest).fill_nan(None),
                ]
            )
            .select(label.alias("l"))["l"]
            .append(pl.Series("l", [None], dtype=pl.String))
        )
        index = np.full((n_units, n_nodes), n_units, dtype=np.int64)
        index[:, root] = np.arange(n_units)
        return labels.gather(index.reshape(-1))
