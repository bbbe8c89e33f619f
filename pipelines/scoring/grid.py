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
# the order of the grid's units and of the scores: by year, group and id (nulls first, as
# polars sorts), so that each comparison group is one run of rows
UNIT_ORDER = ["year", "group_id", "unit_id"]
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


def complete_grid(values: pl.DataFrame, units: pl.DataFrame, framework: Framework) -> Grid:
    """The :class:`Grid` of ``units`` (``unit_id, year, group_id``: who is scored; values of
    anyone else are ignored, and a unit that reported nothing still has its row) on
    ``framework``'s leaves. The order is fixed (year, group, unit; leaf ids), so that group
    statistics sum in the same order whatever the input order: the same data always gives
    bit-identical scores (COINr round trip, snapshots).

    Each value is placed at its cell by two joins on the small tables of rows and columns (a
    unit listed twice in a year fills both its rows; a value listed twice: the last one
    counts). Keys held as categoricals (a national loader's 3.6 million rows of 10,000 ids) are
    joined as they are, without spelling out a string per row."""
    keyed = units.select(typed(*UNIT_KEYS))
    keyed = keyed.sort(UNIT_ORDER, maintain_order=True)
    leaf_ids = sorted(framework.leaf_ids())
    unit_key, node_key = (_key_type(values.schema[name]) for name in ("unit_id", "node_id"))
    rows = keyed.select(pl.col("unit_id").cast(unit_key), "year").with_row_index("_row")
    columns = pl.DataFrame({"node_id": leaf_ids}).with_row_index("_col")
    placed = (
        values.lazy()
        .select(
            pl.col("unit_id").cast(unit_key),
            pl.col("year").cast(pl.Int32),
            pl.col("node_id").cast(node_key),
            pl.col("value").cast(pl.Float64),
        )
        # nulls_equal: a COINr iData without a Time column has year null on both sides
        .join(rows.lazy(), on=["unit_id", "year"], nulls_equal=True, maintain_order="left")
        .join(
            columns.lazy().with_columns(pl.col("node_id").cast(node_key)),
            on="node_id",
            maintain_order="left",
        )
        .select(
            (pl.col("_row").cast(pl.Int64) * len(leaf_ids) + pl.col("_col")).alias("cell"), "value"
        )
        .collect()
    )
    shape = (keyed.height, len(leaf_ids))
    value, reported = np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    cell = placed["cell"].to_numpy()
    if cell.size and np.bincount(cell).max() > 1:  # a value listed twice: the last one counts
        placed = placed.unique("cell", keep="last", maintain_order=True)
        cell = placed["cell"].to_numpy()
    value.reshape(-1)[cell] = placed["value"].to_numpy()
    reported.reshape(-1)[cell] = placed["value"].is_not_null().to_numpy()
    return Grid(keyed, leaf_ids, value, reported)


def _key_type(dtype: pl.DataType) -> pl.DataType:
    """The type a key is joined as: a categorical as it is, anything else as text."""
    return dtype if isinstance(dtype, pl.Categorical) else pl.String()


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
        frame = frame.sort(sort_by)
        blocks = unit_blocks(frame, ids)
        if blocks is None:
            raise ValueError(
                f"{kind} scores are not one row per unit and {kind} (one missing or listed twice)"
            )
    return frame, *blocks
