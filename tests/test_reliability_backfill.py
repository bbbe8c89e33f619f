"""Concurrent backfill: six years (2020–2025) materialised as six concurrent runs —
one run per partition, each with Dagster's multiprocess executor, i.e. without the single-run
backfill policy — against the production instance (``dagster.yaml``: Postgres storage, pool
limit 1) finish without a single DuckDB lock failure.

Two mechanisms: every warehouse step is in the pool ``dti_warehouse`` (one slot), so steps of
different runs take turns in Dagster; and every warehouse session holds the writer lock
(``pipelines/store/lock.py``), so two sessions never overlap even when the pool lets two
steps through at once — dagster 1.13's slot claim on Postgres can (seen here: two
``reference_data`` steps started together; tests/test_warehouse_lock.py fails without the lock).

The test checks the outcome (six successful runs, every year scored and snapshotted, no lock
error anywhere in the logs), that the pool made steps wait, and, from the lock's audit log, that
no two warehouse sessions of any process were ever open at the same time.

The instance is the production ``dagster.yaml`` with one change: blocked pool claims are retried
every quarter second instead of backing off to 15 s (:mod:`support.prompt_claims`), so that a
freed slot does not stay idle for seconds; the runs contend for the warehouse more often, not less.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import reliability_support as support
from production_support import dagster_home, postgres_server

from pipelines.framework.preset import load_preset
from pipelines.intake.demo import write_demo_submissions
from pipelines.store.lock import LOG_ENV
from pipelines.store.warehouse import connect

pytestmark = pytest.mark.system(first=True)

YEARS = list(range(2020, 2026))
ASSETS = support.ANNUAL_ASSETS
DAGSTER = str(Path(sys.executable).parent / "dagster")
TESTS = Path(__file__).resolve().parent


def _run_config(home: Path) -> dict:
    return {
        "resources": {
            "settings": {
                "config": {
                    "preset": str(support.TINY6),
                    "inbox": str(home / "inbox"),
                    "archive": str(home / "archive"),
                }
            }
        },
        # Dagster's multiprocess executor; a forkserver with the code location (and Great
        # Expectations) preloaded keeps the per-step process start short
        "execution": {
            "config": {
                "multiprocess": {
                    "start_method": {
                        "forkserver": {
                            "preload_modules": [
                                "dti_assets.definitions",
                                "pipelines.validate.validation",
                                "great_expectations",
                            ]
                        }
                    }
                }
            }
        },
    }


def _overlaps(sessions: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """(pid, pid) of consecutive sessions where the next began before the previous ended."""
    ordered = sorted((start, end, pid) for pid, start, end in sessions)
    return [(a[2], b[2]) for a, b in itertools.pairwise(ordered) if b[0] < a[1]]


def test_six_year_backfill_with_the_multiprocess_executor_has_no_lock_failures(tmp_path: Path):
    preset = load_preset(support.TINY6)
    write_demo_submissions(preset, tmp_path / "inbox", YEARS)
    config = tmp_path / "run.json"
    config.write_text(json.dumps(_run_config(tmp_path)), encoding="utf-8")
    with postgres_server() as pg:
        home = dagster_home(tmp_path, prompt_claims=True)
        env = {
            **os.environ,
            **pg.env(),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
            "DAGSTER_HOME": str(home),
            "DTI_HOME": str(tmp_path),
            "DTI_PRESET": str(support.TINY6),  # the code location's partitions start in 2020
            LOG_ENV: str(tmp_path / "warehouse-sessions.log"),
        }
        env.pop("DTI_WAREHOUSE", None)
        # set the instance up once, as an operator does (docs/deployment.md): storage schema,
        # then the pool's limit (runs creating it concurrently race on its row)
        for command in (
            ["instance", "migrate"],
            ["instance", "concurrency", "set", "dti_warehouse", "1"],
        ):
            subprocess.run([DAGSTER, *command], env=env, check=True, capture_output=True)
        logs = {year: tmp_path / f"run-{year}.log" for year in YEARS}
        runs = [
            subprocess.Popen(
                [
                    DAGSTER,
                    "asset",
                    "materialize",
                    "-m",
                    "dti_assets.definitions",
                    "--select",
                    ",".join(ASSETS),
                    "--partition",
                    str(year),
                    "-c",
                    str(config),
                ],
                env=env,
                stdout=logs[year].open("w"),
                stderr=subprocess.STDOUT,
            )
            for year in YEARS
        ]
        codes = [run.wait(timeout=1500) for run in runs]
        text = {year: path.read_text(encoding="utf-8") for year, path in logs.items()}
        assert codes == [0] * len(YEARS), {y: t[-3000:] for y, t in text.items() if "FAIL" in t}
        for year, log in text.items():
            for needle in ("Could not set lock", "Conflicting lock", "IOException"):
                assert needle not in log, f"{year}: {needle}"

        statuses = pg.query("SELECT status, count(*) FROM runs GROUP BY status")
        assert statuses == [("SUCCESS", len(YEARS))]
        assert any("Step blocked by limit for pool dti_warehouse" in log for log in text.values())
        lines = (tmp_path / "warehouse-sessions.log").read_text().splitlines()
        sessions = [tuple(int(v) for v in line.split()) for line in lines]
        assert len(sessions) >= len(YEARS) * len(ASSETS)  # every step opened the warehouse
        assert _overlaps(sessions) == []

    con = connect(tmp_path / "warehouse" / "dti.duckdb")
    try:
        scored = con.execute("SELECT DISTINCT year FROM snapshots ORDER BY year").fetchall()
        assert [y for (y,) in scored] == YEARS
        for year in YEARS:
            assert support.problems(con, preset, year) == []
        assert support.duplicated_rows(con) == {}
    finally:
        con.close()


def test_the_backfill_instance_is_the_production_one_but_for_claim_polling(tmp_path: Path):
    """What the backfill above runs against: the repository's ``dagster.yaml`` with only the
    event log storage's class swapped for the production class polling blocked claims promptly.
    (Collected right after the backfill, it is the one test a parallel run queues behind it.)"""
    import yaml
    from dagster_postgres.event_log import PostgresEventLogStorage
    from production_support import DAGSTER_YAML
    from support.prompt_claims import PromptClaimsPostgresEventLogStorage

    production = yaml.safe_load(DAGSTER_YAML.read_text(encoding="utf-8"))
    home = dagster_home(tmp_path, prompt_claims=True)
    used = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))
    storage = used.pop("event_log_storage")
    wanted = production.pop("event_log_storage")
    assert used == production
    assert storage["config"] == wanted["config"]
    assert (storage["module"], storage["class"]) == (
        "support.prompt_claims",
        "PromptClaimsPostgresEventLogStorage",
    )
    assert issubclass(PromptClaimsPostgresEventLogStorage, PostgresEventLogStorage)
