"""Start Dagster runs of the code location from the command line, in process.

Each job runs **once for a whole range of years** (a partition range: every asset has the
single-run backfill policy, so each step covers all the years) instead of once per year: the
demo's five years are two runs, not ten (the per-run overhead — plan, resources,
events, instance writes — was paid ten times). Years that are not contiguous run as several
ranges. Every year's outcome is reported as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import paths

LOCAL_INSTANCE = """\
# Written by `dti` for its own Dagster home: runs, events and schedules in SQLite files here.
# The production instance (Postgres, run queue, pool limits) is the repository's dagster.yaml.
telemetry:
  enabled: false
"""
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
# Dagster's run tags for a partition range (one run over several partitions)
RANGE_START_TAG, RANGE_END_TAG = (
    "dagster/asset_partition_range_start",
    "dagster/asset_partition_range_end",
)


@dataclass(frozen=True)
class RunOutcome:
    job: str
    year: int
    success: bool
    seconds: float
    run_id: str
    failed_checks: list[str]
    error: str | None = None
    # what the intake saw, per inbox year ("2024" → IngestSummary.as_metadata()), from the
    # raw_submissions materialization of the run (empty when the run did not ingest)
    intake: dict[str, dict] = field(default_factory=dict)


def dagster_instance():
    """The persistent instance in ``$DAGSTER_HOME`` (default ``<DTI_HOME>/dagster``), so runs
    started here show up in ``dagster dev`` started with the same home."""
    from dagster import DagsterInstance

    chosen = "DAGSTER_HOME" in os.environ
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(paths.dti_home() / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not chosen and not config.exists():
        # dti's own home: a local instance (SQLite in this folder) that sends nothing out — a
        # provincial server has no reason to report usage, and Dagster asks for the file
        config.write_text(LOCAL_INSTANCE, encoding="utf-8")
    return DagsterInstance.get()


@dataclass(frozen=True)
class StepEvent:
    """A step (an asset) of a running job starting or ending, as the instance recorded it."""

    step: str  # the step key: the asset's name
    kind: str  # start | success | failure
    seconds: float | None = None  # start to end, for success and failure
    # the counts the step's materializations recorded (files_seen, rows …), summed over years
    counts: dict[str, int] = field(default_factory=dict)


# metadata entries that count what a step produced, in the order they are reported
COUNT_KEYS = ("files_seen", "files", "rows")


class StepWatcher:
    """Reads a run's step events from the instance's event log while the run executes (a
    background thread polling every ``interval`` seconds) and hands each start and end of a step
    to ``on_step`` as it happens; :meth:`stop` reads what is left after the run."""

    def __init__(
        self, instance, run_id: str, on_step: Callable[[StepEvent], None], interval: float = 0.2
    ) -> None:
        import threading

        self.instance, self.run_id, self.on_step, self.interval = (
            instance,
            run_id,
            on_step,
            interval,
        )
        self.cursor: str | None = None
        self.started: dict[str, float] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, name=f"dti-steps-{run_id}", daemon=True)

    def __enter__(self) -> StepWatcher:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop polling and hand over the events not yet seen."""
        self.done.set()
        self.thread.join()
        self._read()

    def _poll(self) -> None:
        while not self.done.wait(self.interval):
            self._read()

    def _read(self) -> None:
        from dagster import DagsterEventType

        kinds = {
            DagsterEventType.STEP_START,
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.ASSET_MATERIALIZATION,
        }
        while True:
            page = self.instance.get_records_for_run(
                self.run_id, cursor=self.cursor, of_type=kinds, limit=200
            )
            for record in page.records:
                self._handle(record.event_log_entry)
            self.cursor = page.cursor
            if not page.has_more:
                return

    def _handle(self, entry) -> None:
        event = entry.dagster_event
        step = event.step_key or ""
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = entry.timestamp
            self.on_step(StepEvent(step, "start"))
        elif kind == "ASSET_MATERIALIZATION":
            counts = self.counts.setdefault(step, {})
            metadata = event.event_specific_data.materialization.metadata
            for key in COUNT_KEYS:
                value = metadata.get(key)
                if value is not None and isinstance(value.value, int | float):
                    counts[key] = counts.get(key, 0) + int(value.value)
        else:
            seconds = entry.timestamp - self.started.get(step, entry.timestamp)
            outcome = "success" if kind == "STEP_SUCCESS" else "failure"
            self.on_step(StepEvent(step, outcome, seconds, self.counts.pop(step, {})))


