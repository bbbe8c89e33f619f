"""The leaf stage's state: every leaf's numbers as ``units × leaves`` arrays over a
:class:`~pipelines.scoring.grid.Grid`, the leaves' attributes as one entry per column, and how
each cell says which rule gave its points (``rule_applied``: a code into a table of texts, each
text written once). The long frame of one row per unit and leaf is built only for storage
(:meth:`LeafArrays.frame`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.grid import UNIT_KEYS, UNIT_ORDER, Grid, in_blocks
from pipelines.scoring.methods import MethodSpec

OUTPUT = ["normalised", "z", "points", "rule_applied"]
LEAF_COLUMNS = [
    "unit_id",
    "year",
    "group_id",
    "node_id",
    "value",
    "normalised",
    "z",
    "points",
    "n_missing",
    "excluded",
    "rule_applied",
]


def num_texts(numbers: np.ndarray) -> list[str]:
    """Numbers as short text for ``rule_applied``: 6 decimals at most, no trailing ``.0``."""
    series = pl.Series(np.asarray(numbers, dtype=np.float64)).round(6).cast(pl.String)
    return series.str.replace(r"\.0$", "").to_list()


def share(points: np.ndarray, max_points: np.ndarray) -> np.ndarray:
    """points ÷ max points; NaN (null) for a leaf of maximum 0 (reported, not scored)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(max_points > 0, points / max_points, np.nan)


@dataclass(frozen=True)
class LeafColumns:
    """The attributes of the grid's leaf columns, one entry per column."""

    ids: list[str]
    position: np.ndarray  # the leaf's position in ``framework.leaves()``
    max_points: np.ndarray
    direction: np.ndarray  # 1 higher is better, -1 lower is better
    kind: list[str | None]  # the rubric rule's kind
    goalposts: np.ndarray  # columns × 2, the raw [lo, hi] (NaN: none)
    # the normalisation a node declares for the leaf (:meth:`Framework.leaf_normalisation`):
    # its method (None: the run's), its goalposts (NaN: none) and the node
    declared_method: list[str | None]
    declared_goalposts: np.ndarray
    declared_by: list[str | None]

    def methods(self, spec: MethodSpec) -> list[str]:
        """Each column's method: the one a node declares for it, else the run's."""
        return [m or spec.method for m in self.declared_method]


def leaf_columns(framework: Framework, leaf_ids: Sequence[str]) -> LeafColumns:
    """The :class:`LeafColumns` of ``leaf_ids`` (the grid's columns)."""
    where = {leaf.id: i for i, leaf in enumerate(framework.leaves())}
    nodes = [framework.nodes[leaf] for leaf in leaf_ids]
    declared = [framework.leaf_normalisation(n.id) for n in nodes]
    nowhere = (np.nan, np.nan)
    return LeafColumns(
        ids=list(leaf_ids),
        position=np.array([where[n.id] for n in nodes], dtype=np.int64),
        max_points=np.array([float(n.max_points) for n in nodes]),
        direction=np.array([float(n.direction) for n in nodes]),
        kind=[n.rule.kind if n.rule else None for n in nodes],
        goalposts=np.array([n.goalposts or nowhere for n in nodes], float).reshape(-1, 2),
        declared_method=[d[1].effective_method if d else None for d in declared],
        declared_goalposts=np.array(
            [(d[1].goalposts if d else None) or nowhere for d in declared], float
        ).reshape(-1, 2),
        declared_by=[d[0] if d else None for d in declared],
    )


def leaf_methods(framework: Framework, spec: MethodSpec) -> list[str]:
    """Each leaf's method, in ``framework.leaves()`` order."""
    return leaf_columns(framework, framework.leaf_ids()).methods(spec)


