"""The officer's commands speak Vietnamese: their ``--help`` says first, in Vietnamese, what each
does; their output is Vietnamese; and what they list is what the officer asked about (one unit's
files, the years just run, rises that are rises)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from rich.console import Console
from test_update_periods import built, year_with_updates  # noqa: F401 (fixtures)

from dti_cli import common
from dti_cli.main import cli
from pipelines import paths
from pipelines.evaluate.updates import unit_history
from pipelines.store import warehouse

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


# ---------------------------------------------------------------- dti trends: rises are rises


def test_trends_rises_list_only_rises_and_falls_only_falls(tmp_path) -> None:
    # points method, maximum 100: A 5 → 25 (+0,20), B 40 → 25 (-0,15), C 30 → 0 (-0,30)
    values = {
        "A": ({"P1.1": 20, "P1.2": 0, "P2.1": 0}, {"P1.1": 100, "P1.2": 0, "P2.1": 0}),
        "B": ({"P1.1": 100, "P1.2": 1, "P2.1": 0}, {"P1.1": 100, "P1.2": 0, "P2.1": 0}),
        "C": ({"P1.1": 0, "P1.2": 0, "P2.1": 4}, {"P1.1": 0, "P1.2": 0, "P2.1": 0}),
    }
    lines = ["unit_id,year,indicator_id,value"]
    for unit, years in values.items():
        for year, row in zip((2023, 2024), years, strict=True):
            lines += [f"{unit},{year},{key},{value}" for key, value in row.items()]
            lines.append(f"{unit},{year},P2.2,")
    data = tmp_path / "panel.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    framework = FIXTURES / "frameworks" / "tiny.yaml"
    result = CliRunner().invoke(
        cli,
        ["trends", "--framework", str(framework), "--data", str(data), "--method", "points"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    rises = result.output.split("Largest rises")[1].split("Largest falls")[0]
    falls = result.output.split("Largest falls")[1].split("Compound annual growth")[0]
    assert not set(result.output.lower()) & VIETNAMESE_LETTERS  # an analysis: English only
    assert table_units(rises) == ["A"]
    assert table_units(falls) == ["C", "B"]  # the largest fall first


def table_units(text: str) -> list[str]:
    """The unit_id column (the third) of a printed table's rows."""
    rows = [line.strip("│").split("│") for line in text.splitlines() if line.startswith("│")]
    return [cells[2].strip() for cells in rows if cells[2].strip() not in ("unit_id", "")]


# ---------------------------------------------------------------- dti run's summary


def test_run_summary_says_it_counts_units_with_a_missing_value(
    year_with_updates,  # noqa: F811
    monkeypatch,
) -> None:
    from dti_cli import main

    _, preset, con, _ = year_with_updates
    con.close()
    recorded = Console(record=True, width=200)
    monkeypatch.setattr(main, "console", recorded)
    main._print_summary(preset, [2024])
    text = recorded.export_text()
    header = next(line for line in text.splitlines() if "Số đơn vị" in line)
    assert header.split("┃")[-2].strip() == "Đơn vị thiếu số liệu (≥ 1 chỉ số)"
    # S-D's first file left P2.2 blank, but its correction and the appraisal fill every value:
    # the four departments are scored, none misses a value
    row = next(line for line in text.splitlines() if "Cấp sở" in line or "Sở" in line)
    assert row.split("│")[2].strip() == "4" and row.split("│")[-2].strip() == "0"


def test_run_points_to_the_annex_of_the_years_just_run(tmp_path) -> None:
    from dti_cli.report_commands import print_report_location

    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    for year in (2023, 2024, 2025):
        (tmp_path / str(year)).mkdir()
        (tmp_path / str(year) / f"phu-luc-DTI-{year}.xlsx").write_bytes(b"")
    recorded = Console(record=True, width=300)
    print_report_location(recorded, tmp_path, years=[2024])
    text = recorded.export_text()
    assert "phu-luc-DTI-2024.xlsx" in text
    assert "2025" not in text and "2023" not in text


# ---------------------------------------------------------------- dti reingest with nothing to do


