"""Sơn La's DVCTT rule under both scopes: the units whose class changes between the whole-index
base (the preset's default) and the pillar base (``docs/scoring.md``, "Per-unit rules")."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.choices import DVCTT_SCOPES
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rules import RuleSettings
from pipelines.text.labels import UNCLASSIFIED, vn_number

if TYPE_CHECKING:
    from pipelines.framework.preset import Preset


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


def report_scope_changes(con: Any, preset: Preset, year: int, levels: list[str]) -> dict[str, Any]:
    """Per level of ``levels`` whose observations the warehouse holds: the rows the report's
    method page shows for :func:`scope_class_changes` (``name``, ``index``, ``pillar``: points
    and class under each base), recomputed from the reported values with the preset's primary
    method. Empty when the preset does not switch the DVCTT rule on."""
    from pipelines.analysis.inputs import levels_with_data, load_input

    if not preset.rules.dvctt_proportional:
        return {}
    out: dict[str, Any] = {}
    for level in levels_with_data(con, preset, year):
        if level not in levels:
            continue
        inp = load_input(con, preset, year, level)
        changes = scope_class_changes(
            inp.values, inp.units, inp.framework, inp.nominal, inp.rules, inp.reading
        )
        out[level] = [
            {
                "name": inp.names.get(r["unit_id"], r["unit_id"]),
                **{
                    scope: f"{vn_number(r[f'points_{scope}'])} – "
                    f"{r[f'class_{scope}'] or UNCLASSIFIED}"
                    for scope in DVCTT_SCOPES
                },
            }
            for r in changes.iter_rows(named=True)
        ]
    return out