class Notes:
    """``rule_applied`` of every cell: a code (-1: none) into ``texts``, each text once."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.texts: list[str] = []
        self._code: dict[str, int] = {}
        self.codes = np.full(shape, -1, dtype=np.int32)

    def codes_of(self, texts: Sequence[str | None]) -> np.ndarray:
        """The code of each text (added when new; None: -1)."""
        out = np.empty(len(texts), dtype=np.int32)
        for i, text in enumerate(texts):
            if text is None:
                out[i] = -1
                continue
            if text not in self._code:
                self._code[text] = len(self.texts)
                self.texts.append(text)
            out[i] = self._code[text]
        return out

    def put(
        self,
        cells: np.ndarray,
        keys: Sequence[np.ndarray],
        text: Callable[[np.ndarray], Sequence[str | None]],
    ) -> None:
        """On ``cells`` (a mask), the text of each distinct combination of ``keys`` (integer
        arrays over the cells, in mask order): ``text(first)`` gets the positions, among the
        cells, of one cell per combination and gives their texts."""
        n = int(np.count_nonzero(cells))
        if n == 0:
            return
        stacked = np.stack([np.asarray(k, dtype=np.int64) for k in keys] or [np.zeros(n)], 1)
        _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
        self.codes[cells] = self.codes_of(text(first))[inverse.reshape(-1)]

    def prefixed(self, cells: np.ndarray, prefix: str) -> None:
        """``{prefix} → {the cell's text}`` on ``cells``."""
        old = self.codes[cells]
        self.put(
            cells,
            [old],
            lambda first: [
                f"{prefix} → {self.texts[old[i]]}" if old[i] >= 0 else None for i in first
            ],
        )

    @classmethod
    def read(cls, column: pl.Series, shape: tuple[int, int]) -> Notes:
        """The notes of a stored ``rule_applied`` column (row by row, ``shape`` cells)."""
        notes = cls(shape)
        text = column.cast(pl.String)
        distinct = text.unique().drop_nulls().to_list()
        code = dict(zip(distinct, notes.codes_of(distinct).tolist(), strict=True))
        codes = text.replace_strict(code, default=-1, return_dtype=pl.Int32).fill_null(-1)
        notes.codes = codes.to_numpy().reshape(shape)
        return notes

    def series(self) -> pl.Series:
        """Every cell's text, row by row, as a categorical (null where none)."""
        texts = pl.Series(self.texts, dtype=pl.String).cast(pl.Categorical)
        codes = pl.Series(self.codes.reshape(-1))
        return texts.gather(pl.select(pl.when(codes >= 0).then(codes)).to_series())


@dataclass
class LeafArrays:
    """The leaf numbers of a grid (``units × leaves``; NaN: none) and their notes."""

    grid: Grid
    columns: LeafColumns
    points: np.ndarray
    normalised: np.ndarray
    z: np.ndarray
    notes: Notes
    n_missing: np.ndarray = field(init=False)
    excluded: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.n_missing = np.zeros(self.points.shape, dtype=np.int32)
        self.excluded = np.zeros(self.points.shape, dtype=bool)

    @classmethod
    def empty(cls, grid: Grid, columns: LeafColumns) -> LeafArrays:
        shape = grid.value.shape
        nan = np.full(shape, np.nan)
        return cls(grid, columns, nan, nan.copy(), nan.copy(), Notes(shape))

    def frame(self) -> pl.DataFrame:
        """``LEAF_COLUMNS``: one row per unit and leaf, in the grid's order."""
        return self.grid.frame().with_columns(
            pl.Series("normalised", self.normalised.reshape(-1), nan_to_null=True),
            pl.Series("z", self.z.reshape(-1), nan_to_null=True),
            pl.Series("points", self.points.reshape(-1), nan_to_null=True),
            pl.Series("n_missing", self.n_missing.reshape(-1)),
            pl.Series("excluded", self.excluded.reshape(-1)),
            self.notes.series().alias("rule_applied"),
        )


def read_leaves(leaves: pl.DataFrame, framework: Framework) -> LeafArrays:
    """A stored leaf frame (``LEAF_COLUMNS``; one row per unit and leaf, sorted first when its
    rows are not in blocks) as arrays, units in the grid's order (:data:`UNIT_ORDER`). Refused
    (ValueError) when a unit lacks a leaf or has one twice."""
    leaf_ids = set(framework.leaf_ids())
    frame = leaves.filter(pl.col("node_id").is_in(leaf_ids)) if leaves.height else leaves
    if frame.is_empty():
        frame, units, order = frame, frame.select(UNIT_KEYS).clear(), sorted(leaf_ids)
    else:
        frame, units, order = in_blocks(frame, [*UNIT_KEYS, "node_id"], leaf_ids, "leaf")
    shape = (units.height, len(order))
    rows = units.with_row_index("_i").sort(UNIT_ORDER, maintain_order=True)["_i"].to_numpy()

    def cells(name: str, missing: float, dtype: type) -> np.ndarray:
        if name not in frame.columns:
            return np.full(shape, missing, dtype=dtype)
        column = frame[name].cast(pl.Float64).fill_null(missing).to_numpy()
        return column.astype(dtype).reshape(shape)[rows]

    reported = np.zeros(shape, dtype=bool)
    if "value" in frame.columns:
        reported = frame["value"].is_not_null().to_numpy().reshape(shape)[rows]
    notes = Notes(shape)
    if "rule_applied" in frame.columns:
        notes = Notes.read(frame["rule_applied"], shape)
        notes.codes = notes.codes[rows]
    state = LeafArrays(
        Grid(units[rows], order, cells("value", np.nan, float), reported),
        leaf_columns(framework, order),
        *(cells(name, np.nan, float) for name in ("points", "normalised", "z")),
        notes,
    )
    state.excluded = cells("excluded", 0, bool)
    state.n_missing = cells("n_missing", 0, np.int32)
    return state
