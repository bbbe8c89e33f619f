"""Reference data for a year: the unit registry and the framework version of each level."""

import dagster as dg

from dti_assets.assets.common import year_metadata
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.store.reference import store_reference


@dg.asset(
    **yearly_stage("reference"),
    kinds={"duckdb"},
    description="Units of the registry and the framework version each level uses that year.",
)
def reference_data(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            hashes = store_reference(con, preset, year)
            units = {level: len(preset.unit_ids(level, year)) for level in preset.levels}
            year_metadata(context, year, {"units": units, "framework_hashes": hashes})
    return dg.MaterializeResult(metadata={"preset": preset.id})
