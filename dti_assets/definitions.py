"""The ``Definitions`` of the dti code location (loaded by ``dagster dev`` via workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from dti_assets.assets import (
    analysis,
    demo,
    ingest,
    publish,
    reference,
    report,
    score,
    updates,
    validate,
)
from dti_assets.jobs import analysis_job, annual_job, annual_schedule, demo_inbox_job
from dti_assets.resources import DtiSettings, Warehouse
from dti_assets.sensors import inbox_sensor
from pipelines import paths

all_assets = dg.load_assets_from_modules(
    [reference, demo, ingest, validate, score, publish, report, updates]
)
# Analysis for analysts (group "analysis", job dti_analysis), kept out of all_assets so that
# materialising "everything" for a year stays the annual pipeline.
analysis_assets = dg.load_assets_from_modules([analysis])

defs = dg.Definitions(
    assets=[*all_assets, *analysis_assets],
    jobs=[annual_job, demo_inbox_job, analysis_job],
    schedules=[annual_schedule],
    sensors=[inbox_sensor],
    resources={
        "warehouse": Warehouse(database=str(paths.warehouse_path())),
        "settings": DtiSettings(),
    },
)
