"""Scoring a complete grid by arrays: the fast path of :func:`pipelines.scoring.engine.score`
and :func:`pipelines.scoring.engine.score_methods` (national scale).

When the units' values form a dense grid (:class:`pipelines.scoring.dense.DenseLayout`: every
unit a block of rows, one per leaf) and nothing needs the general path (no per-unit rule
switched on, no view or composite, no leaf left out by ``exclude``, no other years' values), a
method's scores are computed without string keys:

- the group statistics of the methods are windows over one integer code per (year, group, leaf)
  instead of the three string columns — the same groups with the same rows in the same order,
  so the same numbers (:class:`pipelines.scoring.normalise.Keys`);
- the leaf → node sums are the dense column sums of :class:`pipelines.scoring.dense.DenseTree`,
  a block of units at a time, straight into the final row order (no full-size transposes);
- the rows are built directly in the final order (year, group, unit, node ordinal), and the
  columns that do not depend on the method (keys, node, maximum) once per grid, shared by every
  method's frame;
- ``rule_applied`` travels as a small integer code into a list of texts (the normalisers'
  ``Keys.texts``), and the string column is gathered once, in the final rows, from those few
  texts;
- ranks are one integer sort of (run of units, tie key) keys per few nodes (the window over
  (year, group, node) when the keys do not fit), classes on one row per unit;
- a large grid is scored in parts of whole comparison groups, one thread per core
  (:mod:`pipelines.scoring.group_split`): most of the work above runs on one core at a time.

The expressions are the general path's own (the normalisers, :func:`engine.missing_rule`, the
class bands of :mod:`pipelines.scoring.rank`): the frames are identical, value for value
(tests/test_scoring_methods_batch.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.parallel import thread_pool
from pipelines.scoring.dense import DenseLayout, DenseTree
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.normalise import (
    LEAF,
    RULE_CODE,
    Keys,
    leaf_table,
    minmax_signed,
    rubric_signed,
    zscore_signed,
)
from pipelines.scoring.rank import class_label
from pipelines.scoring.rank_arrays import rank_block
from pipelines.scoring.ties import NOISE_ONLY, RankPrecision, rank_descending, tie_keys

SIGNED_NORMALISERS = {"points": rubric_signed, "minmax": minmax_signed, "zscore": zscore_signed}
KEYS = Keys(group=("_k",), pooled=("_pk",))
OUTPUT_ORDER = ["year", "group_id", "unit_id"]


def _codes(group: np.ndarray, n: int, name: str) -> pl.Series:
    """``group × n + i`` for each ``group`` code and ``i < n`` (group-major): the integer key
    of the group statistics, 32 bits when they suffice (the same groups either way)."""
    top = (int(group.max()) + 1) * n if group.size else 0
    kind = np.int32 if top < 2**31 else np.int64
    key = (group.astype(kind)[:, None] * kind(n) + np.arange(n, dtype=kind)).reshape(-1)
    return pl.Series(name, key)


def final_order(units: pl.DataFrame) -> np.ndarray:
    """The rows of ``units`` in the order of the scores (as the general path sorts them)."""
    return units.with_row_index("_i").sort(OUTPUT_ORDER)["_i"].to_numpy()


@dataclass
class NodeArrays:
    """One method's scores before they are a frame: ``points``, ``z`` (None: no leaf has one)
    and ``n_missing`` as ``units × nodes`` arrays in the final row order, and ``rules``, each
    final row's ``rule_applied`` as a code into ``texts`` (past the end: null)."""

    points: np.ndarray
    z: np.ndarray | None
    n_missing: np.ndarray
    rules: np.ndarray
    texts: list[str | None]
    precision: RankPrecision = NOISE_ONLY  # of ranks and class bands


