"""Every choice a scoring setting has: each is one ``Literal`` type, and its tuple of values
(what the CLI options, the preset loader and the Dagster config accept) is read from that type.
Standard library only, so that the ``dti`` command line can name the choices without loading
the numeric libraries; the Vietnamese name of each value is in :mod:`pipelines.text.labels`."""

from __future__ import annotations

from typing import Literal, get_args

Method = Literal["points", "minmax", "zscore"]
MissingRule = Literal["zero", "exclude", "mean"]
Bounds = Literal["observed", "pooled", "goalposts"]
ZscoreMode = Literal["cdf", "rescaled"]
# how a framework's class bands are read: the total alone, or the total and every pillar's floor
ClassificationReading = Literal["total_only", "total_and_pillars"]
# Sơn La's DVCTT rule: a DVCTT unit's points scaled within its pillar or over the whole index
DvcttScope = Literal["pillar", "index"]
# whom a unit is ranked among: every unit of its level, or the units of its parent
ComparisonGroup = Literal["level", "parent"]

METHODS: tuple[Method, ...] = get_args(Method)
MISSING_RULES: tuple[MissingRule, ...] = get_args(MissingRule)
BOUNDS: tuple[Bounds, ...] = get_args(Bounds)
ZSCORE_MODES: tuple[ZscoreMode, ...] = get_args(ZscoreMode)
READINGS: tuple[ClassificationReading, ...] = get_args(ClassificationReading)
DVCTT_SCOPES: tuple[DvcttScope, ...] = get_args(DvcttScope)
COMPARISON_GROUPS: tuple[ComparisonGroup, ...] = get_args(ComparisonGroup)


def check_choice(what: str, value: object, allowed: tuple[str, ...]) -> None:
    """``ValueError`` ``unknown <what> 'x'; choose one of a, b, c`` unless ``value`` is one of
    ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}")
