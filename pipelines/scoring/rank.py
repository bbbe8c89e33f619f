"""Ranks within comparison groups and classes from the framework's bands, on arrays.

One ranker (:func:`rank_runs`: R's ``rank(-x, ties.method = "min")`` by
``scipy.stats.rankdata`` over each comparison group's block of units, on the tie keys of
:mod:`pipelines.scoring.ties`) and one classifier (:func:`class_labels`: a total ratio and the
unit's weakest pillar ratio → the band's label), used by the engine's frames, the Monte Carlo
and the report's check of stored labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.stats import rankdata

from pipelines.framework.model import Framework
from pipelines.scoring.choices import READINGS
from pipelines.scoring.ties import NOISE_ONLY, RankPrecision, ratio_keys, tie_keys


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
        .sort(["year", "group_id"], nulls_last=True, maintain_order=True)
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
    if reading is not None and reading not in READINGS:
        raise ValueError(
            f"classification reading must be one of {', '.join(READINGS)}, not {reading!r}"
        )
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
    minimum). Ratios and bands are compared by :func:`pipelines.scoring.ties.ratio_keys`."""
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
