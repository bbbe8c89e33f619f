"""Raw submissions: every file of the year archived, read, and stored with its refusals."""

import dagster as dg

from dti_assets.assets.common import year_metadata
from dti_assets.assets.reference import reference_data
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.intake.ingest import ingest_year


@dg.asset(
    **yearly_stage("ingest"),
    deps=[reference_data],
    kinds={"excel", "duckdb"},
    description="Files of the year: archived by content hash, every cell taken or refused, "
    "every file answered with a receipt.",
)
def raw_submissions(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            summary = ingest_year(con, preset, year, settings.inbox_dir(), settings.archive_dir())
            context.log.info(f"{year}: {summary}")
            year_metadata(context, year, summary.as_metadata())
    return dg.MaterializeResult()
