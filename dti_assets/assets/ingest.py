"""Raw submissions: every file of the year archived, read, and stored with its refusals."""

import dagster as dg

from dti_assets.assets.reference import reference_data
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.ingest import ingest_year

# the metadata key holding, per inbox year, what the intake saw (IngestSummary.as_metadata);
# `dti run` prints it
PER_YEAR_KEY = "per_year"


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
    totals = {"files_seen": 0, "files_new": 0, "files_unchanged": 0, "files_refused": 0}
    per_year: dict[str, dict] = {}
    with warehouse.connect() as con:
        for year in years_of(context):
            summary = ingest_year(con, preset, year, settings.inbox_dir(), settings.archive_dir())
            context.log.info(f"{year}: {summary}")
            per_year[str(year)] = summary.as_metadata()
            for key in totals:
                totals[key] += per_year[str(year)][key]
    return dg.MaterializeResult(metadata={**totals, PER_YEAR_KEY: dg.MetadataValue.json(per_year)})
