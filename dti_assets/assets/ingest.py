"""Raw submissions: every workbook of the year archived, read, and stored with its refusals."""

import dagster as dg

from dti_assets.assets.reference import reference_data
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.ingest import ingest_year


@dg.asset(
    **yearly_stage("ingest"),
    deps=[reference_data],
    kinds={"excel", "duckdb"},
    description="Workbooks of the year: archived by content hash, every cell taken or refused.",
)
def raw_submissions(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    totals = {"files_seen": 0, "files_new": 0, "values_accepted": 0, "values_rejected": 0}
    refused: list[str] = []
    with warehouse.connect() as con:
        for year in years_of(context):
            summary = ingest_year(con, preset, year, settings.inbox_dir(), settings.archive_dir())
            context.log.info(f"{year}: {summary}")
            for key in totals:
                totals[key] += getattr(summary, key)
            refused += summary.files_refused
    return dg.MaterializeResult(metadata={**totals, "files_refused": refused[:50]})
