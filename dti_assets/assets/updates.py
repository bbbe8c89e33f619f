"""Update periods: every recomputation of a year from changed inputs is recorded, so units can
see how their points and rank moved between updates within the year."""

import dagster as dg

from dti_assets.assets.common import year_metadata
from dti_assets.assets.score import unit_ranks
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.evaluate.updates import record_update_period


@dg.asset(
    **yearly_stage("publish"),
    deps=[unit_ranks],
    kinds={"duckdb"},
    description="One update period per recomputation from changed inputs: every unit's total "
    "points and rank per method (`dti history --year Y --unit ID`). Unchanged inputs add nothing.",
)
def update_periods(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            period = record_update_period(con, preset, year)
            if period is None:
                year_metadata(context, year, {"new_period": "none (inputs unchanged)"})
                continue
            context.log.info(
                f"{period.year}: update period {period.period} ({period.n_units} units, "
                f"{len(period.new_files)} new file(s))"
            )
            year_metadata(
                context,
                year,
                {"new_period": period.period, "new_files": period.new_files[:50]},
            )
    return dg.MaterializeResult()
