"""Immutable snapshots of each year's results, per level and method."""

import dagster as dg

from dti_assets.assets.common import year_metadata
from dti_assets.assets.score import unit_ranks
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.publish.snapshot import take_snapshots


@dg.asset(
    **yearly_stage("publish"),
    deps=[unit_ranks],
    kinds={"duckdb"},
    description="Snapshot per year, level and method: framework version, input hash, method "
    "and parameters, code version. Same inputs → same snapshot; never overwritten.",
)
def year_snapshot(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            records = take_snapshots(con, preset, year)
            year_metadata(
                context,
                year,
                {
                    "snapshots": len(records),
                    "new": sum(r.created for r in records),
                    "ids": [f"{r.level} {r.method}: {r.snapshot_id}" for r in records],
                },
            )
    return dg.MaterializeResult()
