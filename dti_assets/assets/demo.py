"""The demo's synthetic submissions, written into the inbox the ingest reads."""

import dagster as dg

from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings
from pipelines.demo import write_demo_submissions


@dg.asset(
    **yearly_stage("demo", warehouse=False),
    kinds={"excel"},
    description="SYNTHETIC: seeded self-assessment and appraisal workbooks for the demo.",
)
def demo_submissions(
    context: dg.AssetExecutionContext, settings: DtiSettings
) -> dg.MaterializeResult:
    files = write_demo_submissions(settings.load_preset(), settings.inbox_dir(), years_of(context))
    return dg.MaterializeResult(
        metadata={"files": len(files), "inbox": str(settings.inbox_dir()), "synthetic": True}
    )
