"""Ranks within comparison groups and classes from the framework's bands, on arrays, and when
two totals are equal.

One ranker (:func:`rank_runs`: R's ``rank(-x, ties.method = "min")`` by
``scipy.stats.rankdata`` over each comparison group's block of units) and one classifier
(:func:`class_labels`: a total ratio and the unit's weakest pillar ratio → the band's label),
used by the engine's frames, the Monte Carlo and the report's check of stored labels.

Both compare a total through its **tie key**, an integer-valued float: two totals tie exactly
when their keys are equal, and a higher key ranks higher. The key is built in two steps:

1. **float noise** — the value is rounded to ``NOISE_DIGITS`` significant decimals of the node's
   maximum (a ratio to 9 decimals; points of a 1000-point index to 6 decimals, of a 10-point
   pillar to 8, of a 1.25-point leaf to 9 — the first power of ten at or above the maximum sets
   the scale). Sums of the same terms in another order (0.1 + 0.2 vs 0.3) then give one key,
   while any real difference (0 vs 1.7e-6 points on a 1.25-point leaf) keeps two;
2. **declared precision** (:class:`RankPrecision`, a preset's ``rank_precision``) — that integer
   is rounded, half away from zero, to the published decimals of the points or of the ratio:
   totals that are published equal rank equal (the national ranking's 4 decimals of the ratio).

Rounding the noise-free integer (never the raw float) makes the published rounding exact: a
total of 8.125 reached by sums in two orders is one key at 2 decimals, not 8.12 and 8.13.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy.stats import rankdata

from pipelines.framework.model import Framework
from pipelines.scoring.choices import READINGS, check_choice

# float noise is a difference below 10^-NOISE_DIGITS of the node's maximum
NOISE_DIGITS = 9
PRECISION_OF: tuple[str, ...] = ("points", "ratio")


@dataclass(frozen=True)
class RankPrecision:
    """At what precision totals are compared for ranks and class bands.

    ``decimals`` None (the default): only float noise ties. Else totals equal when rounded to
    ``decimals`` decimals of ``of`` (``points`` or ``ratio``) tie. Declared decimals finer than
    the noise scale (step 1 in the docstring of this module) compare at the noise scale.
    """

    decimals: int | None = None
    of: Literal["points", "ratio"] = "points"

    def __post_init__(self) -> None:
        check_choice("rank_precision.of", self.of, PRECISION_OF)
        if self.decimals is not None and (
            isinstance(self.decimals, bool)
            or not isinstance(self.decimals, int)
            or self.decimals < 0
        ):
            raise ValueError(
                f"rank_precision.decimals must be a whole number ≥ 0, not {self.decimals!r}"
            )

    @classmethod
    def from_mapping(cls, mapping: Any) -> RankPrecision:
        """From a preset's ``rank_precision: {decimals: 4, of: ratio}`` (None: the default)."""
        if mapping is None:
            return cls()
        if not isinstance(mapping, dict):
            raise ValueError(f"rank_precision must be a mapping {{decimals, of}}, not {mapping!r}")
        unknown = set(mapping) - {"decimals", "of"}
        if unknown:
            raise ValueError(f"rank_precision: unknown key(s) {', '.join(sorted(unknown))}")
        return cls(decimals=mapping.get("decimals"), of=mapping.get("of", "points"))


NOISE_ONLY = RankPrecision()  # the default: only float noise ties


