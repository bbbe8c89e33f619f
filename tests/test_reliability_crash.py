"""Crash safety: a scoring run killed with SIGKILL in the middle of a write leaves the
warehouse consistent — no half snapshot, no partial year in any table — and the next run
completes.

The scoring stages run in a child process against a copy of a warehouse whose inputs changed
since it was last scored (so a half-applied write would show: old and new rows mixed). Two ways
of killing it:

- deterministic: ``DTI_PAUSE_BEFORE_COMMIT=<table>`` makes the child stop inside the
  transaction that writes that table, after its rows are written and before COMMIT
  (:func:`pipelines.store.warehouse.transaction`, test mode only); the test waits for the marker
  file
  and sends SIGKILL;
- random: the child runs normally and is killed after a random delay (seeded), several times.

After each kill the warehouse is opened as the next run would open it (DuckDB replays its
write-ahead log), checked (:func:`reliability_support.problems`), and the stages are run again
to completion.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import reliability_support as support

from pipelines.framework.preset import load_preset
from pipelines.intake.demo import write_demo_submissions
from pipelines.store.checks import run_check
from pipelines.store.warehouse import connect

pytestmark = pytest.mark.system

YEAR = 2024
CHILD = [sys.executable, str(Path(support.__file__)), "score"]


@pytest.fixture(scope="module")
def changed_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A warehouse scored once (2024), then given resubmissions of every unit, ingested and
    validated but not scored yet; closed, so that it can be copied."""
    home = tmp_path_factory.mktemp("crash")
    preset = load_preset(support.TINY6)
    path, inbox, archive, first = support.scored_once(home, preset, YEAR)
    assert all(r.created for r in first)
    con = connect(path)
    try:
        # every unit sends its file again with other values (another seed), later
        resent = dataclasses.replace(preset, demo={**preset.demo, "seed": 8})
        later = home / "resent"
        write_demo_submissions(resent, later, [YEAR])
        target = inbox / str(YEAR) / "resent"
        shutil.copytree(later / str(YEAR), target)
        for file in target.rglob("*.xlsx"):
            os.utime(file, (time.time() + 60, time.time() + 60))
        support.intake_year(con, preset, YEAR, inbox, archive)
        before = support.dump(con)
    finally:
        con.close()
    return path, before


def _copy(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "w.duckdb"
    shutil.copyfile(base, target)
    return target


def _run_child(warehouse: Path, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen(
        [*CHILD, str(warehouse), str(support.TINY6), str(YEAR)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_consistent(warehouse: Path, preset) -> None:
    con = connect(warehouse)  # as the next run opens it: replays the WAL, migrates
    try:
        assert support.problems(con, preset, YEAR) == []
        assert support.duplicated_rows(con) == {}
    finally:
        con.close()


def _finish_and_check(warehouse: Path, preset) -> None:
    """The next run completes and leaves a fully consistent, checked year."""
    rerun = _run_child(warehouse)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, out + err
    con = connect(warehouse)
    try:
        assert support.problems(con, preset, YEAR) == []
        for name in ("parts_add_up", "points_within_maximum", "ranks_form_a_ranking"):
            assert run_check(con, name, YEAR).passed, name
        # the rescoring is snapshotted: one more scoring of every level and method
        n = con.execute("SELECT count(*) FROM snapshots WHERE year = ?", [YEAR]).fetchone()[0]
        assert n == 2 * len(preset.levels) * len(preset.methods)
    finally:
        con.close()


@pytest.mark.parametrize(
    "pause",
    # "<label>#n": the n-th transaction block with that label; the snapshots of a year are one
    # commit, so a third "snapshots" block exists only if they are written one by one — then the
    # kill lands after two snapshots were committed (half a year)
    ["leaf_scores", "node_scores", "ranks", "snapshots", "snapshots#3"],
)
def test_sigkill_inside_a_write_leaves_the_warehouse_consistent(
    changed_inputs, tmp_path: Path, pause: str
):
    base, before = changed_inputs
    preset = load_preset(support.TINY6)
    table = pause.partition("#")[0]
    warehouse = _copy(base, tmp_path)
    marker = tmp_path / "paused"
    child = _run_child(
        warehouse,
        {
            "DTI_PAUSE_BEFORE_COMMIT": pause,
            "DTI_PAUSE_MARKER": str(marker),
            "DTI_PAUSE_SECONDS": "120",
        },
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:  # ran to the end without reaching the pause
                out, err = child.communicate()
                assert "#" in pause and child.returncode == 0, out + err
                break
            assert time.monotonic() < deadline, "the child never reached the pause"
            time.sleep(0.05)
        else:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
            assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    if not marker.exists():
        _check_consistent(warehouse, preset)
        return

    _check_consistent(warehouse, preset)
    con = connect(warehouse)
    try:
        after = support.dump(con)
    finally:
        con.close()
    # the killed transaction left nothing: the table is exactly as before the run
    assert after[table] == before[table]
    if table == "snapshots":
        assert after["snapshot_scores"] == before["snapshot_scores"]
    _finish_and_check(warehouse, preset)


def test_sigkill_at_random_moments_then_the_next_run_completes(changed_inputs, tmp_path: Path):
    base, _ = changed_inputs
    preset = load_preset(support.TINY6)
    started = time.monotonic()
    timed = _run_child(_copy(base, tmp_path))
    out, err = timed.communicate(timeout=300)
    assert timed.returncode == 0, out + err
    duration = time.monotonic() - started
    # several crashes in a row on the same file, each at a random moment of the run
    warehouse = _copy(base, tmp_path)
    rng = random.Random(7)
    for _ in range(4):
        child = _run_child(warehouse)
        time.sleep(rng.uniform(0.3 * duration, duration))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        _check_consistent(warehouse, preset)
    _finish_and_check(warehouse, preset)
