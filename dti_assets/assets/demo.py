"""The demo's synthetic submissions, written into the inbox the ingest reads."""

import dagster as dg

from dti_assets.assets.common import year_metadata
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings
from pipelines.intake.demo import write_demo_submissions


@dg.asset(
    **yearly_stage("demo", warehouse=False),
    kinds={"excel"},
    description="SYNTHETIC: seeded self-assessment and appraisal workbooks for the demo.",
)
def demo_submissions(
    context: dg.AssetExecutionContext, settings: DtiSettings
) -> dg.MaterializeResult:
    inbox = settings.inbox_dir()
    files = write_demo_submissions(settings.load_preset(), inbox, years_of(context))
    for year in years_of(context):
        written = [f for f in files if f.relative_to(inbox).parts[0] == str(year)]
        year_metadata(context, year, {"files": len(written)})
    return dg.MaterializeResult(metadata={"inbox": str(inbox), "synthetic": True})
