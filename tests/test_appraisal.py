"""Appraisal: values and points adjusted with a reason, both figures kept, the appraised one used;
the differences report; appraisal CSV; the points override applied to rubric points.

Tiny preset, department level: P1.1 percentage (max 25), P1.2 yes/no (15), P2.1 meetings
(steps 4→30, 3→20, 1→10; max 30), P2.2 days (lower is better, max 30).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from intake_support import (
    T0,
    load,
    observed,
    open_warehouse,
    records,
    sha256,
    submit,
    submit_appraisal,
    tiny_copy,
)
from openpyxl import load_workbook

from dti_cli.main import cli
from pipelines.evaluate.appraisal import apply_points_overrides, differences
from pipelines.intake.ingest import ingest_year

SELF = {
    "S-A": {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 4.0, "P2.2": 2.0},
    "S-B": {"P1.1": 50.0, "P1.2": 0.0, "P2.1": 3.0, "P2.2": 1.0},
    "S-C": {"P1.1": 100.0, "P1.2": 1.0, "P2.1": 1.0, "P2.2": 4.0},
    "S-D": {"P1.1": 20.0, "P1.2": 1.0, "P2.1": 0.0, "P2.2": None},
}
ROWS = [
    {
        "unit_id": "S-A",
        "indicator_id": "P1.1",
        "self_value": 80,
        "appraised_value": 70,
        "reason": "Tài liệu kiểm chứng không đầy đủ",
    },  # row 5: the value
    {
        "unit_id": "S-B",
        "indicator_id": "P2.1",
        "appraised_points": 15,
        "reason": "Chấm lại theo biên bản kiểm tra",
    },  # row 6: the points only
    {
        "unit_id": "S-C",
        "indicator_id": "P2.2",
        "appraised_value": 2,
        "appraised_points": 20,
        "reason": "Số liệu không khớp hệ thống",
    },  # row 7: both
    {"unit_id": "S-D", "indicator_id": "P1.1", "reason": "Thiếu minh chứng"},  # row 8: blank
    {
        "unit_id": "S-A",
        "indicator_id": "P2.1",
        "appraised_points": 35,
        "reason": "Chấm lại",
    },  # row 9: above the maximum
    {"unit_id": "S-B", "indicator_id": "P1.2"},  # row 10: listed, not adjusted
]
WHERE = "THAM_DINH.xlsx · trang 'Thẩm định' · dòng"


@pytest.fixture
def appraised(tmp_path: Path):
    preset_path = tiny_copy(tmp_path)
    preset = load(preset_path)
    con = open_warehouse(preset)
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    for i, (unit, values) in enumerate(SELF.items()):
        submit(preset, inbox, unit, values, at=T0 + i)
    # S-A also gives its own points for P1.1
    from intake_support import unit_of

    from pipelines.workbook.write import write_unit_workbook

    write_unit_workbook(
        inbox / "2024" / "department" / "DTI_2024_S-A.xlsx",
        preset.framework("department"),
        unit_of(preset, "S-A"),
        2024,
        SELF["S-A"],
        self_points={"P1.1": 20.0},
    )
    os.utime(inbox / "2024" / "department" / "DTI_2024_S-A.xlsx", (T0, T0))
    path = submit_appraisal(preset, inbox, ROWS, at=T0 + 60)
    ingest_year(con, preset, 2024, inbox, archive)
    yield preset_path, preset, con, inbox, archive, path
    con.close()


def test_appraisal_workbook_values_points_and_refusals(appraised) -> None:
    _, _, con, _, _, path = appraised
    digest = sha256(path)
    assert records(
        con,
        "SELECT kind, unit_id, status, n_accepted, n_rejected FROM submissions "
        "WHERE submission_id = ?",
        digest,
    ) == [
        {
            "kind": "appraisal",
            "unit_id": None,
            "status": "partially_accepted",
            "n_accepted": 4,
            "n_rejected": 2,
        }
    ]
    assert con.execute(
        "SELECT sheet, row_number, column_name, rule, message FROM rejected_rows "
        "WHERE submission_id = ? ORDER BY row_number",
        [digest],
    ).fetchall() == [
        (
            "Thẩm định",
            8,
            "E",
            "missing_appraised_value",
            f"{WHERE} 8 · cột E: đơn vị S-D, chỉ số P1.1: có lý do điều chỉnh nhưng để trống giá "
            "trị thẩm định (và điểm thẩm định); giá trị tự đánh giá được giữ nguyên — nhập giá trị "
            "(hoặc điểm) thẩm định, hoặc xóa dòng",
        ),
        (
            "Thẩm định",
            9,
            "G",
            "above_maximum",
            f"{WHERE} 9 · cột G: đơn vị S-A, chỉ số P2.1: điểm thẩm định: điểm 35 vượt điểm tối "
            "đa 30",
        ),
    ]
    assert records(
        con,
        "SELECT row_number, column_name, unit_id, indicator_id, points, reason "
        "FROM appraised_points ORDER BY row_number",
    ) == [
        {
            "row_number": 6,
            "column_name": "G",
            "unit_id": "S-B",
            "indicator_id": "P2.1",
            "points": 15.0,
            "reason": "Chấm lại theo biên bản kiểm tra",
        },
        {
            "row_number": 7,
            "column_name": "G",
            "unit_id": "S-C",
            "indicator_id": "P2.2",
            "points": 20.0,
            "reason": "Số liệu không khớp hệ thống",
        },
    ]


def test_both_figures_kept_and_the_appraised_one_used(appraised) -> None:
    _, _, con, _, _, path = appraised
    digest = sha256(path)
    keep = ("self_value", "appraised_value", "value", "appraised_points", "self_points")
    obs = observed(con)
    assert {k: obs[("S-A", "P1.1")][k] for k in keep} == {
        "self_value": 80.0,
        "appraised_value": 70.0,
        "value": 70.0,
        "appraised_points": None,
        "self_points": 20.0,
    }
    assert obs[("S-A", "P1.1")]["appraisal_reason"] == "Tài liệu kiểm chứng không đầy đủ"
    assert obs[("S-A", "P1.1")]["appraisal_submission_id"] == digest
    # points only: the value stays the unit's; the points override is carried with its reason
    assert {k: obs[("S-B", "P2.1")][k] for k in keep} == {
        "self_value": 3.0,
        "appraised_value": None,
        "value": 3.0,
        "appraised_points": 15.0,
        "self_points": None,
    }
    assert obs[("S-B", "P2.1")]["points_reason"] == "Chấm lại theo biên bản kiểm tra"
    assert obs[("S-B", "P2.1")]["points_submission_id"] == digest
    assert {k: obs[("S-C", "P2.2")][k] for k in keep} == {
        "self_value": 4.0,
        "appraised_value": 2.0,
        "value": 2.0,
        "appraised_points": 20.0,
        "self_points": None,
    }
    # decision: a reason with a blank appraised value is refused; the self value stands
    assert {k: obs[("S-D", "P1.1")][k] for k in ("self_value", "appraised_value", "value")} == {
        "self_value": 20.0,
        "appraised_value": None,
        "value": 20.0,
    }
    # refused points (row 9) and a listed-only row (row 10) change nothing
    assert obs[("S-A", "P2.1")]["appraised_points"] is None
    assert obs[("S-B", "P1.2")]["appraisal_submission_id"] is None


def test_a_later_appraisal_file_counts_for_what_it_adjusts(appraised) -> None:
    _, preset, con, inbox, archive, _ = appraised
    later = submit_appraisal(
        preset,
        inbox,
        [
            {
                "unit_id": "S-A",
                "indicator_id": "P1.1",
                "appraised_value": 75,
                "reason": "Bổ sung minh chứng hợp lệ",
            }
        ],
        name="THAM_DINH_bo_sung.xlsx",
        at=T0 + 120,
    )
    ingest_year(con, preset, 2024, inbox, archive)
    obs = observed(con)
    assert (obs[("S-A", "P1.1")]["value"], obs[("S-A", "P1.1")]["appraisal_reason"]) == (
        75.0,
        "Bổ sung minh chứng hợp lệ",
    )
    assert obs[("S-A", "P1.1")]["appraisal_submission_id"] == sha256(later)
    # what the later file does not touch keeps the earlier adjustment
    assert obs[("S-C", "P2.2")]["value"] == 2.0


def test_differences_report_lists_unit_component_both_figures_and_reason(appraised) -> None:
    _, preset, con, _, _, _ = appraised
    frame = differences(con, preset, 2024, "department")
    assert frame.to_dicts() == [
        {
            "year": 2024,
            "level": "department",
            "unit_id": "S-A",
            "unit_name": "Sở Thử A",
            "indicator_id": "P1.1",
            "indicator_name": "Tỷ lệ văn bản điện tử",
            "self_value": 80.0,
            "appraised_value": 70.0,
            "self_points": 20.0,
            "appraised_points": None,
            "reason": "Tài liệu kiểm chứng không đầy đủ",
            "appraisal_file": "THAM_DINH.xlsx",
        },
        {
            "year": 2024,
            "level": "department",
            "unit_id": "S-B",
            "unit_name": "Sở Thử B",
            "indicator_id": "P2.1",
            "indicator_name": "Số cuộc họp trực tuyến",
            "self_value": 3.0,
            "appraised_value": None,
            "self_points": None,
            "appraised_points": 15.0,
            "reason": "Chấm lại theo biên bản kiểm tra",
            "appraisal_file": "THAM_DINH.xlsx",
        },
        {
            "year": 2024,
            "level": "department",
            "unit_id": "S-C",
            "unit_name": "Sở Thử C",
            "indicator_id": "P2.2",
            "indicator_name": "Thời gian xử lý hồ sơ trực tuyến",
            "self_value": 4.0,
            "appraised_value": 2.0,
            "self_points": None,
            "appraised_points": 20.0,
            "reason": "Số liệu không khớp hệ thống",
            "appraisal_file": "THAM_DINH.xlsx",
        },
    ]
    assert differences(con, preset, 2024, "commune").is_empty()


def test_dti_appraisal_report_writes_xlsx_and_csv(appraised, tmp_path: Path) -> None:
    preset_path, _, con, _, _, _ = appraised
    con.close()
    runner = CliRunner()
    xlsx = tmp_path / "out" / "chenh_lech.xlsx"
    result = runner.invoke(
        cli,
        ["appraisal-report", "--preset", str(preset_path), "--year", "2024", "--out", str(xlsx)],
    )
    assert result.exit_code == 0, result.output
    assert "3 điều chỉnh thẩm định" in result.output
    sheet = load_workbook(xlsx)["Chênh lệch thẩm định"]
    assert [c.value for c in sheet[3]] == [
        "Năm",
        "Cấp",
        "Mã đơn vị",
        "Tên đơn vị",
        "Mã chỉ số",
        "Tên chỉ số",
        "Giá trị tự đánh giá",
        "Giá trị thẩm định",
        "Điểm tự đánh giá",
        "Điểm thẩm định",
        "Lý do điều chỉnh",
        "Tệp thẩm định",
    ]
    assert [c.value for c in sheet[5]] == [
        2024,
        "Cấp sở (sở, ban, ngành)",
        "S-B",
        "Sở Thử B",
        "P2.1",
        "Số cuộc họp trực tuyến",
        3,
        None,
        None,
        15,
        "Chấm lại theo biên bản kiểm tra",
        "THAM_DINH.xlsx",
    ]
    out_csv = tmp_path / "out" / "chenh_lech.csv"
    result = runner.invoke(
        cli,
        [
            "appraisal-report",
            "--preset",
            str(preset_path),
            "--year",
            "2024",
            "--level",
            "department",
            "--out",
            str(out_csv),
        ],
    )
    assert result.exit_code == 0, result.output
    with out_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (r["unit_id"], r["indicator_id"], r["appraised_value"], r["appraised_points"]) for r in rows
    ] == [("S-A", "P1.1", "70.0", ""), ("S-B", "P2.1", "", "15.0"), ("S-C", "P2.2", "2.0", "20.0")]
    bad = runner.invoke(
        cli,
        [
            "appraisal-report",
            "--preset",
            str(preset_path),
            "--year",
            "2024",
            "--out",
            str(tmp_path / "x.pdf"),
        ],
    )
    assert bad.exit_code == 2


def test_appraisal_csv_with_vietnamese_headers(tmp_path: Path) -> None:
    preset = load(tiny_copy(tmp_path))
    con = open_warehouse(preset)
    inbox = tmp_path / "inbox"
    for unit, values in SELF.items():
        submit(preset, inbox, unit, values, at=T0)
    path = inbox / "2024" / "department" / "THAM_DINH.csv"
    path.write_text(
        "Mã đơn vị;Mã chỉ số;Giá trị thẩm định;Điểm thẩm định;Lý do điều chỉnh\n"
        "S-A;P1.1;70,5;;Thiếu minh chứng\n"
        "S-B;P2.1;;15;Chấm lại\n"
        "S-X;P1.1;10;;Không rõ đơn vị\n"
        "S-C;P2.2;2;;\n"
        "S-C;P1.2;Có;16;Bổ sung\n",
        encoding="utf-8",
    )
    ingest_year(con, preset, 2024, inbox, tmp_path / "archive")
    digest = sha256(path)
    assert records(
        con,
        "SELECT kind, level, status, n_accepted, n_rejected FROM submissions "
        "WHERE submission_id = ?",
        digest,
    ) == [
        {
            "kind": "appraisal",
            "level": "department",
            "status": "partially_accepted",
            "n_accepted": 3,
            "n_rejected": 3,
        }
    ]
    assert con.execute(
        "SELECT row_number, column_name, rule, message FROM rejected_rows "
        "WHERE submission_id = ? ORDER BY row_number",
        [digest],
    ).fetchall() == [
        (
            4,
            "A",
            "unknown_unit",
            "THAM_DINH.csv · dòng 4 · cột A (Mã đơn vị): đơn vị 'S-X' không có trong danh mục năm "
            "2024",
        ),
        (
            5,
            "E",
            "missing_reason",
            "THAM_DINH.csv · dòng 5 · cột E (Lý do điều chỉnh): đơn vị S-C, chỉ số P2.2: thiếu lý "
            "do điều chỉnh",
        ),
        (
            6,
            "D",
            "above_maximum",
            "THAM_DINH.csv · dòng 6 · cột D (Điểm thẩm định): đơn vị S-C, chỉ số P1.2: điểm thẩm "
            "định: điểm 16 vượt điểm tối đa 15",
        ),
    ]
    obs = observed(con)
    assert (obs[("S-A", "P1.1")]["value"], obs[("S-A", "P1.1")]["appraisal_reason"]) == (
        70.5,
        "Thiếu minh chứng",
    )
    assert obs[("S-B", "P2.1")]["appraised_points"] == 15.0
    # the value of row 6 is taken although its points were refused
    assert (obs[("S-C", "P1.2")]["appraised_value"], obs[("S-C", "P1.2")]["appraised_points"]) == (
        1.0,
        None,
    )
    assert obs[("S-C", "P2.2")]["value"] == 4.0
    con.close()


def test_merged_reason_cells_apply_to_every_row_of_the_range(tmp_path: Path) -> None:
    preset = load(tiny_copy(tmp_path))
    con = open_warehouse(preset)
    inbox = tmp_path / "inbox"
    rows = [
        {
            "unit_id": "S-A",
            "indicator_id": "P1.1",
            "appraised_value": 60,
            "reason": "Kiểm tra thực tế ngày 12/3",
        },
        {"unit_id": "S-A", "indicator_id": "P2.1", "appraised_value": 2},
    ]
    path = submit_appraisal(preset, inbox, rows)
    book = load_workbook(path)
    book["Thẩm định"].merge_cells("A5:A6")  # one unit cell for both rows
    book["Thẩm định"].merge_cells("F5:F6")  # one reason for both rows
    book.save(path)
    ingest_year(con, preset, 2024, inbox, tmp_path / "archive")
    assert records(
        con,
        "SELECT row_number, unit_id, indicator_id, value, reason FROM raw_values "
        "ORDER BY row_number",
    ) == [
        {
            "row_number": 5,
            "unit_id": "S-A",
            "indicator_id": "P1.1",
            "value": 60.0,
            "reason": "Kiểm tra thực tế ngày 12/3",
        },
        {
            "row_number": 6,
            "unit_id": "S-A",
            "indicator_id": "P2.1",
            "value": 2.0,
            "reason": "Kiểm tra thực tế ngày 12/3",
        },
    ]
    con.close()


def test_points_overrides_replace_rubric_points(tmp_path: Path) -> None:
    preset = load(tiny_copy(tmp_path))
    framework = preset.framework("department")
    # rubric points of two units, as the points method gives them (hand-computed):
    # S-A: P1.1 80% of target 100 × 25 = 20; P2.1 4 meetings = 30; P2.2 blank = 0 (missing)
    leaves = pl.DataFrame(
        {
            "unit_id": ["S-A", "S-A", "S-A", "S-B"],
            "year": [2024] * 4,
            "group_id": ["department"] * 4,
            "node_id": ["P1.1", "P2.1", "P2.2", "P2.1"],
            "value": [80.0, 4.0, None, 3.0],
            "normalised": [0.8, 1.0, None, 20 / 30],
            "z": [None] * 4,
            "points": [20.0, 30.0, 0.0, 20.0],
            "n_missing": [0, 0, 1, 0],
        },
        schema_overrides={"z": pl.Float64, "n_missing": pl.Int32, "year": pl.Int32},
    )
    overrides = pl.DataFrame(
        {
            "unit_id": ["S-A", "S-B"],
            "node_id": ["P2.2", "P2.1"],
            "points": [12.0, 15.0],
            "reason": ["Thẩm định", "Chấm lại"],
        }
    )
    result = apply_points_overrides(leaves, overrides, framework)
    assert result.columns == leaves.columns
    assert result.select("unit_id", "node_id", "points", "normalised", "n_missing").to_dicts() == [
        {"unit_id": "S-A", "node_id": "P1.1", "points": 20.0, "normalised": 0.8, "n_missing": 0},
        {"unit_id": "S-A", "node_id": "P2.1", "points": 30.0, "normalised": 1.0, "n_missing": 0},
        {"unit_id": "S-A", "node_id": "P2.2", "points": 12.0, "normalised": 0.4, "n_missing": 0},
        {"unit_id": "S-B", "node_id": "P2.1", "points": 15.0, "normalised": 0.5, "n_missing": 0},
    ]
    assert apply_points_overrides(leaves, overrides.clear(), framework).equals(leaves)
