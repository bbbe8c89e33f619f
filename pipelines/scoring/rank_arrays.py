"""Ranks within runs of units from arrays: the array path's form of
:func:`pipelines.scoring.rank.rank_within_groups` (descending, ties the lowest, points compared
by their tie key, :mod:`pipelines.scoring.ties`), as one integer sort instead of a window over
three string keys."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.scoring.ties import NOISE_ONLY, RankPrecision, tie_keys


def sorted_keys(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, key[order])`` for non-negative int64 keys. When a key and its position fit in
    63 bits together, one sort of ``key << bits | position`` (polars, on every core) gives
    both — several times faster than numpy's single-threaded argsort; else polars' arg_sort."""
    bits = max(1, int(key.size).bit_length())
    if key.size and int(key.max()) < 1 << (63 - bits):
        packed = key << np.int64(bits)
        packed |= np.arange(key.size, dtype=np.int64)
        packed = pl.Series("k", packed).sort().to_numpy()
        return packed & np.int64((1 << bits) - 1), packed >> np.int64(bits)
    order = pl.Series("k", key).arg_sort().to_numpy()
    return order, key[order]


def rank_block(
    points: np.ndarray,
    maxima: np.ndarray,
    run_of: np.ndarray,
    n_runs: int,
    precision: RankPrecision = NOISE_ONLY,
) -> np.ndarray | None:
    """Ranks (``units × nodes``, int32) of a few nodes' points (of maxima ``maxima``, one per
    node) within each run of units, or None when a tie key is NaN or too large to sort as an
    integer."""
    n_units, n_nodes = points.shape
    steps = tie_keys(np.ascontiguousarray(points.T), np.asarray(maxima)[:, None], precision)
    steps = steps.reshape(-1)
    if not np.all(np.isfinite(steps)):
        return None
    hi, lo = float(steps.max()), float(steps.min())
    if max(abs(hi), abs(lo)) >= 2.0**52:  # beyond, differences of floats are not exact
        return None
    span = hi - lo + 1
    if span >= 2.0**62 / (n_nodes * n_runs):  # the keys must fit in 64 bits
        return None
    # (node, run) segments, in order: sorting the keys sorts each segment where it is
    segment = (np.arange(n_nodes, dtype=np.int64)[:, None] * n_runs + run_of[None, :]).reshape(-1)
    key = segment * np.int64(span) + (hi - steps).astype(np.int64)
    order, key = sorted_keys(key)
    del segment
    tie_start = np.empty(key.size, dtype=bool)
    tie_start[0] = True
    np.not_equal(key[1:], key[:-1], out=tie_start[1:])
    first = np.where(tie_start, np.arange(key.size, dtype=np.int64), 0)
    np.maximum.accumulate(first, out=first)
    # the sort keeps every segment where it was: its start is its first unit's position
    run_start = np.flatnonzero(np.diff(run_of, prepend=-1))[run_of]
    seg_start = (np.arange(n_nodes, dtype=np.int64)[:, None] * n_units + run_start).reshape(-1)
    rank = np.empty(key.size, dtype=np.int32)
    rank[order] = first - seg_start + 1
    return rank.reshape(n_nodes, n_units).T
