"""The officer's commands speak Vietnamese: their ``--help`` says first, in Vietnamese, what each
does; their output is Vietnamese; and what they list is what the officer asked about (one unit's
files, the years just run, rises that are rises)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_update_periods import built, year_with_updates  # noqa: F401 (fixtures)

from dti_cli.main import cli
from pipelines.updates import unit_history

# ---------------------------------------------------------------- dti history: one unit's files


def test_history_lists_only_the_units_own_files(year_with_updates) -> None:  # noqa: F811
    preset_path, _, con, _ = year_with_updates
    # S-A sent one file in period 1; S-D's correction (2) and the appraisal of S-D (3) are not
    # S-A's files
    files = [json.loads(names) for names in unit_history(con, 2024, "S-A", "points")["new_files"]]
    assert files == [["DTI_2024_S-A.xlsx"], [], []]
    files = [json.loads(names) for names in unit_history(con, 2024, "S-D", "points")["new_files"]]
    assert files == [["DTI_2024_S-D.xlsx"], ["DTI_2024_S-D_lan2.xlsx"], ["THAM_DINH.xlsx"]]
    con.close()
    result = CliRunner().invoke(
        cli, ["history", "--preset", str(preset_path), "--year", "2024", "--unit", "S-A"]
    )
    assert result.exit_code == 0, result.output
    assert "DTI_2024_S-A.xlsx" in result.output
    for other in ("S-B", "S-C", "S-D", "THAM_DINH"):
        assert other not in result.output