def tie_keys(
    points: np.ndarray | float,
    max_points: np.ndarray | float = 1.0,
    precision: RankPrecision = NOISE_ONLY,
) -> np.ndarray:
    """The tie keys of ``points`` on nodes of maximum ``max_points`` (an array broadcast against
    ``points``: a scalar, one maximum per column, or one per value), as in the module docstring.
    NaN points give NaN keys; a node of maximum ≤ 0 compares its points on the scale of 1."""
    points = np.asarray(points, dtype=np.float64)
    maxima = np.asarray(max_points, dtype=np.float64)
    positive = maxima > 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if precision.of == "ratio":
            value = np.where(positive, points / np.where(positive, maxima, 1.0), points)
            digits = np.float64(NOISE_DIGITS)
        else:
            value = points
            # 1e-9 absorbs log10's own rounding at powers of ten
            digits = NOISE_DIGITS - np.ceil(np.log10(np.where(positive, maxima, 1.0)) - 1e-9)
        grid = np.asarray(value * 10.0**digits)
        np.rint(grid, out=grid)
        if precision.decimals is not None:
            step = 10.0 ** np.maximum(digits - precision.decimals, 0.0)
            grid = np.sign(grid) * np.floor((np.abs(grid) + step / 2) / step)
    shape = np.broadcast_shapes(points.shape, maxima.shape)
    if np.shape(grid) != shape:
        grid = np.broadcast_to(grid, shape).copy()
    grid += 0.0  # −0.0 → 0.0 (IEEE: −0 + 0 = +0)
    return grid


def ratio_keys(ratios: np.ndarray | float, precision: RankPrecision = NOISE_ONLY) -> np.ndarray:
    """The keys that class bands compare: the ratio's tie key (maximum 1), at the declared
    decimals when they are of the ratio, else at float noise (decimals of points are not a
    precision of the ratio)."""
    of_ratio = RankPrecision(precision.decimals if precision.of == "ratio" else None, "ratio")
    return tie_keys(ratios, 1.0, of_ratio)


