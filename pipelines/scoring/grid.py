"""The complete grid of a year: one row per unit, one column per leaf.

Every scoring step reads the grid (:func:`complete_grid`): the scored units (sorted by year,
comparison group and unit, so each comparison group is one run of rows) × the framework's
leaves (sorted by id), and what each unit reported for each leaf. A group's statistics are
reductions over its run of rows (:meth:`Grid.by_group`), column by column; the long frame of
one row per unit and leaf exists only at the storage boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.rank import group_starts

# one unit in one year, with the comparison group it is ranked in
UNIT_KEYS = ["unit_id", "year", "group_id"]
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
class Grid:
    """``units`` (``unit_id, year, group_id``, sorted by year, group and unit) × ``leaf_ids``
    (sorted): ``value`` (NaN where nothing, or no number, was reported) and ``reported``
    (a value, even NaN, was given)."""

    units: pl.DataFrame
    leaf_ids: list[str]
    value: np.ndarray
    reported: np.ndarray

    @cached_property
    def starts(self) -> np.ndarray:
        """The first row of each comparison group (year, group)."""
        return group_starts(self.units)[1]

    @cached_property
    def sizes(self) -> np.ndarray:
        """The number of rows of each comparison group."""
        return np.diff(np.append(self.starts, self.units.height))

    def by_group(self, reduce: np.ufunc, cells: np.ndarray) -> np.ndarray:
        """``reduce`` (``np.fmin``, ``np.add`` …) of ``cells`` (units × leaves) over each
        comparison group, repeated on the group's rows."""
        if not self.units.height:
            return cells.astype(np.float64)
        return np.repeat(reduce.reduceat(cells, self.starts, axis=0), self.sizes, axis=0)

    def frame(self) -> pl.DataFrame:
        """``unit_id, year, group_id, node_id, value``: one row per unit and leaf."""
        n_units, n_leaves = self.units.height, len(self.leaf_ids)
        unit_rows = np.repeat(np.arange(n_units, dtype=np.uint32), n_leaves)
        leaf_rows = np.tile(np.arange(n_leaves, dtype=np.uint32), n_units)
        value = pl.Series("value", self.value.reshape(-1), nan_to_null=False)
        return self.units.gather(unit_rows).with_columns(
            pl.Series("node_id", self.leaf_ids, dtype=pl.Categorical).gather(leaf_rows),
            pl.when(pl.Series(self.reported.reshape(-1))).then(value).alias("value"),
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


def dense_layout(values: pl.DataFrame, keyed: pl.DataFrame, leaf_ids: list[str]) -> Grid | None:
    """The complete grid by positions: each unit (``keyed``: typed and sorted by year, group
    and unit) owns a block of rows, one per leaf (``leaf_ids``, sorted), and each reported
    value is written to its row (the last one of a value reported twice). None when a year or
    unit id is null or a unit is listed twice in a year (:func:`complete_grid` then joins)."""
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
    grid_value = np.full((n_units, n_leaves), np.nan)
    grid_present = np.zeros((n_units, n_leaves), dtype=bool)
    grid_value.reshape(-1)[position] = value
    grid_present.reshape(-1)[position] = present
    return Grid(keyed, leaf_ids, grid_value, grid_present)


def complete_grid(values: pl.DataFrame, units: pl.DataFrame, framework: Framework) -> Grid:
    """The :class:`Grid` of ``units`` (``unit_id, year, group_id``: who is scored; values of
    anyone else are ignored, and a unit that reported nothing still has its row) on
    ``framework``'s leaves. The order is fixed (year, group, unit; leaf ids), so that group
    statistics sum in the same order whatever the input order: the same data always gives
    bit-identical scores (COINr round trip, snapshots).

    Laid out by positions (:func:`dense_layout`, the usual case), else by joins for the inputs
    it cannot place (a null year or unit id, a unit listed twice in a year), each listing of a
    unit its own row."""
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
    value = grid.sort("_unit", "_leaf")["value"]
    shape = (keyed.height, len(leaf_ids))
    present = value.is_not_null().to_numpy().reshape(shape)
    return Grid(keyed, leaf_ids, value.to_numpy().reshape(shape), present)


def unit_blocks(
    frame: pl.DataFrame, ids: set[str] | None = None
) -> tuple[pl.DataFrame, list[str]] | None:
    """``(units, node ids)`` when ``frame`` is one block of rows per unit (``UNIT_KEYS``), every
    block listing the same node ids (``ids``, or those of its first block) once each, in the
    same order: the units in block order and the blocks' node order. None otherwise."""
    if frame.is_empty():
        return None
    runs = frame.select(pl.struct(UNIT_KEYS).rle_id())[:, 0].to_numpy()
    n_units = int(runs[-1]) + 1
    width = frame.height // n_units
    if width * n_units != frame.height:
        return None
    if not np.array_equal(runs, np.repeat(np.arange(n_units, dtype=runs.dtype), width)):
        return None
    order = frame["node_id"].head(width)
    if order.n_unique() != width or (ids is not None and set(order.to_list()) != ids):
        return None
    if not frame["node_id"].equals(order.gather(np.tile(np.arange(width), n_units))):
        return None
    units = frame.select(UNIT_KEYS).gather(np.arange(n_units) * width)
    if units.is_duplicated().any():  # a unit's rows in two separate blocks
        return None
    return units, [str(node_id) for node_id in order.to_list()]


def in_blocks(
    frame: pl.DataFrame, sort_by: list[str], ids: set[str] | None, kind: str
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """``(frame, units, node ids)``: ``frame`` (``kind`` scores: ``leaf`` or ``node``) as one
    block per unit (:func:`unit_blocks`), sorted by ``sort_by`` first when it is not;
    ValueError when no order makes it so."""
    blocks = unit_blocks(frame, ids)
    if blocks is None:
        frame = frame.sort(sort_by, nulls_last=True)
        blocks = unit_blocks(frame, ids)
        if blocks is None:
            raise ValueError(
                f"{kind} scores are not one row per unit and {kind} (one missing or listed twice)"
            )
    return frame, *blocks
