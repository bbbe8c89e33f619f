"""Helpers shared by the assets: turning pipeline outcomes into Dagster check results."""

import dagster as dg

from pipelines.checks import CheckOutcome


def check_result(asset: str, outcomes: list[CheckOutcome], name: str) -> dg.AssetCheckResult:
    """One check result for all years of a run: passed when no year has offending rows."""
    offending = [o for o in outcomes if not o.passed]
    sample = offending[0].offending.head(10) if offending else None
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=not offending,
        metadata={
            "description": outcomes[0].description if outcomes else "",
            "offending_rows": sum(o.offending.height for o in offending),
            "sample": dg.MetadataValue.json(sample.to_dicts() if sample is not None else []),
        },
    )
