"""Reference data for a year: the unit registry and the framework version of each level."""

import dagster as dg

from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.reference import store_reference


@dg.asset(
    **yearly_stage("reference"),
    kinds={"duckdb"},
    description="Units of the registry and the framework version each level uses that year.",
)
def reference_data(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    with warehouse.connect() as con:
        used = {year: store_reference(con, preset, year) for year in years_of(context)}
    return dg.MaterializeResult(
        metadata={
            "preset": preset.id,
            "units": preset.registry.height,
            "framework_hashes": {str(y): h for y, h in used.items()},
        }
    )