def test_reingest_with_nothing_to_do_says_so_in_one_line(year_with_updates) -> None:  # noqa: F811
    preset_path, _, con, _ = year_with_updates
    con.close()
    result = CliRunner().invoke(cli, ["reingest", "--preset", str(preset_path), "--year", "2024"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Không có tệp bị từ chối nào cần đánh giá lại (năm 2024) – không có gì thay đổi."
    ]


# ---------------------------------------------------------------- Vietnamese help and output

OFFICER_COMMANDS = sorted(common.OFFICER_COMMANDS)
VIETNAMESE_LETTERS = set("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")
ENGLISH_WORDS = (" the ", " of ", " and ", "Run ", "Show ", "Write ", "Print ", "Publish ")


def vietnamese(line: str) -> bool:
    """A line with Vietnamese letters and none of the common English words."""
    padded = f" {line} "
    return bool(set(line.lower()) & VIETNAMESE_LETTERS) and not any(
        word in padded for word in ENGLISH_WORDS
    )


def test_the_officer_commands_are_the_expected_ones() -> None:
    assert (
        sorted(
            [
                "status",
                "run",
                "demo",
                "template",
                "receipt",
                "report",
                "publish",
                "override",
                "appraisal-report",
                "history",
                "reingest",
                "portal",
            ]
        )
        == OFFICER_COMMANDS
    )


@pytest.mark.parametrize("command", OFFICER_COMMANDS)
def test_officer_command_help_says_first_in_vietnamese_what_it_does(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = result.output.split("\n\n", 1)[1]  # after the "Usage:" line
    first = text.strip().splitlines()[0].strip()
    assert vietnamese(first), first
    listing = CliRunner().invoke(cli, ["--help"], terminal_width=300).output
    short = next(line for line in listing.splitlines() if line.strip().startswith(command + " "))
    assert vietnamese(short.strip().removeprefix(command)), short


def test_status_without_and_with_an_empty_warehouse_is_one_vietnamese_line() -> None:
    bare = CliRunner().invoke(cli, ["status"], terminal_width=300)
    assert bare.exit_code == 0 and len(bare.output.splitlines()) == 1, bare.output
    assert bare.output.startswith("Chưa có kho dữ liệu (warehouse) tại ")
    paths.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    warehouse.connect(paths.warehouse_path()).close()
    empty = CliRunner().invoke(cli, ["status"], terminal_width=300)
    assert empty.exit_code == 0 and len(empty.output.splitlines()) == 1, empty.output
    assert "chưa có số liệu nào" in empty.output and vietnamese(empty.output)


def test_status_of_a_filled_warehouse_is_vietnamese(year_with_updates) -> None:  # noqa: F811
    _, _, con, _ = year_with_updates
    con.close()
    result = CliRunner().invoke(cli, ["status"], terminal_width=300)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Kho dữ liệu (warehouse) ")
    header_line = next(line for line in lines if "Năm" in line)
    header = [cell.strip() for cell in header_line.strip("┃").split("┃")]
    assert header == [
        "Năm",
        "Cấp",
        "Tệp nhận",
        "Dòng từ chối",
        "Số liệu",
        "Có giá trị",
        "Kiểm tra",
        "Bản kết quả",
        "Đã công bố",
    ]
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in lines if "│" in line]
    # the department level of 2024: S-A, S-B, S-C, S-D, S-D's correction and the appraisal
    assert rows[0][:3] == ["2024", "Cấp sở (sở, ban, ngành) · department", "6"]
    assert rows[0][6] == "–"  # the test warehouse ran no Great Expectations suite


# ---------------------------------------------------------------- progress as it happens


def test_run_reports_each_step_while_the_run_goes_on(tmp_path, monkeypatch) -> None:
    import time

    from dti_cli.dagster_runs import dagster_instance, run_job
    from dti_cli.run_progress import StepProgress

    monkeypatch.setenv("DTI_PRESET", "daklak")
    heard = []
    shown = Console(record=True, width=200, force_terminal=False)
    with StepProgress(shown) as steps:

        def on_step(event) -> None:
            heard.append((time.perf_counter(), event))
            steps.step(event)

        started = time.perf_counter()
        outcome = run_job(
            "dti_demo_inbox",
            [2024],
            dagster_instance(),
            {"preset": "daklak", "inbox": str(tmp_path / "inbox")},
            on_step,
        )
        returned = time.perf_counter()
    assert outcome.success
    assert [(e.step, e.kind) for _, e in heard] == [
        ("demo_submissions", "start"),
        ("demo_submissions", "success"),
    ]
    # the start was heard while the step was still writing its workbooks, not after the run
    (start_heard, _), (_, done) = heard
    assert start_heard < returned - 0.5 * done.seconds
    assert 0 < done.seconds <= returned - started
    # the count is the workbooks the step wrote
    files = sorted((tmp_path / "inbox" / "2024").rglob("*.xlsx"))
    assert done.counts == {"files": len(files)}
    lines = shown.export_text().splitlines()
    assert lines[0] == "    → tạo tệp mô phỏng (demo) (demo_submissions) …"
    seconds = f"{done.seconds:.1f}".replace(".", ",")
    assert (
        lines[1]
        == f"    ✓ tạo tệp mô phỏng (demo) (demo_submissions): {len(files)} tệp · {seconds} s"
    )


# ---------------------------------------------------------------- README


def test_readme_command_line_lists_every_command_and_explains_publishing() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    listed = {
        word
        for line in section.splitlines()
        if line.startswith("dti ")
        for word in line.split("#")[0].replace("|", " ").split()
    }
    assert sorted(set(cli.commands) - listed) == []
    assert "chưa đánh dấu công bố" in section and "dti publish YEAR" in section


def test_report_shows_each_stage_with_its_count_and_time() -> None:
    from dti_cli.report_commands import timed_step
    from dti_cli.run_progress import StepProgress

    shown = Console(record=True, width=200, force_terminal=False)
    with StepProgress(shown) as steps:
        with timed_step(steps, "year_report") as counts:
            counts["pages"] = 245
        with pytest.raises(OSError), timed_step(steps, "year_annex"):
            raise OSError("disk full")
    lines = shown.export_text().splitlines()
    assert [line.split(" · ")[0] for line in lines] == [
        "    → xuất báo cáo công khai (year_report) …",
        "    ✓ xuất báo cáo công khai (year_report): 245 trang",
        "    → xuất phụ lục Excel (year_annex) …",
        "    ✗ xuất phụ lục Excel (year_annex): lỗi",
    ]
    assert lines[1].endswith(",0 s") and lines[3].endswith(",0 s")


# ---------------------------------------------------------------- dti publish


def test_publish_answers_in_vietnamese(tmp_path_factory) -> None:
    import shutil

    from analysis_support import TINY, analysis_warehouse

    paths.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(analysis_warehouse(tmp_path_factory), paths.warehouse_path())
    args = ["publish", "2024", "--level", "department", "--method", "points", "--preset", str(TINY)]
    result = CliRunner().invoke(cli, args, terminal_width=300)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Công bố DTI 2024 – Cấp sở (sở, ban, ngành)"
    header = next(line for line in lines if "Phương pháp" in line)
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == [
        "Phương pháp",
        "Kết quả (snapshot)",
        "Phiên bản",
        "Lần công bố",
        "Công bố lúc (giờ Việt Nam, UTC+7)",
    ]
    row = next(line for line in lines if line.startswith("│"))
    assert row.strip("│").split("│")[0].strip() == "Chấm điểm theo thang điểm (rubric) · points"
    again = CliRunner().invoke(cli, args, terminal_width=300)
    assert again.exit_code == 2
    assert again.output.startswith("lỗi: kết quả (snapshot) ")
    assert "đã được công bố trước đó (already published)" in again.output


ANALYSIS_COMMANDS = sorted(set(cli.commands) - common.OFFICER_COMMANDS)


@pytest.mark.parametrize("command", ANALYSIS_COMMANDS)
def test_analysis_command_help_stays_english(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    first = result.output.split("\n\n", 1)[1].strip().splitlines()[0]
    assert not set(first.lower()) & VIETNAMESE_LETTERS, first
