"""The complete grid of a year: one block of rows per unit, one row per leaf.

Every scoring step reads the grid (:func:`complete_grid`): each unit's
leaves are consecutive and in the same order, so the leaf values are a dense
``units × leaves`` matrix. :func:`dense_layout` builds it by positions (no three-key join, no
four-key sort), and :meth:`DenseLayout.frame` gives it with integer codes of the comparison
groups (:func:`with_codes`): the group statistics of the methods are windows over one integer
per (year, group, leaf) instead of three text columns — the same groups, the same rows in the
same order, so the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.framework.model import Framework

# one unit in one year, with the comparison group it is ranked in
UNIT_KEYS = ["unit_id", "year", "group_id"]
LEAF = "_leaf"  # the row's leaf: its position in ``framework.leaves()``
GROUP_CODE = "_k"  # one integer per (year, comparison group, leaf)
POOLED_CODE = "_pk"  # one integer per (comparison group, leaf), every year together
CODES = (LEAF, GROUP_CODE, POOLED_CODE)
# the integer of a row's (year, comparison group), and of its comparison group over every year:
# GROUP_CODE and POOLED_CODE are these × the number of leaves + the leaf's position
GROUP_OF = pl.struct("year", "group_id").rank("dense").cast(pl.Int64)
POOLED_OF = pl.col("group_id").rank("dense").fill_null(0).cast(pl.Int64)
# the type every frame's keys and values are read as
TYPES: dict[str, pl.DataType] = {
    "unit_id": pl.String(),
    "year": pl.Int32(),
    "group_id": pl.String(),
    "node_id": pl.String(),
    "value": pl.Float64(),
}


def typed(*names: str) -> list[pl.Expr]:
    """The columns ``names`` cast to their :data:`TYPES`."""
    return [pl.col(name).cast(TYPES[name]) for name in names]


@dataclass
class DenseLayout:
    """The complete grid as arrays: ``units`` (``unit_id, year, group_id``, sorted by year,
    group and unit) each own a block of ``len(leaf_ids)`` rows, one per leaf (sorted by id);
    ``values`` (null where nothing was reported) in that row order."""

    units: pl.DataFrame
    leaf_ids: list[str]
    values: pl.Series

    def frame(self, framework: Framework) -> pl.DataFrame:
        """``unit_id, year, group_id, node_id, value``: the rows of the grid, with its codes
        (:data:`CODES`, by the rule :func:`with_codes` applies to every row) taken once per
        unit and repeated over its block."""
        n_units, n_leaves = self.units.height, len(self.leaf_ids)
        unit_rows = np.repeat(np.arange(n_units, dtype=np.uint32), n_leaves)
        leaf_rows = np.tile(np.arange(n_leaves, dtype=np.uint32), n_units)
        frame = self.units.gather(unit_rows).with_columns(
            pl.Series("node_id", self.leaf_ids, dtype=pl.Categorical).gather(leaf_rows),
            self.values.alias("value"),
        )
        frame = frame.select("unit_id", "year", "group_id", "node_id", "value")
        where = {leaf.id: i for i, leaf in enumerate(framework.leaves())}
        position = np.array([where[leaf] for leaf in self.leaf_ids], dtype=np.int64)
        group, pooled = self.units.select(GROUP_OF.alias("g"), POOLED_OF.alias("p")).to_numpy().T
        return frame.with_columns(
            pl.Series(LEAF, np.tile(position.astype(np.uint32), n_units)),
            _code(group, n_leaves, position, GROUP_CODE),
            _code(pooled, n_leaves, position, POOLED_CODE),
        )


def _code(group: np.ndarray, n_leaves: int, position: np.ndarray, name: str) -> pl.Series:
    """``group × n_leaves + position`` on every row of the grid (each unit's ``group``, each
    column's leaf ``position``), 32 bits when they suffice."""
    top = (int(group.max()) + 1) * n_leaves if group.size else 0
    kind = np.int32 if top < 2**31 else np.int64
    code = np.repeat(group.astype(kind) * kind(n_leaves), len(position))
    code += np.tile(position.astype(kind), group.size)
    return pl.Series(name, code)


def with_codes(grid: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """``grid`` (``year, group_id, node_id`` and more) with :data:`CODES`: the position of the
    row's leaf in ``framework.leaves()`` (null for an unknown leaf), one integer per (year,
    group, leaf) and one per (group, leaf). A grid that has them keeps them."""
    if all(code in grid.columns for code in CODES):
        return grid
    leaves = framework.leaves()
    n_leaves = max(1, len(leaves))
    leaf = pl.col("node_id").replace_strict(
        {leaf.id: i for i, leaf in enumerate(leaves)}, default=None, return_dtype=pl.UInt32
    )
    return grid.with_columns(leaf.alias(LEAF)).with_columns(
        (GROUP_OF * n_leaves + pl.col(LEAF)).alias(GROUP_CODE),
        (POOLED_OF * n_leaves + pl.col(LEAF)).alias(POOLED_CODE),
    )


def _key(name: str, values: pl.DataFrame) -> pl.Expr:
    """A key column as text, or as it is when categorical (coded by :func:`_coded` without
    spelling out a string per row: 3.6 million rows, 10,000 distinct ids at national scale)."""
    if isinstance(values.schema[name], (pl.Categorical, pl.Enum)):
        return pl.col(name)
    return pl.col(name).cast(pl.String)


def _coded(keys: pl.Series, code_of: dict[str, int], dtype: type[np.integer]) -> np.ndarray:
    """Each key's code in ``code_of`` (-1 where it has none)."""
    if isinstance(keys.dtype, (pl.Categorical, pl.Enum)):
        # the few distinct keys are looked up; the rows gather their physical codes' results
        distinct = keys.unique().drop_nulls()
        physical = distinct.to_physical().to_numpy()
        lookup = np.full(int(physical.max()) + 2 if physical.size else 1, -1, dtype=dtype)
        lookup[physical] = [code_of.get(key, -1) for key in distinct.cast(pl.String)]
        rows = keys.to_physical().fill_null(len(lookup) - 1).to_numpy()
        return lookup[rows]
    return keys.replace_strict(
        code_of, default=-1, return_dtype=pl.Int64 if dtype is np.int64 else pl.Int32
    ).to_numpy()


def dense_layout(
    values: pl.DataFrame, keyed: pl.DataFrame, leaf_ids: list[str]
) -> DenseLayout | None:
    """The complete grid by positions: each unit (``keyed``: typed and sorted by year, group
    and unit) owns a block of rows, one per leaf (``leaf_ids``, sorted), and each reported
    value is written to its row (the last one of a value reported twice). None when a year or
    unit id is null or a unit is listed twice in a year (:func:`grid_layout` then joins)."""
    if keyed.is_empty() or keyed["year"].null_count() or keyed["unit_id"].null_count():
        return None
    if keyed.select("unit_id", "year").is_duplicated().any():
        return None
    reported = values.select(
        _key("unit_id", values),
        pl.col("year").cast(pl.Int32),
        _key("node_id", values),
        pl.col("value").cast(pl.Float64),
    )
    if reported["year"].null_count():
        return None
    n_units, n_leaves = keyed.height, len(leaf_ids)
    if n_leaves == 0:
        return None
    # (unit code, year) → the unit's block
    names = keyed["unit_id"].unique().sort()
    code_of = dict(zip(names.to_list(), range(names.len()), strict=True))
    first_year, last_year = int(keyed["year"].min()), int(keyed["year"].max())
    block = np.full((names.len(), last_year - first_year + 1), -1, dtype=np.int64)
    block[
        keyed["unit_id"].replace_strict(code_of, return_dtype=pl.Int64).to_numpy(),
        keyed["year"].to_numpy() - first_year,
    ] = np.arange(n_units)
    # 32-bit codes and positions while they suffice (fewer full-length temporaries)
    wide = max(names.len(), n_units * n_leaves) >= 2**31
    np_code = np.int64 if wide else np.int32
    block = block.astype(np_code)
    unit_code = _coded(reported["unit_id"], code_of, np_code)
    leaf_code = _coded(reported["node_id"], {leaf: i for i, leaf in enumerate(leaf_ids)}, np_code)
    year = reported["year"].to_numpy().astype(np_code) - np_code(first_year)
    usable = (unit_code >= 0) & (leaf_code >= 0) & (year >= 0) & (year <= last_year - first_year)
    column = reported["value"]
    value = column.to_numpy()  # null → NaN
    present = column.is_not_null().to_numpy()
    if usable.all():  # every value belongs to a listed unit, year and leaf (the usual case)
        row = block[unit_code, year]
        del unit_code, year
        usable = row >= 0
    else:
        row = np.full(reported.height, -1, dtype=np_code)
        row[usable] = block[unit_code[usable], year[usable]]
        del unit_code, year
        usable &= row >= 0
    if usable.all():
        position = row
        position *= n_leaves
        position += leaf_code
    else:
        position = row[usable] * n_leaves + leaf_code[usable]
        value, present = value[usable], present[usable]
    del leaf_code, usable
    # a value reported twice: the last one counts (as ``unique(keep="last")``); numpy assigns
    # repeated indices in order, so the last write stays
    grid_value = np.full(n_units * n_leaves, np.nan)
    grid_present = np.zeros(n_units * n_leaves, dtype=bool)
    grid_value[position] = value
    grid_present[position] = present
    del position, value, present
    series = pl.Series("value", grid_value, dtype=pl.Float64, nan_to_null=False)
    series = pl.select(pl.when(pl.Series(grid_present)).then(series).otherwise(None)).to_series()
    return DenseLayout(keyed, leaf_ids, series.alias("value"))


def complete_grid(values: pl.DataFrame, units: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """One row per (unit, year, leaf): what was reported, and null where nothing was, with the
    integer codes of the leaf and its comparison group (:data:`CODES`) that the group
    statistics run over.

    ``units`` lists who is scored (``unit_id, year, group_id``); values of anyone else are ignored,
    and a unit that reported nothing still gets a row for every leaf. Rows are sorted by year,
    group, unit and leaf, so that group statistics sum in the same order whatever the input
    order: the same data always gives bit-identical scores (COINr round trip, snapshots).
    """
    return grid_layout(values, units, framework).frame(framework)


def grid_layout(values: pl.DataFrame, units: pl.DataFrame, framework: Framework) -> DenseLayout:
    """The :class:`DenseLayout` of :func:`complete_grid`: by positions (:func:`dense_layout`,
    the usual case), else by joins for the inputs it cannot place (a null year or unit id, a
    unit listed twice in a year), each listing of a unit its own block."""
    keyed = units.select(typed(*UNIT_KEYS))
    keyed = keyed.sort(["year", "group_id", "unit_id"], nulls_last=True, maintain_order=True)
    leaf_ids = sorted(framework.leaf_ids())
    layout = dense_layout(values, keyed, leaf_ids)
    if layout is not None:
        return layout
    leaves = pl.DataFrame({"node_id": leaf_ids}, schema={"node_id": pl.String})
    reported = values.select(typed("unit_id", "year", "node_id", "value"))
    reported = reported.unique(subset=["unit_id", "year", "node_id"], keep="last")
    grid = keyed.with_row_index("_unit").join(leaves.with_row_index("_leaf"), how="cross")
    # nulls_equal: a COINr iData without a Time column has year null on both sides.
    grid = grid.join(reported, on=["unit_id", "year", "node_id"], how="left", nulls_equal=True)
    return DenseLayout(keyed, leaf_ids, grid.sort("_unit", "_leaf")["value"])
