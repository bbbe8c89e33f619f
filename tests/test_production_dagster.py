"""The production Dagster set-up: the repository's ``dagster.yaml`` (Postgres run,
schedule and event log storage, run queue, pool limit) with ``dagster-daemon`` running the
schedules and the inbox sensor; a scheduled tick produces a run, recorded in Postgres, that
scores the year.

Debian's PostgreSQL (``make system-deps``) is started on 127.0.0.1 on a free port with a
throwaway data directory (``production_support.postgres_server``); the test skips, saying why,
where it is not installed.

**Which schedule ticks.** The annual schedule's cron (``0 6 1 4 *``, 1 April) cannot be waited
for, and ``build_schedule_context`` would call the schedule function without the daemon, the
queue or Postgres. So the test loads a test-only code location that has the real assets, jobs,
annual schedule and inbox sensor, with test resources (the six-year tiny preset, temporary
warehouse and inbox), plus one extra schedule, ``annual_every_minute``: the same job on a
per-minute cron. Both schedules are switched on with ``dagster schedule start`` (their state is
stored in Postgres); the test waits for the daemon's tick of the minute schedule, the run it
queues and launches, and checks every record in Postgres and the warehouse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import reliability_support as support
from production_support import dagster_home, postgres_server, stop_process_group

from dti_assets.sensors import CURSOR_VERSION, scan_inbox
from pipelines.framework.preset import load_preset
from pipelines.intake.demo import write_demo_submissions
from pipelines.store.warehouse import connect

pytestmark = pytest.mark.system

BIN = Path(sys.executable).parent
LOCATION = '''"""TEST ONLY: the dti code location with test resources and a per-minute schedule."""
import dagster as dg

from dti_assets.definitions import all_assets
from dti_assets.jobs import annual_job, annual_schedule, demo_inbox_job
from dti_assets.resources import DtiSettings, Warehouse
from dti_assets.sensors import inbox_sensor

FAST = {{
    "execution": {{"config": {{"in_process": {{}}}}}},
    "ops": {{"year_report": {{"config": {{"data_docs": False}}}}}},
}}


@dg.schedule(cron_schedule="* * * * *", job=annual_job, execution_timezone="Asia/Ho_Chi_Minh")
def annual_every_minute(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """TEST ONLY: the annual job, every minute, for 2024."""
    tick = context.scheduled_execution_time
    key = f"minute-{{tick:%Y%m%d%H%M}}"
    return dg.RunRequest(run_key=key, partition_key="2024", run_config=FAST)


defs = dg.Definitions(
    assets=all_assets,
    jobs=[annual_job, demo_inbox_job],
    schedules=[annual_schedule, annual_every_minute],
    sensors=[inbox_sensor],
    resources={{
        "warehouse": Warehouse(database={warehouse!r}),
        "settings": DtiSettings(preset={preset!r}, inbox={inbox!r}, archive={archive!r}),
    }},
)
'''


def _location(base: Path) -> Path:
    (base / "inbox").mkdir(exist_ok=True)
    (base / "location.py").write_text(
        LOCATION.format(
            warehouse=str(base / "w.duckdb"),
            preset=str(support.TINY6),
            inbox=str(base / "inbox"),
            archive=str(base / "archive"),
        ),
        encoding="utf-8",
    )
    workspace = base / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_file:\n"
        f"      relative_path: {base / 'location.py'}\n"
        f"      working_directory: {base}\n"
        "      location_name: dti\n",
        encoding="utf-8",
    )
    return workspace


def _wait(what: str, check, timeout: float, daemon: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        assert daemon.poll() is None, "dagster-daemon died:\n" + log.read_text()[-4000:]
        time.sleep(2)
    pytest.fail(f"timed out waiting for {what}\n" + log.read_text()[-4000:])


def test_a_scheduled_tick_produces_a_run_recorded_in_postgres(tmp_path: Path):
    with postgres_server() as pg:
        home = dagster_home(tmp_path)
        env = {**os.environ, **pg.env(), "DAGSTER_HOME": str(home), "DTI_HOME": str(tmp_path)}
        env.pop("DTI_WAREHOUSE", None)
        workspace = _location(tmp_path)

        def dagster(*args: str) -> str:
            done = subprocess.run(
                [str(BIN / "dagster"), *args], env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stdout + done.stderr
            return done.stdout

        dagster("instance", "migrate")
        dagster("instance", "concurrency", "set", "dti_warehouse", "1")
        info = dagster("instance", "info")
        assert "PostgresRunStorage" in info and "PostgresScheduleStorage" in info
        assert "default_limit: 1" in info  # the warehouse pool holds one slot
        for schedule in ("annual_schedule", "annual_every_minute"):
            dagster("schedule", "start", schedule, "-w", str(workspace))
        # the units' workbooks of 2024 are in the inbox already, and the sensor has seen them
        # (its cursor, stored in Postgres): it ticks without asking for runs of its own
        preset = load_preset(support.TINY6)
        write_demo_submissions(preset, tmp_path / "inbox", [2024])
        _, state, _ = scan_inbox(tmp_path / "inbox", {}, {"2024"})
        cursor = json.dumps({"version": CURSOR_VERSION, "files": state}, sort_keys=True)
        dagster("sensor", "cursor", "inbox_sensor", "--set", cursor, "-w", str(workspace))
        dagster("sensor", "start", "inbox_sensor", "-w", str(workspace))

        log = tmp_path / "daemon.log"
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=tmp_path,
        )
        try:
            run_id, status = _wait(
                "a successful run of the minute schedule",
                lambda: _finished_run(pg, "annual_every_minute"),
                timeout=300,
                daemon=daemon,
                log=log,
            )
            assert status == "SUCCESS", log.read_text()[-4000:]
            _wait(
                "a tick of the inbox sensor",
                lambda: _ticks(pg, "inbox_sensor"),
                timeout=90,
                daemon=daemon,
                log=log,
            )
        finally:
            stop_process_group(daemon)

        # every record is in Postgres: the schedules' state, the tick and its run, the run's
        # events; the sensor's ticks, none of which asked for a run
        assert not pg.query("SELECT run_id FROM run_tags WHERE key = 'dagster/sensor_name'"), (
            "the sensor asked for runs although it had seen every file"
        )
        for name in ("annual_schedule", "annual_every_minute", "inbox_sensor"):
            assert pg.query(
                "SELECT status FROM instigators WHERE instigator_body LIKE %s "
                "OR instigator_body LIKE %s",
                _name_patterns(name),
            ) == [("RUNNING",)], name
        ticks = _ticks(pg, "annual_every_minute")
        assert "SUCCESS" in {status for status, _ in ticks}
        assert any(run_id in body for _, body in ticks)
        assert pg.query(
            # RUN_SUCCESS is stored under its historical name PIPELINE_SUCCESS
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type IN "
            "('RUN_SUCCESS', 'PIPELINE_SUCCESS')",
            (run_id,),
        ) == [(1,)]
        tags = dict(pg.query("SELECT key, value FROM run_tags WHERE run_id = %s", (run_id,)))
        assert tags["dagster/partition"] == "2024"

    con = connect(tmp_path / "w.duckdb")
    try:
        # the scheduled run ingested, validated and scored 2024, and snapshotted it
        assert con.execute("SELECT count(*) FROM snapshots WHERE year = 2024").fetchone()[0] == 6
        assert con.execute("SELECT count(*) FROM submissions").fetchone()[0] == 4 + 5 + 2
    finally:
        con.close()


def _finished_run(pg, schedule: str) -> tuple[str, str] | None:
    rows = pg.query(
        "SELECT r.run_id, r.status FROM runs r JOIN run_tags t ON t.run_id = r.run_id "
        "WHERE t.key = 'dagster/schedule_name' AND t.value = %s ORDER BY r.create_timestamp",
        (schedule,),
    )
    done = [(run_id, status) for run_id, status in rows if status in ("SUCCESS", "FAILURE")]
    return done[0] if done else None


def _ticks(pg, name: str) -> list[tuple[str, str]]:
    return pg.query(
        "SELECT status, tick_body FROM job_ticks WHERE tick_body LIKE %s OR tick_body LIKE %s",
        _name_patterns(name),
    )


def _name_patterns(name: str) -> tuple[str, str]:
    """An instigator's name in Dagster's serialised bodies (stored as ``job_name`` by older
    serialisation names, ``instigator_name`` by newer ones)."""
    return (f'%"job_name": "{name}"%', f'%"instigator_name": "{name}"%')
