"""Start Dagster runs of the code location from the command line (in process, one per year)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines import paths

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass(frozen=True)
class RunOutcome:
    job: str
    year: int
    success: bool
    seconds: float
    run_id: str
    failed_checks: list[str]
    error: str | None = None


def dagster_instance():
    """The persistent instance in ``$DAGSTER_HOME`` (default ``<DTI_HOME>/dagster``), so runs
    started here show up in ``dagster dev`` started with the same home."""
    from dagster import DagsterInstance

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(paths.dti_home() / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    return DagsterInstance.get()


def run_job(job_name: str, year: int, instance, settings: dict | None = None) -> RunOutcome:
    """Materialise one year (partition) of a job in this process."""
    from dti_assets.definitions import defs
    from dti_assets.resources import DtiSettings

    job = defs.resolve_job_def(job_name)
    started = time.perf_counter()
    resources = {"settings": DtiSettings(**settings)} if settings else None
    result = job.execute_in_process(
        partition_key=str(year),
        instance=instance,
        run_config=QUIET_LOGS,
        resources=resources,
        raise_on_error=False,
    )
    failed_checks, error = [], None
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            evaluation = None
        else:
            evaluation = event.asset_check_evaluation_data
        if evaluation is not None and not evaluation.passed:
            failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        if event.is_step_failure and error is None:
            failure = event.step_failure_data.error
            error = failure.cause.message if failure and failure.cause else failure.message
    return RunOutcome(
        job_name,
        year,
        result.success,
        time.perf_counter() - started,
        result.run_id,
        failed_checks,
        error,
    )


def run_years(
    years: list[int],
    settings: dict | None,
    with_demo: bool,
    on_progress: Callable[[str, int, RunOutcome | None], None],
) -> list[RunOutcome]:
    """For each year: (demo inbox), then the annual job. ``on_progress(stage, year, outcome)``
    is called before (outcome None) and after each run."""
    instance = dagster_instance()
    outcomes = []
    for year in years:
        jobs = (["dti_demo_inbox"] if with_demo else []) + ["dti_annual"]
        for job in jobs:
            on_progress(job, year, None)
            outcome = run_job(job, year, instance, settings)
            outcomes.append(outcome)
            on_progress(job, year, outcome)
            if not outcome.success:
                break
    return outcomes
