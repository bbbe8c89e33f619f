"""The demo's inbox: written on every core, received in one fixed order."""

from __future__ import annotations

from pathlib import Path

from reliability_support import TINY6

from pipelines import parallel
from pipelines.framework.preset import load_preset
from pipelines.intake.demo import write_demo_submissions
from pipelines.intake.received_files import submission_files


def test_demo_files_arrive_in_the_order_they_are_listed(tmp_path: Path, monkeypatch) -> None:
    """Forked workers finish the workbooks in no fixed order; intake numbers a year's files by
    arrival (modification time), so the demo stamps them in the order of its jobs — each
    level's units, then its appraisal — and the receipt numbers are the same on every run."""
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    preset = load_preset(TINY6)
    written = write_demo_submissions(preset, tmp_path)  # every year of the preset
    assert len(written) >= 2 * parallel.MIN_JOBS_PER_WORKER  # enough to use the workers
    for year in preset.years:  # intake takes a year's folder at a time
        of_year = [path for path in written if path.parts[-3] == str(year)]
        assert submission_files(tmp_path, year) == of_year
        for level in preset.levels:
            mine = [path.name for path in of_year if path.parent.name == level]
            assert mine[-1].startswith("THAM_DINH"), mine  # the appraisal comes last