class DenseScorer:
    """Scores one dense grid by any number of methods, sharing what they have in common."""

    def __init__(
        self, layout: DenseLayout, framework: Framework, reading: str | None, threads: int = 2
    ) -> None:
        self.layout = layout
        self.threads = threads  # the ranks rank blocks of nodes side by side in threads
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

    def _base(self) -> pl.DataFrame:
        """The grid without string keys: ``value``, ``_leaf`` and ``_k``, built for each method
        (milliseconds) rather than held between methods, as are the leaf attributes."""
        leaves = self.framework.leaves()
        where = {leaf.id: i for i, leaf in enumerate(leaves)}
        leaf_pos = np.array([where[leaf] for leaf in self.layout.leaf_ids], dtype=np.uint32)
        n_units = self.n_units
        row_leaf = pl.Series(LEAF, np.tile(leaf_pos, n_units), dtype=pl.UInt32)
        return pl.DataFrame(
            [self.layout.value_series(), row_leaf, self._unit_keys(self._unit_group, "_k")]
        )

    def _unit_keys(self, group: np.ndarray, name: str) -> pl.Series:
        """One code per (unit's ``group``, leaf) on every grid row."""
        return _codes(group, self.n_leaves, name)

    def _method_frame(self, spec: MethodSpec) -> pl.DataFrame:
        """:meth:`_base` with the attributes this method reads besides."""
        table = leaf_table(self.framework)
        extra = ["max_points", "direction"]
        if spec.method == "points":
            extra += ["rule_kind", "target"]
        elif spec.method == "minmax" and spec.minmax_bounds == "goalposts":
            extra += ["goalpost_lo", "goalpost_hi"]
        # the rule kind is only compared: a categorical (4 bytes a row, not a 16-byte view)
        table = table.with_columns(pl.col("rule_kind").cast(pl.Categorical))
        frame = self._base().with_columns(
            pl.lit(table[c]).gather(pl.col(LEAF)).alias(c) for c in extra
        )
        if spec.method != "points":  # the rubric reads the value itself, not the signed one
            frame = frame.with_columns((pl.col("value") * pl.col("direction")).alias("signed"))
        if spec.method == "minmax" and spec.minmax_bounds == "pooled":
            group = self.layout.units.select(
                pl.col("group_id").rank("dense").fill_null(0).cast(pl.Int64).alias("g")
            )["g"].to_numpy()
            frame = frame.with_columns(self._unit_keys(group, "_pk"))
        return frame

    @cached_property
    def _order(self) -> np.ndarray | None:
        """The final unit order (sorted by year, group, unit as the general path sorts), or
        None when it is the layout's own."""
        perm = final_order(self.layout.units)
        return None if np.array_equal(perm, np.arange(self.n_units)) else perm

    @cached_property
    def frame(self) -> pl.DataFrame:
        """The columns that do not depend on the method, in the final row order."""
        nodes = self.tree.nodes
        n_units, n_nodes = self.n_units, len(nodes)
        units = self.layout.units
        if self._order is not None:
            units = units.gather(self._order)
        node_rows = np.tile(np.arange(n_nodes, dtype=np.uint32), n_units)
        ordinal = {node_id: i for i, node_id in enumerate(self.framework.nodes)}
        return units.gather(np.repeat(np.arange(n_units, dtype=np.uint32), n_nodes)).select(
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

    def _rank_key(self) -> pl.Series:
        """One code per (year, group, node), in the final row order."""
        group = self._unit_group if self._order is None else self._unit_group[self._order]
        return _codes(group, len(self.tree.nodes), "_k")

    @cached_property
    def _leaf_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """``(node columns, grid leaf columns)``: where each leaf's row sits among a unit's
        final rows, and its column in the grid."""
        position = self.tree.position
        pairs = [(k, position[n.id]) for k, n in enumerate(self.tree.nodes) if n.id in position]
        return np.array([k for k, _ in pairs]), np.array([c for _, c in pairs])

    # ------------------------------------------------------------ one method

    def score(self, spec: MethodSpec, history: pl.DataFrame | None = None) -> pl.DataFrame | None:
        """``SCORE_COLUMNS`` in the final order; None when the general path is needed (the
        ``exclude`` rule left leaves out)."""
        nodes = self.node_arrays(spec, history)
        return None if nodes is None else self.frame_of(nodes)

    def node_arrays(
        self, spec: MethodSpec, history: pl.DataFrame | None = None
    ) -> NodeArrays | None:
        """The first half of :meth:`score`: every node's numbers as arrays (None: the general
        path is needed). What the normaliser needed besides is freed when this returns."""
        from pipelines.scoring.engine import missing_rule

        # rule_applied as codes into ``texts`` (the string column is built once, at the end)
        texts: list[str | None] = []
        keys = Keys(group=KEYS.group, pooled=KEYS.pooled, texts=texts)
        frame = SIGNED_NORMALISERS[spec.method](
            self._method_frame(spec), self.framework, spec, history, keys
        ).select("value", "_k", "max_points", "points", "z", RULE_CODE)
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
            # the missing rows' texts: codes after the method's, by their sorted distinct texts
            said = filled_rows.select(
                (pl.col("t").rank("dense").cast(pl.Int64) - 1 + len(texts)).alias("c")
            )["c"]
            texts.extend(filled_rows["t"].drop_nulls().unique().sort().to_list())
            frame = frame.select(
                frame["points"].scatter(missing, filled_rows["f"]).alias("points"),
                "z",
                frame[RULE_CODE].scatter(missing, said).alias(RULE_CODE),
            )
            del filled_rows, said
        n_units, n_leaves = self.n_units, self.n_leaves
        points = frame["points"].to_numpy().reshape(n_units, n_leaves)
        z = None
        if frame["z"].null_count() < frame.height:
            z = frame["z"].to_numpy().reshape(n_units, n_leaves)  # null → NaN
        lacking = None
        if len(missing):
            lacking = np.zeros(n_units * n_leaves, dtype=np.bool_)
            lacking[missing.to_numpy()] = True
            lacking = lacking.reshape(n_units, n_leaves)
        # a code past the texts: null
        codes = frame[RULE_CODE].fill_null(len(texts)).cast(pl.Int32).to_numpy()
        del frame, missing
        out_points, out_z, out_missing = self.tree.aggregate_rows(points, z, lacking, self._order)
        del points, z, lacking
        rules = self._rule_codes(codes.reshape(n_units, n_leaves), len(texts))
        return NodeArrays(out_points, out_z, out_missing, rules, texts, spec.rank_precision)

    def _rule_codes(self, codes: np.ndarray, null: int) -> np.ndarray:
        """The leaves' codes (``units × leaves``) on the final rows (``null`` on the others)."""
        node_cols, grid_cols = self._leaf_columns
        out = np.full((self.n_units, len(self.tree.nodes)), null, dtype=np.uint32)
        rows = codes if self._order is None else codes[self._order]
        out[:, node_cols] = rows[:, grid_cols]
        return out.reshape(-1)

    def frame_of(self, nodes: NodeArrays) -> pl.DataFrame:
        """The second half of :meth:`score`: the frame from :meth:`node_arrays`' arrays."""
        out_points, out_z, out_missing = nodes.points, nodes.z, nodes.n_missing
        rules, texts = nodes.rules, nodes.texts
        points = out_points.reshape(-1)
        ranked = self._ranks(out_points, nodes.precision)
        maxima = self._max_points
        ratio = np.divide(points, maxima, out=np.full_like(points, np.nan), where=maxima > 0)
        labels = self._class_labels(ratio, nodes.precision)
        ratio = pl.Series("ratio", ratio, dtype=pl.Float64, nan_to_null=True)
        if out_z is None:
            z = pl.lit(None, dtype=pl.Float64).alias("z")
        else:
            z = pl.Series("z", out_z.reshape(-1), dtype=pl.Float64, nan_to_null=True)
        return self.frame.select(
            "year",
            "group_id",
            "unit_id",
            "node_id",
            "node_level",
            "ordinal",
            pl.Series("points", points, dtype=pl.Float64),
            "max_points",
            ratio,
            z,
            ranked.alias("rank"),
            labels.alias("class_label"),
            pl.Series("n_missing", out_missing.reshape(-1), dtype=pl.Int32),
            pl.lit(False).alias("excluded"),
            pl.Series("rule_applied", [*texts, None], dtype=pl.String).gather(rules),
        )

    @cached_property
    def _runs(self) -> np.ndarray | None:
        """The start of each (year, group)'s run of units in the final order (None when a
        group's units are not one run)."""
        group = self._unit_group if self._order is None else self._unit_group[self._order]
        starts = np.flatnonzero(np.diff(group, prepend=group[:1] - 1) != 0)
        return starts if len(starts) == len(np.unique(group)) else None

    def _ranks(self, out_points: np.ndarray, precision: RankPrecision) -> pl.Series:
        """``rank`` (:func:`pipelines.scoring.rank.rank_within_groups`: descending, ties the
        lowest, points compared by their tie key) from ``units × nodes`` points.

        Node by node, each group's units are one run: an integer sort of (run, tie key) keys
        ranks every group of a few nodes at a time (:func:`rank_block`) — when the keys fit
        the sort, else the window over (year, group, node)."""
        n_units, n_nodes = out_points.shape
        maxima = np.array([float(node.max_points) for node in self.tree.nodes])
        runs = self._runs
        if runs is not None and n_units:
            rank = np.empty((n_units, n_nodes), dtype=np.int32)
            run_of = np.zeros(n_units, dtype=np.int64)
            run_of[runs[1:]] = 1
            np.cumsum(run_of, out=run_of)
            step = max(1, (1 << 19) // n_units)
            blocks = [slice(k, min(k + step, n_nodes)) for k in range(0, n_nodes, step)]

            def rank_nodes(nodes: slice) -> bool:
                block = rank_block(
                    out_points[:, nodes], maxima[nodes], run_of, len(runs), precision
                )
                if block is not None:
                    rank[:, nodes] = block
                return block is not None

            if self.threads > 1:
                # numpy releases the GIL on these arrays: blocks in threads use several cores
                done = all(thread_pool(self.threads).map(rank_nodes, blocks))
            else:  # no thread (and no malloc arena) of its own for a part's ranks
                done = all([rank_nodes(block) for block in blocks])
            if done:
                return pl.Series("p", rank.reshape(-1), dtype=pl.Int32)
        keys = tie_keys(out_points, maxima[None, :], precision).reshape(-1)
        frame = pl.DataFrame(
            [pl.Series("p", keys, dtype=pl.Float64, nan_to_null=True), self._rank_key()]
        )
        return frame.select(rank_descending(pl.col("p")).over("_k"))["p"]

    def _class_labels(self, ratio: np.ndarray, precision: RankPrecision) -> pl.Series:
        """``class_label`` on each unit's index row (:func:`pipelines.scoring.rank.classify`)."""
        n_units, nodes = self.n_units, self.tree.nodes
        n_nodes = len(nodes)
        label = class_label(self.framework, self.reading, precision)
        if label is None:
            return pl.Series("class_label", [None], dtype=pl.String).gather(
                np.zeros(n_units * n_nodes, dtype=np.uint32)
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
            .rechunk()  # one chunk: gathering from two takes twice as long
        )
        index = np.full((n_units, n_nodes), n_units, dtype=np.uint32)
        index[:, root] = np.arange(n_units)
        return labels.gather(index.reshape(-1))
