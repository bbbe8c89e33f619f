"""Update periods: every recomputation of a year from changed inputs is recorded, so units can
see how their points and rank moved between updates within the year."""

import dagster as dg

from dti_assets.assets.score import unit_ranks
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.updates import record_update_period


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
    with warehouse.connect() as con:
        recorded = [record_update_period(con, preset, year) for year in years_of(context)]
    new = [p for p in recorded if p is not None]
    for period in new:
        context.log.info(
            f"{period.year}: update period {period.period} ({period.n_units} units, "
            f"{len(period.new_files)} new file(s))"
        )
    return dg.MaterializeResult(
        metadata={
            "new_periods": [f"{p.year} #{p.period}" for p in new] or "none (inputs unchanged)",
            "new_files": [f for p in new for f in p.new_files][:50],
        }
    )