def rank_runs(keys: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Ranks (int32, the shape of ``keys``: rows × columns) of ``keys`` within each run of rows
    (runs beginning at the ascending ``starts``, the first 0), column by column: the highest key
    ranks 1 and equal keys share the lowest rank (1, 2, 2, 4). A NaN key ranks 0 (no rank) and
    does not count against the others.

    Runs of the same length are ranked together, by one ``rankdata`` call on a
    runs × length × columns block."""
    n_rows = keys.shape[0]
    out = np.zeros(keys.shape, dtype=np.int32)
    if n_rows == 0:
        return out
    sizes = np.diff(np.append(starts, n_rows))
    missing = np.isnan(keys)
    descending = np.negative(keys)
    descending[missing] = np.inf  # NaN last: the others' ranks stay
    for size in np.unique(sizes):
        rows = starts[sizes == size][:, None] + np.arange(size)  # runs × size
        out[rows] = rankdata(descending[rows], method="min", axis=1)
    out[missing] = 0
    return out


def group_starts(units: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(order, starts)``: the rows of ``units`` (``year, group_id`` …) ordered so that each
    comparison group (year, group) is one run of rows, and where each run begins."""
    order = (
        units.select("year", "group_id")
        .with_row_index("_i")
        .sort(["year", "group_id"], maintain_order=True)
    )
    run = order.select(pl.struct("year", "group_id").rle_id())[:, 0].to_numpy()
    starts = np.flatnonzero(np.diff(run, prepend=-1))
    return order["_i"].to_numpy(), starts


def rank_by_group(
    points: np.ndarray,
    max_points: np.ndarray,
    units: pl.DataFrame,
    precision: RankPrecision = NOISE_ONLY,
) -> np.ndarray:
    """Ranks (units × columns) of ``points`` (units × columns, maxima broadcast against them)
    within each unit's comparison group (``units``: ``year, group_id`` per row), points
    compared by their tie key."""
    order, starts = group_starts(units)
    if np.array_equal(order, np.arange(order.size)):  # the usual case: units sorted by group
        return rank_runs(tie_keys(points, max_points, precision), starts)
    out = np.empty(points.shape, dtype=np.int32)
    out[order] = rank_runs(tie_keys(points[order], max_points, precision), starts)
    return out


def rank_column(rank: np.ndarray) -> pl.Series:
    """``rank`` (int, 0 = no rank) as the Int32 column ``rank``, null where there is none."""
    column = pl.Series("rank", rank, dtype=pl.Int32)
    return pl.select(pl.when(column > 0).then(column).otherwise(None).alias("rank")).to_series()


def effective_reading(framework: Framework, reading: str | None = None) -> str | None:
    """The classification reading used: the one asked for, else the framework's own
    (``pillar_minimum`` → ``total_and_pillars``); None when the framework has no classes."""
    if reading is not None:
        check_choice("classification reading", reading, READINGS)
    if framework.classification is None:
        return None
    if reading is not None:
        return reading
    return "total_and_pillars" if framework.classification.pillar_minimum else "total_only"


def class_labels(
    ratio: np.ndarray,
    weakest_pillar: np.ndarray,
    bands: Sequence[tuple[str, float]],
    reading: str | None,
    precision: RankPrecision = NOISE_ONLY,
) -> np.ndarray:
    """The class of each total (an object array of labels, None below every band).

    ``bands`` (label, minimum ratio), highest first: a total takes the first band its ratio
    reaches; reading ``total_and_pillars`` (Huế 3043's table: Mức I ≥ 90 in total and ≥ 90 % of
    every pillar) also needs the unit's weakest pillar ratio to reach it (NaN: no pillar with a
    ratio, e.g. every pillar left out by ``exclude``, which does not count against the
    minimum). Ratios and bands are compared by :func:`ratio_keys`."""
    ratio = np.asarray(ratio, dtype=np.float64)
    weakest = np.broadcast_to(np.asarray(weakest_pillar, dtype=np.float64), ratio.shape)
    total_key = ratio_keys(ratio, precision)
    pillar_key = ratio_keys(weakest, precision)
    labels = np.full(ratio.shape, None, dtype=object)
    open_ = np.ones(ratio.shape, dtype=bool)
    for label, min_ratio in bands:
        floor = ratio_keys(float(min_ratio), precision)
        reached = open_ & (total_key >= floor)  # NaN never reaches
        if reading == "total_and_pillars":
            reached &= np.isnan(weakest) | (pillar_key >= floor)
        labels[reached] = label
        open_ &= ~reached
    return labels


def _bands(framework: Framework) -> list[tuple[str, float]]:
    assert framework.classification is not None
    return [(b.label, b.min_ratio) for b in framework.classification.bands]


def unit_classes(
    ratio: np.ndarray,
    node_levels: Sequence[str],
    root: int,
    framework: Framework,
    reading: str | None = None,
    precision: RankPrecision = NOISE_ONLY,
) -> np.ndarray | None:
    """The class of each unit (a row of ``ratio``: units × columns, each column a node of level
    ``node_levels[k]``): :func:`class_labels` of its total (column ``root``) and its weakest
    pillar. None when the framework has no classes (:func:`effective_reading`)."""
    reading = effective_reading(framework, reading)
    if reading is None:
        return None
    pillars = ratio[:, np.asarray(node_levels) == "pillar"]
    if pillars.shape[1]:
        weakest = np.fmin.reduce(pillars, axis=1)  # NaN only where every pillar is NaN
    else:
        weakest = np.full(ratio.shape[0], np.nan)
    return class_labels(ratio[:, root], weakest, _bands(framework), reading, precision)


def class_column(labels: np.ndarray | None, rows: np.ndarray, height: int) -> pl.Series:
    """``class_label``: ``labels[i]`` on row ``rows[i]`` (each unit's total), null elsewhere."""
    if labels is None:
        return pl.repeat(None, height, dtype=pl.Categorical, eager=True).alias("class_label")
    at = np.full(height, -1, dtype=np.int64)
    at[rows] = np.arange(rows.size)
    index = pl.Series(at)
    index = pl.select(pl.when(index >= 0).then(index)).to_series()
    return pl.Series("class_label", labels.tolist(), dtype=pl.Categorical).gather(index)
