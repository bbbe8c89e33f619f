"""Helpers shared by the assets: metadata and check results per year partition.

A run may cover several years (the single-run backfill policy: the demo, a backfill), yet each
year's materialisation and check evaluation must carry that year's figures only, so that the UI
shows, partition by partition, what happened to that year."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from pipelines.store.checks import CheckOutcome


def year_metadata(context: dg.AssetExecutionContext, year: int, metadata: Mapping[str, Any]):
    """Attach ``metadata`` to the materialisation of ``year``'s partition only."""
    context.add_asset_metadata(dict(metadata), partition_key=str(year))


def year_check(
    context: dg.AssetExecutionContext,
    check_name: str,
    year: int,
    passed: bool,
    metadata: Mapping[str, Any],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    description: str | None = None,
) -> dg.AssetCheckEvaluation:
    """One check's evaluation on one year's partition (the UI shows it under that year)."""
    [spec] = [s for s in context.assets_def.check_specs if s.name == check_name]
    return dg.AssetCheckEvaluation(
        asset_key=spec.asset_key,
        check_name=check_name,
        passed=passed,
        metadata=dict(metadata),
        severity=severity,
        description=description,
        blocking=spec.blocking,
        partition=str(year),
    )


def checks_done(context: dg.AssetExecutionContext, *check_names: str) -> Iterator[dg.Output]:
    """The checks' step outputs, once per run after their per-year evaluations (Dagster expects
    each declared check output once; the evaluations carry the results)."""
    for spec in context.assets_def.check_specs:
        if spec.name in check_names:
            output = context.assets_def.get_output_name_for_asset_check_key(spec.key)
            yield dg.Output(None, output_name=output)


def outcome_check(
    context: dg.AssetExecutionContext, year: int, outcome: CheckOutcome
) -> dg.AssetCheckEvaluation:
    """A :mod:`pipelines.store.checks` outcome of one year as that year's check evaluation."""
    sample = outcome.offending.head(10)
    return year_check(
        context,
        outcome.name,
        year,
        outcome.passed,
        {
            "description": outcome.description,
            "offending_rows": outcome.offending.height,
            "sample": dg.MetadataValue.json(sample.to_dicts()),
        },
        description=outcome.description,
    )
