"""Sơn La's DVCTT rule under both scopes: the units whose class changes between the whole-index
base (the preset's default) and the pillar base (``docs/scoring.md``, "Per-unit rules")."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rules import DVCTT_SCOPES, RuleSettings


def scope_class_changes(
    values: pl.DataFrame,
    units: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    rules: RuleSettings,
    reading: str | None = None,
) -> pl.DataFrame:
    """Score ``units`` with the DVCTT base over the whole index and over the pillar (everything
    else as given) and return the units whose class differs: ``unit_id, year, points_index,
    class_index, points_pillar, class_pillar``, by unit. Empty when the DVCTT rule is off."""
    schema = {"unit_id": pl.String, "year": pl.Int32}
    for scope in DVCTT_SCOPES:
        schema |= {f"points_{scope}": pl.Float64, f"class_{scope}": pl.String}
    columns = list(schema)
    if not rules.dvctt_proportional or framework.classification is None:
        return pl.DataFrame(schema=schema)
    totals = []
    for scope in DVCTT_SCOPES:
        scored = score(values, units, framework, spec, replace(rules, dvctt_scope=scope), reading)
        totals.append(
            scored.filter(pl.col("node_id") == framework.root_id).select(
                "unit_id",
                "year",
                pl.col("points").alias(f"points_{scope}"),
                pl.col("class_label").alias(f"class_{scope}"),
            )
        )
    both = totals[0].join(totals[1], on=["unit_id", "year"])
    changed = both.filter(
        pl.col("class_index").fill_null("") != pl.col("class_pillar").fill_null("")
    )
    return changed.select(columns).sort("year", "unit_id")
