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

from pipelines.framework.model import Framework, Normalisation
from pipelines.scoring.grid import Grid
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.node_table import LeafGrid

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
    declared: list[tuple[str, Normalisation] | None]  # (node, its normalisation) or None

    def methods(self, spec: MethodSpec) -> list[str]:
        """Each column's method: the one a node declares for it, else the run's."""
        return [d[1].effective_method if d else spec.method for d in self.declared]


def leaf_columns(framework: Framework, leaf_ids: Sequence[str]) -> LeafColumns:
    """The :class:`LeafColumns` of ``leaf_ids`` (the grid's columns)."""
    where = {leaf.id: i for i, leaf in enumerate(framework.leaves())}
    nodes = [framework.nodes[leaf] for leaf in leaf_ids]
    return LeafColumns(
        ids=list(leaf_ids),
        position=np.array([where[n.id] for n in nodes], dtype=np.int64),
        max_points=np.array([float(n.max_points) for n in nodes]),
        direction=np.array([float(n.direction) for n in nodes]),
        kind=[n.rule.kind if n.rule else None for n in nodes],
        goalposts=np.array([n.goalposts or (np.nan, np.nan) for n in nodes], float).reshape(-1, 2),
        declared=[framework.leaf_normalisation(n.id) for n in nodes],
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

    def leaf_grid(self) -> LeafGrid:
        """The arrays the aggregation reads (as :func:`leaf_grid` reads them from the frame)."""
        z = None if np.isnan(self.z).all() else self.z
        return LeafGrid(
            self.grid.units,
            self.grid.leaf_ids,
            np.nan_to_num(self.points, nan=0.0),
            z,
            self.excluded,
            self.n_missing,
            self.notes.series(),
        )
