"""When two totals are equal: the one comparison key behind every rank and every class band.

A total is compared through its **tie key**, an integer-valued float: two totals tie exactly
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

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

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
        if self.of not in PRECISION_OF:
            raise ValueError(
                f"rank_precision.of must be one of {', '.join(PRECISION_OF)}, not {self.of!r}"
            )
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

    def describe(self) -> str:
        """One line for reports and logs."""
        if self.decimals is None:
            return f"float noise only (relative 1e-{NOISE_DIGITS} of the node's maximum)"
        return f"{self.decimals} decimals of the {self.of}"


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
