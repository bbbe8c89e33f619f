"""The README's main job, for one year, through the real ``dti`` command and Dagster."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import DemoYear, subprocess_env

pytestmark = pytest.mark.system


def _run_demo(dti: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dti, "demo", "--years", "2024"],
        env=subprocess_env(home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _dump(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


def test_demo_job_scores_every_level_and_is_idempotent(dti_executable: str, demo_2024: DemoYear):
    first, home = demo_2024.run, demo_2024.home
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "DTI 2024" in out
    for level, count in (("Cấp sở (sở, ban, ngành)", 18), ("Cấp huyện", 15), ("Cấp xã", 184)):
        line = next(line for line in out.splitlines() if level in line)
        assert f" {count} " in line, line
    warehouse = demo_2024.warehouse
    assert str(warehouse) in out.replace("\n", "")

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        per_level = dict(
            con.execute(
                "SELECT level, count(*) FROM unit_totals WHERE year = 2024 AND method = 'minmax' "
                "GROUP BY level"
            ).fetchall()
        )
        assert per_level == {"department": 18, "district": 15, "commune": 184}
        # every demo file is archived and marked synthetic in its own identification sheet
        n_files = con.execute("SELECT count(*) FROM submissions WHERE year = 2024").fetchone()[0]
        assert n_files == 18 + 15 + 184 + 3  # one workbook per unit + one appraisal per level
        assert con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 0
        assert (
            con.execute(
                "SELECT count(*) FROM observations WHERE appraised_value IS NOT NULL "
                "AND appraised_value <> self_value"
            ).fetchone()[0]
            > 0
        )
    finally:
        con.close()
    archived = list((home / "archive").rglob("*.xlsx"))
    assert len(archived) == n_files

    before = _dump(warehouse)
    second = _run_demo(dti_executable, home)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _dump(warehouse) == before
