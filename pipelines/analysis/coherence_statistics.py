"""The statistics of the coherence checks on plain arrays, as COINr computes them (the rules are
stated in :mod:`pipelines.analysis.coherence`): covariance with gaps, Cronbach's alpha, skew and
excess kurtosis, the outlier rule and winsorisation, and the correlation of two vectors."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

SKEW_THRESHOLD = 2.0


KURT_THRESHOLD = 3.5


WINMAX = 5


ALPHA_METHODS = ("pairwise", "listwise")


def pair_units(items: np.ndarray) -> np.ndarray:
    """Items × items: how many units have both items present (the diagonal: each item)."""
    present = (~np.isnan(np.asarray(items, dtype=float))).astype(np.int64)
    return present.T @ present


def covariance_matrix(items: np.ndarray, use: str = "pairwise") -> np.ndarray:
    """Sample (n − 1) covariance matrix of a units × items matrix, as R's ``stats::cov`` with
    ``use = "pairwise.complete.obs"`` (each entry over the units where both items are present,
    NaN with fewer than 2) or ``"complete.obs"`` (``listwise``: complete units only)."""
    items = np.asarray(items, dtype=float)
    if use not in ALPHA_METHODS:
        raise ValueError(f"alpha method {use!r}: use one of {', '.join(ALPHA_METHODS)}")
    if use == "listwise":
        items = items[~np.isnan(items).any(axis=1)]
    k = items.shape[1]
    out = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(i, k):
            both = ~(np.isnan(items[:, i]) | np.isnan(items[:, j]))
            if both.sum() >= 2:
                a, b = items[both, i], items[both, j]
                out[i, j] = out[j, i] = float(
                    ((a - a.mean()) * (b - b.mean())).sum() / (both.sum() - 1)
                )
    return out


def cronbach_alpha(items: np.ndarray, use: str = "pairwise") -> float | None:
    """Cronbach's alpha of a units × items matrix (module docstring) from its ``pairwise`` or
    ``listwise`` covariance matrix; None when undefined."""
    items = np.asarray(items, dtype=float)
    if items.ndim != 2:
        raise ValueError("items must be a units × items matrix")
    k = items.shape[1]
    if k < 2:
        return None
    cov = covariance_matrix(items, use)
    if np.isnan(cov).all():
        return None
    total = float(np.nansum(cov))
    if total == 0:
        return None
    return float(k / (k - 1) * (1 - np.nansum(np.diag(cov)) / total))


def skew_kurtosis(values: np.ndarray) -> tuple[float | None, float | None]:
    """COINr's ``skew()`` and ``kurt()`` (e1071 type 2, excess kurtosis) of the present values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    skew = kurt = None
    if x.size >= 3 and np.ptp(x) > 0:
        skew = float(stats.skew(x, bias=False))
    if x.size >= 4 and np.ptp(x) > 0:
        kurt = float(stats.kurtosis(x, fisher=True, bias=False))
    return skew, kurt


def is_outlier(skew: float | None, kurt: float | None) -> bool:
    """COINr's ``Flag.SkewKurt``: |skew| > 2 and kurtosis > 3.5."""
    return (
        skew is not None
        and kurt is not None
        and abs(skew) > SKEW_THRESHOLD
        and (kurt > KURT_THRESHOLD)
    )


def passes_skew_kurtosis(skew: float | None, kurt: float | None) -> bool:
    """COINr's ``check_SkewKurt``: |skew| < 2 or kurtosis < 3.5 (undefined passes)."""
    if skew is None or kurt is None:
        return True
    return abs(skew) < SKEW_THRESHOLD or kurt < KURT_THRESHOLD


def winsorise(values: np.ndarray, winmax: int = WINMAX) -> tuple[np.ndarray, list[tuple]]:
    """COINr's ``winsorise()`` (module docstring): the treated vector and the changes as
    ``(position, original, treated, side)``."""
    x = np.asarray(values, dtype=float).copy()
    original = x.copy()
    changed: dict[int, str] = {}
    present = ~np.isnan(x)
    while not passes_skew_kurtosis(*skew_kurtosis(x)) and len(changed) < winmax:
        skew, _ = skew_kurtosis(x)
        live = x[present]
        if skew is not None and skew >= 0:
            top = np.nanmax(x)
            hit = np.flatnonzero(present & (x == top))
            rest = live[live != top]
            if rest.size == 0:
                break
            x[hit] = rest.max()
            side = "high"
        else:
            bottom = np.nanmin(x)
            hit = np.flatnonzero(present & (x == bottom))
            rest = live[live != bottom]
            if rest.size == 0:
                break
            x[hit] = rest.min()
            side = "low"
        for i in hit:
            changed[int(i)] = side
    return x, [(i, original[i], x[i], side) for i, side in sorted(changed.items())]


def pearson_spearman(
    a: np.ndarray, b: np.ndarray
) -> tuple[float | None, float | None, float | None]:
    """Pearson r, its p-value and Spearman ρ over rows where both are present."""
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None, None, None
    pearson = stats.pearsonr(a, b)
    rho = stats.spearmanr(a, b).statistic
    return (
        float(pearson.statistic),
        float(pearson.pvalue),
        None if math.isnan(rho) else float(rho),
    )