def run_job(
    job_name: str,
    year: int | list[int],
    instance,
    settings: dict | None = None,
    on_step: Callable[[StepEvent], None] | None = None,
) -> RunOutcome:
    """Materialise one year (partition), or a contiguous range of years in one run, of a job in
    this process; ``on_step`` hears each step start and end while the run goes on."""
    from dagster._core.utils import make_new_run_id

    from dti_assets.definitions import defs
    from dti_assets.resources import DtiSettings

    years = [year] if isinstance(year, int) else list(year)
    job = defs.resolve_job_def(job_name)
    started = time.perf_counter()
    resources = {"settings": DtiSettings(**settings)} if settings else None
    if len(years) == 1:
        where: dict = {"partition_key": str(years[0])}
    else:
        where = {
            "tags": {
                RANGE_START_TAG: str(years[0]),
                RANGE_END_TAG: str(years[-1]),
            }
        }
    run_id = make_new_run_id()
    watcher = StepWatcher(instance, run_id, on_step) if on_step else contextlib.nullcontext()
    with watcher:
        result = job.execute_in_process(
            instance=instance,
            run_config=QUIET_LOGS,
            resources=resources,
            raise_on_error=False,
            run_id=run_id,
            **where,
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
        years[0],
        result.success,
        time.perf_counter() - started,
        result.run_id,
        failed_checks,
        error,
        intake_of(result),
    )


def intake_of(result) -> dict[str, dict]:
    """Per inbox year, what the run's ``raw_submissions`` step recorded on that year's partition
    (files seen, new, unchanged, refused and where their receipts are); empty when the step did
    not run."""
    intake: dict[str, dict] = {}
    for event in result.all_events:
        if event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() != "raw_submissions":
            continue
        if materialization.partition is not None:
            intake[materialization.partition] = {
                key: entry.value for key, entry in materialization.metadata.items()
            }
    return intake


def year_ranges(years: list[int]) -> list[list[int]]:
    """Sorted years as contiguous ranges: [2021, 2022, 2024] → [[2021, 2022], [2024]]."""
    ranges: list[list[int]] = []
    for year in sorted(set(years)):
        if ranges and year == ranges[-1][-1] + 1:
            ranges[-1].append(year)
        else:
            ranges.append([year])
    return ranges


def run_years(
    years: list[int],
    settings: dict | None,
    with_demo: bool,
    on_progress: Callable[[str, int | str, RunOutcome | None], None],
    on_step: Callable[[StepEvent], None] | None = None,
) -> list[RunOutcome]:
    """For each contiguous range of years: (demo inbox), then the annual job, one run each.
    ``on_progress(stage, years, outcome)`` is called before (outcome None) and after each run
    (``years`` is the year, or ``"2021–2025"``), ``on_step`` at each step's start and end; one
    outcome per year and job is returned."""
    instance = dagster_instance()
    outcomes = []
    for group in year_ranges(years):
        label: int | str = group[0] if len(group) == 1 else f"{group[0]}–{group[-1]}"
        jobs = (["dti_demo_inbox"] if with_demo else []) + ["dti_annual"]
        for job in jobs:
            on_progress(job, label, None)
            outcome = run_job(job, group, instance, settings, on_step)
            outcomes += [dataclasses.replace(outcome, year=y) for y in group]
            on_progress(job, label, outcome)
            if not outcome.success:
                return outcomes
    return outcomes
