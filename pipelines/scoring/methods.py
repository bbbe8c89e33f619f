"""The settings of one scoring run, recorded verbatim in every snapshot (the choices of each
setting: :mod:`pipelines.scoring.choices`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pipelines.scoring.choices import (
    BOUNDS,
    METHODS,
    MISSING_RULES,
    ZSCORE_MODES,
    Bounds,
    Method,
    MissingRule,
    ZscoreMode,
    check_choice,
)
from pipelines.scoring.rank import RankPrecision

# z-score "rescaled": a node's ratio is the linear map RESCALE_CENTRE + RESCALE_SPREAD × z of its
# aggregated z, clipped to [0, 1] (a T-score 50 + 10 z on a 0–100 scale). The map is applied to
# each leaf's z; because it is linear it commutes with the max-points-weighted mean, so a node's
# points equal the map of its aggregated z whenever no leaf below it is missing or clipped
# (docs/scoring.md, "z-score rescaled").
RESCALE_CENTRE = 0.5
RESCALE_SPREAD = 0.1


@dataclass(frozen=True)
class MethodSpec:
    """Which normalisation, and how missing values, bounds and z-scores are treated.

    ``MethodSpec("minmax")`` keeps every other setting at its default (Đắk Lắk's behaviour):
    missing → 0 points, min-max over the bounds observed in the group and year, z → Φ(z).
    """

    method: Method = "points"
    missing: MissingRule = "zero"
    minmax_bounds: Bounds = "observed"
    clip: bool = True  # goalposts: values beyond the bounds score 0 / max (False: n < 0 or > 1)
    zscore_mode: ZscoreMode = "cdf"
    reference_year: int | None = None  # goalposts from this year's observed bounds
    # at what precision totals tie in ranks and class bands (default: float noise only)
    rank_precision: RankPrecision = field(default_factory=RankPrecision)

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHODS)
        check_choice("missing-data rule", self.missing, MISSING_RULES)
        check_choice("min-max bounds", self.minmax_bounds, BOUNDS)
        check_choice("z-score mode", self.zscore_mode, ZSCORE_MODES)
        if self.reference_year is not None and self.minmax_bounds != "goalposts":
            raise ValueError("reference_year is only used with minmax_bounds='goalposts'")

    @property
    def needs_other_years(self) -> bool:
        """Whether the statistics read years other than the one scored (pooled, reference year)."""
        return self.method == "minmax" and (
            self.minmax_bounds == "pooled" or self.reference_year is not None
        )

    def params(self) -> dict[str, object]:
        """Everything that, with the inputs and the framework, determines the scores."""
        return {
            **asdict(self),
            "ties": "min",
            "zscore_rescale": f"ratio = clip({RESCALE_CENTRE} + {RESCALE_SPREAD} z, 0, 1)",
        }
