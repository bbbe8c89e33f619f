"""The warehouse's writer lock (pipelines/store/lock.py): a second writing process
waits for the first instead of failing on DuckDB's file lock, gives up with a clear error after
its timeout, sessions nest within a thread, other threads wait, the Dagster resource holds it,
and the audit log shows sessions that never overlap."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from dti_assets.resources import Warehouse
from pipelines.store.lock import LOG_ENV, TIMEOUT_ENV, WarehouseBusyError
from pipelines.store.warehouse import session

HOLDER = """
import sys, time
from pathlib import Path
from pipelines.store.warehouse import session
database, ready, released, seconds = sys.argv[1:5]
with session(database) as con:
    con.execute("CREATE TABLE IF NOT EXISTS t (who TEXT)")
    con.execute("INSERT INTO t VALUES ('holder')")
    Path(ready).write_text("ready")
    time.sleep(float(seconds))
    Path(released).write_text(str(time.monotonic_ns()))
"""


def _holder(tmp_path: Path, database: Path, seconds: float) -> tuple[subprocess.Popen, Path]:
    """A process holding a read-write session for ``seconds``; returns it once it holds it."""
    ready, released = tmp_path / "ready", tmp_path / "released"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database), str(ready), str(released), str(seconds)],
        env={k: v for k, v in os.environ.items() if k != TIMEOUT_ENV},
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert process.poll() is None, "the holder died"
        assert time.monotonic() < deadline, "the holder never got the warehouse"
        time.sleep(0.02)
    return process, released


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    holder, released = _holder(tmp_path, database, 1.5)
    # what the lock prevents: DuckDB itself refuses a second writing process
    with pytest.raises(duckdb.IOException, match="lock"):
        duckdb.connect(str(database))
    with session(database) as con:
        acquired = time.monotonic_ns()
        con.execute("INSERT INTO t VALUES ('second')")
        rows = con.execute("SELECT who FROM t ORDER BY who").fetchall()
    assert holder.wait(timeout=60) == 0
    assert acquired >= int(released.read_text())
    assert rows == [("holder",), ("second",)]


def test_a_writer_that_waits_too_long_gets_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    database = tmp_path / "w.duckdb"
    holder, _ = _holder(tmp_path, database, 3)
    monkeypatch.setenv(TIMEOUT_ENV, "0.3")
    started = time.monotonic()
    with pytest.raises(WarehouseBusyError) as raised, session(database):
        pass
    waited = time.monotonic() - started
    holder.wait(timeout=60)
    message = str(raised.value)
    assert str(database) in message and f"pid {holder.pid}" in message and TIMEOUT_ENV in message
    assert 0.3 <= waited < 2.5


def test_sessions_nest_in_a_thread_and_other_threads_wait(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    events: list[str] = []

    def other_thread() -> None:
        with session(database):
            events.append("other")

    with session(database) as outer:
        with session(database) as inner:  # the same thread: no wait for itself
            inner.execute("CREATE TABLE t (x INTEGER)")
        thread = threading.Thread(target=other_thread)
        thread.start()
        time.sleep(0.5)
        events.append("outer still open")
        outer.execute("INSERT INTO t VALUES (1)")
    thread.join(timeout=30)
    assert events == ["outer still open", "other"]


def test_the_dagster_resource_holds_the_lock(tmp_path: Path, monkeypatch) -> None:
    database = tmp_path / "w.duckdb"
    probe = (
        "import sys\n"
        "from pipelines.store.warehouse import session\n"
        "from pipelines.store.lock import WarehouseBusyError\n"
        "try:\n"
        "    with session(sys.argv[1]):\n"
        "        print('opened')\n"
        "except WarehouseBusyError:\n"
        "    print('busy')\n"
    )
    env = {**os.environ, TIMEOUT_ENV: "0.3"}
    with Warehouse(database=str(database)).connect():
        inside = subprocess.run(
            [sys.executable, "-c", probe, str(database)], env=env, capture_output=True, text=True
        )
    after = subprocess.run(
        [sys.executable, "-c", probe, str(database)], env=env, capture_output=True, text=True
    )
    assert (inside.stdout.strip(), after.stdout.strip()) == ("busy", "opened"), inside.stderr


def test_the_audit_log_has_one_line_per_session(tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "sessions.log"
    monkeypatch.setenv(LOG_ENV, str(log))
    database = tmp_path / "w.duckdb"
    for _ in range(2):
        with session(database), session(database):  # nested: one session
            pass
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [int(pid) for pid, _, _ in lines] == [os.getpid()] * 2
    (_, start1, end1), (_, start2, end2) = ([int(v) for v in line] for line in lines)
    assert start1 <= end1 <= start2 <= end2


def test_dti_says_the_warehouse_is_busy_in_one_line(tmp_path: Path, monkeypatch) -> None:
    """A reader (``dti status``) and a writer that gives up (``dti override``) while another
    process writes: exit code 1 and one line naming the file and the writing process."""
    from click.testing import CliRunner

    from dti_cli.main import cli

    database = tmp_path / "w.duckdb"
    holder, _ = _holder(tmp_path, database, 4)
    monkeypatch.setenv("DTI_WAREHOUSE", str(database))
    monkeypatch.setenv(TIMEOUT_ENV, "0.3")
    reader = CliRunner().invoke(cli, ["status"])
    writer = CliRunner().invoke(cli, ["override", "2024", "commune", "--by", "a", "--reason", "b"])
    holder.wait(timeout=60)
    for result in (reader, writer):
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert f"{database}: another process (pid {holder.pid}) is writing" in result.output
