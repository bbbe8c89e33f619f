"""Publication: the public report (static HTML, Vietnamese, offline) and the Excel annex of the
approving decision, built from the year's snapshots."""

from pathlib import Path

import dagster as dg

from dti_assets.assets.common import year_metadata
from dti_assets.assets.publish import year_snapshot
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.report import build_year_annex, build_year_report, report_dir

# Reading DuckDB while another process writes fails: in the writers' pool, like them.
PUBLISH = {**yearly_stage("publish"), "deps": [year_snapshot]}


class ReportConfig(dg.Config):
    """Where the site goes (default ``$DTI_REPORT_DIR`` or ``$DTI_HOME/report``)."""

    out: str = ""
    data_docs: bool = True


def _out(config: ReportConfig) -> Path:
    return Path(config.out).resolve() if config.out else report_dir()


@dg.asset(
    **PUBLISH,
    kinds={"html", "plotly"},
    description="The year's public report: overview, one page per comparison group, one "
    "scorecard per unit, methodology, Great Expectations Data Docs; plotly bundled, no network.",
)
def year_report(
    context: dg.AssetExecutionContext,
    config: ReportConfig,
    warehouse: Warehouse,
    settings: DtiSettings,
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    out = _out(config)
    years = years_of(context)
    with warehouse.connect(preset) as con:
        outcomes = [
            build_year_report(
                con, preset, year, out, data_docs=config.data_docs, refresh_index=year == years[-1]
            )
            for year in years
        ]
    for outcome in outcomes:
        context.log.info(f"{outcome.year}: {outcome.pages} pages → {out / str(outcome.year)}")
        if not outcome.data_docs_built:
            context.log.warning(f"{outcome.year}: no Data Docs ({outcome.data_docs_error})")
        year_metadata(
            context,
            outcome.year,
            {
                "pages": outcome.pages,
                "folder": dg.MetadataValue.path(str(out / str(outcome.year))),
                "data_docs": outcome.data_docs_error or "built",
                "synthetic": outcome.synthetic,
                "snapshots": list(outcome.snapshot_ids),
            },
        )
    return dg.MaterializeResult(metadata={"index": dg.MetadataValue.path(str(out / "index.html"))})


@dg.asset(
    **PUBLISH,
    kinds={"excel"},
    description="Phụ lục Excel of the approving decision: one sheet per level (communes in "
    "sections by district) and the component detail; totals are the snapshot's own values.",
)
def year_annex(
    context: dg.AssetExecutionContext,
    config: ReportConfig,
    warehouse: Warehouse,
    settings: DtiSettings,
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    out = _out(config)
    years = years_of(context)
    with warehouse.connect(preset) as con:
        paths = [
            build_year_annex(con, preset, year, out, refresh_index=year == years[-1])
            for year in years
        ]
    for year, path in zip(years, paths, strict=True):
        year_metadata(context, year, {"path": dg.MetadataValue.path(str(path))})
    return dg.MaterializeResult()
