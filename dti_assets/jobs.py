"""Jobs and the annual schedule."""

import datetime as dt

import dagster as dg

ANNUAL_STAGES = ("reference", "ingest", "validate", "score", "publish")

annual_job = dg.define_asset_job(
    "dti_annual",
    selection=dg.AssetSelection.groups(*ANNUAL_STAGES),
    description="Score a year: reference data → ingest → validate → score → snapshot.",
)

analysis_job = dg.define_asset_job(
    "dti_analysis",
    selection=dg.AssetSelection.groups("analysis"),
    description="Analysis of a scored year: method comparison, rank uncertainty and sensitivity, "
    "coherence, trends, strengths and weaknesses, one-framework backfill.",
)

demo_inbox_job = dg.define_asset_job(
    "dti_demo_inbox",
    selection=dg.AssetSelection.groups("demo"),
    description="Write the synthetic demo workbooks into the inbox.",
)


@dg.schedule(
    cron_schedule="0 6 1 4 *",
    job=annual_job,
    execution_timezone="Asia/Ho_Chi_Minh",
    description="Year N is scored on 1 April of N + 1 (early Q2): Đắk Lắk publishes before May.",
)
def annual_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    scheduled = context.scheduled_execution_time or dt.datetime.now()
    year = str(scheduled.year - 1)
    return dg.RunRequest(run_key=f"annual-{year}", partition_key=year)
