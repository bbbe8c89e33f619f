"""The settings of one scoring run, recorded verbatim in every snapshot."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Method = Literal["points", "minmax", "zscore"]
MissingRule = Literal["zero"]
METHODS: tuple[str, ...] = ("points", "minmax", "zscore")

# Ranks compare points at this many decimals so that float noise (0.1 + 0.2) cannot split a tie;
# Đắk Lắk publishes ratios with 5–6 decimals, i.e. points of a 1000 scale to ~3 decimals.
RANK_DECIMALS = 6


@dataclass(frozen=True)
class MethodSpec:
    """Which normalisation, and how missing values and degenerate groups are treated."""

    method: Method = "points"
    missing: MissingRule = "zero"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.missing != "zero":
            raise ValueError(f"unknown missing-data rule {self.missing!r}; available: zero")

    def params(self) -> dict[str, object]:
        """Everything that, with the inputs and the framework, determines the scores."""
        return {**asdict(self), "rank_decimals": RANK_DECIMALS, "ties": "min"}
