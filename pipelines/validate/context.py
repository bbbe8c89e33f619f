"""What only the caller of a validation knows (:class:`ValidationContext`): the values of the
suites' ``$PARAMETER`` placeholders and the derived Boolean columns computed in polars before a
frame goes to Great Expectations."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl


@dataclass(frozen=True)
class ValidationContext:
    """What only the caller knows about the table being validated (one year and level)."""

    year: int
    level: str
    unit_ids: frozenset[str]
    # leaf indicator id -> (min, max) allowed raw value; None means unbounded on that side
    indicator_bounds: dict[str, tuple[float | None, float | None]]
    framework_version: str


# Suite parameter name -> its value for a context. The JSON suites may reference only these.
_CONTEXT_PARAMETERS: dict[str, Callable[[ValidationContext], list[Any]]] = {
    "year_set": lambda c: [c.year],
    "level_set": lambda c: [c.level],
    "unit_ids": lambda c: sorted(c.unit_ids),
    "indicator_ids": lambda c: sorted(c.indicator_bounds),
    "framework_version_set": lambda c: [c.framework_version],
}


def _value_in_range(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    if not {"indicator_id", "value"} <= set(frame.columns):
        return None
    mins = {k: lo for k, (lo, _) in context.indicator_bounds.items() if lo is not None}
    maxs = {k: hi for k, (_, hi) in context.indicator_bounds.items() if hi is not None}
    indicator = pl.col("indicator_id").cast(pl.String)
    lo = indicator.replace_strict(mins, default=None, return_dtype=pl.Float64)
    hi = indicator.replace_strict(maxs, default=None, return_dtype=pl.Float64)
    value = pl.col("value").cast(pl.Float64)
    # Missing values belong to the completeness check and unknown indicators to indicator_known;
    # NaN compares false both ways, so it is reported as out of range.
    within = (lo.is_null() | (value >= lo)) & (hi.is_null() | (value <= hi))
    return (value.is_null() | within).fill_null(True)


def _value_matches_source(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    if not {"value", "self_value", "appraised_value"} <= set(frame.columns):
        return None
    expected = pl.coalesce(pl.col("appraised_value"), pl.col("self_value")).cast(pl.Float64)
    return pl.col("value").cast(pl.Float64).eq_missing(expected)


def _value_parsed(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    if not {"raw_text", "value"} <= set(frame.columns):
        return None
    text = pl.col("raw_text").cast(pl.String).str.strip_chars()
    return (text.is_null() | (text == "") | pl.col("value").is_not_null()).fill_null(True)


def _unit_value_share(frame: pl.DataFrame, context: ValidationContext) -> pl.Expr | None:
    """Per unit (on each of its rows): the share of its rows that carry a value, 4 decimals.
    Indicators a file has no row for at all are reported per submission (missing_indicators)."""
    if not {"unit_id", "value"} <= set(frame.columns):
        return None
    share = pl.col("value").is_not_null().cast(pl.Float64).mean().over("unit_id")
    return share.round(4)


# Derived columns, recomputed from the context whenever a suite references them.
_DERIVED_COLUMNS: dict[str, Callable[[pl.DataFrame, ValidationContext], pl.Expr | None]] = {
    "value_in_range": _value_in_range,
    "value_matches_source": _value_matches_source,
    "value_parsed": _value_parsed,
    "unit_value_share": _unit_value_share,
}


def _add_derived_columns(
    frame: pl.DataFrame, names: Iterable[str], context: ValidationContext
) -> pl.DataFrame:
    exprs = []
    for name in names:
        expr = _DERIVED_COLUMNS[name](frame, context)
        if expr is not None:
            exprs.append(expr.alias(name))
    return frame.with_columns(exprs) if exprs else frame
