"""Resubmissions and re-evaluation: which file counts, and that nothing earlier is lost.

Tiny preset (department level, 4 components: P1.1 percentage, P1.2 yes/no, P2.1 count,
P2.2 days); each test has its own warehouse in ``$DTI_HOME`` and its own copy of the preset.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from intake_support import (
    T0,
    add_unit,
    load,
    observed,
    open_warehouse,
    records,
    sha256,
    submit,
    tiny_copy,
)

from dti_cli.main import cli
from pipelines.intake.ingest import ingest_year
from pipelines.intake.receipts import receipt_markdown
from pipelines.intake.reingest import reingest


@pytest.fixture
def setup(tmp_path: Path):
    preset_path = tiny_copy(tmp_path)
    preset = load(preset_path)
    con = open_warehouse(preset)
    yield preset_path, preset, con, tmp_path / "inbox", tmp_path / "archive"
    con.close()


def test_files_arriving_together_are_ordered_by_modification_time_not_name(setup) -> None:
    _, preset, con, inbox, archive = setup
    # "b…" is older and sorts after "a…" by name: the newer "a…" must count
    older = submit(preset, inbox, "S-A", {"P1.1": 50.0}, name="b_ban_dau.xlsx", at=T0)
    newer = submit(preset, inbox, "S-A", {"P1.1": 70.0}, name="a_sua_lai.xlsx", at=T0 + 60)
    ingest_year(con, preset, 2024, inbox, archive)
    assert records(
        con, "SELECT file_name, received_seq, received_at FROM submissions ORDER BY received_seq"
    ) == [
        {
            "file_name": "b_ban_dau.xlsx",
            "received_seq": 1,
            "received_at": dt.datetime(2024, 3, 5, 8, 0),
        },
        {
            "file_name": "a_sua_lai.xlsx",
            "received_seq": 2,
            "received_at": dt.datetime(2024, 3, 5, 8, 1),
        },
    ]
    row = observed(con)[("S-A", "P1.1")]
    assert (row["value"], row["self_submission_id"]) == (70.0, sha256(newer))
    # both files are kept; the earlier one says it no longer counts
    assert records(con, "SELECT count(*) AS n FROM raw_values WHERE unit_id = 'S-A'") == [{"n": 8}]
    assert "`a_sua_lai.xlsx`" in receipt_markdown(con, sha256(older))
    assert "tệp mới hơn" not in receipt_markdown(con, sha256(newer))


def test_the_order_follows_the_times_when_they_are_the_other_way_round(setup) -> None:
    _, preset, con, inbox, archive = setup
    submit(preset, inbox, "S-A", {"P1.1": 50.0}, name="b_sua_lai.xlsx", at=T0 + 60)
    earlier = submit(preset, inbox, "S-A", {"P1.1": 70.0}, name="a_ban_dau.xlsx", at=T0)
    ingest_year(con, preset, 2024, inbox, archive)
    row = observed(con)[("S-A", "P1.1")]
    assert row["value"] == 50.0
    assert row["self_submission_id"] != sha256(earlier)


def test_a_later_pass_counts_whatever_the_times_and_a_refused_file_replaces_nothing(
    setup,
) -> None:
    _, preset, con, inbox, archive = setup
    submit(preset, inbox, "S-A", {"P1.1": 50.0, "P2.1": 4.0}, at=T0 + 3600)
    ingest_year(con, preset, 2024, inbox, archive)
    # received in a later pass, though saved earlier: received later, counts
    later = submit(preset, inbox, "S-A", {"P1.1": 65.0}, name="gui_lai.xlsx", at=T0)
    ingest_year(con, preset, 2024, inbox, archive)
    obs = observed(con)
    assert (obs[("S-A", "P1.1")]["value"], obs[("S-A", "P2.1")]["value"]) == (65.0, None)
    assert obs[("S-A", "P1.1")]["self_submission_id"] == sha256(later)
    # a third file refused as a whole (another year's template) replaces nothing
    from pipelines.workbook.write import write_unit_workbook

    wrong = inbox / "2024" / "department" / "nam_cu.xlsx"
    write_unit_workbook(
        wrong,
        preset.framework("department"),
        {"unit_id": "S-A", "name": "Sở Thử A", "level": "department"},
        2023,
        {"P1.1": 1.0},
    )
    ingest_year(con, preset, 2024, inbox, archive)
    assert records(con, "SELECT status FROM submissions WHERE file_name = 'nam_cu.xlsx'") == [
        {"status": "refused"}
    ]
    assert observed(con)[("S-A", "P1.1")]["value"] == 65.0
    # a fourth file whose every value is refused carries nothing for the unit: no replacement
    broken = submit(preset, inbox, "S-A", {}, name="hong.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(broken)
    for row in range(9, 13):
        book["Tự đánh giá"][f"G{row}"] = "?"
    book.save(broken)
    ingest_year(con, preset, 2024, inbox, archive)
    assert records(
        con, "SELECT status, n_accepted, n_rejected FROM submissions WHERE file_name = 'hong.xlsx'"
    ) == [{"status": "partially_accepted", "n_accepted": 0, "n_rejected": 4}]
    assert observed(con)[("S-A", "P1.1")]["value"] == 65.0
    assert records(con, "SELECT count(*) AS n FROM submissions") == [{"n": 4}]


def test_csv_resubmission_replaces_a_workbook(setup) -> None:
    _, preset, con, inbox, archive = setup
    submit(preset, inbox, "S-B", {"P1.1": 40.0, "P1.2": 1.0}, at=T0)
    ingest_year(con, preset, 2024, inbox, archive)
    csv = inbox / "2024" / "department" / "S-B.csv"
    csv.write_text(
        "unit_id;year;indicator_id;value\nS-B;2024;P1.1;45,5\nS-B;2024;P1.2;Không\n"
        "S-B;2024;P2.1;3\nS-B;2024;P2.2;\n",
        encoding="utf-8-sig",
    )
    ingest_year(con, preset, 2024, inbox, archive)
    obs = observed(con)
    assert [obs[("S-B", i)]["value"] for i in ("P1.1", "P1.2", "P2.1", "P2.2")] == [
        45.5,
        0.0,
        3.0,
        None,
    ]
    assert obs[("S-B", "P1.1")]["self_submission_id"] == sha256(csv)


def test_reingest_after_the_registry_adds_the_unit_keeps_history(setup) -> None:
    preset_path, preset, con, inbox, archive = setup
    path = submit(preset, inbox, "S-E", {"P1.1": 90.0, "P1.2": 1.0}, at=T0)
    digest = sha256(path)
    ingest_year(con, preset, 2024, inbox, archive)
    assert records(con, "SELECT rule, message FROM rejected_rows") == [
        {
            "rule": "unknown_unit",
            "message": "DTI_2024_S-E.xlsx · trang '_meta' · dòng 7 · cột B: đơn vị 'S-E' không có "
            "trong danh mục cấp department năm 2024",
        }
    ]
    # the same bytes again change nothing: the refusal is for those bytes…
    assert ingest_year(con, preset, 2024, inbox, archive).files_new == 0
    # …until the registry is corrected and the archived file is evaluated again
    add_unit(preset_path, "S-E,department,Sở Thử E,Sở E,,true,false,false,generated,assumed,2024,")
    updated = load(preset_path)
    [outcome] = reingest(con, updated)
    assert (outcome.file_name, outcome.previous_id, outcome.previous_status) == (
        "DTI_2024_S-E.xlsx",
        digest,
        "refused",
    )
    assert (outcome.new_id, outcome.new_status, outcome.changed) == (
        f"{digest}.2",
        "accepted",
        True,
    )
    assert records(
        con,
        "SELECT submission_id, file_sha256, evaluation, replaces_submission_id, received_seq, "
        "status, n_accepted, n_rejected FROM submissions ORDER BY evaluation",
    ) == [
        {
            "submission_id": digest,
            "file_sha256": digest,
            "evaluation": 1,
            "replaces_submission_id": None,
            "received_seq": 1,
            "status": "refused",
            "n_accepted": 0,
            "n_rejected": 1,
        },
        {
            "submission_id": f"{digest}.2",
            "file_sha256": digest,
            "evaluation": 2,
            "replaces_submission_id": digest,
            "received_seq": 1,
            "status": "accepted",
            "n_accepted": 4,
            "n_rejected": 0,
        },
    ]
    # the first refusal is kept as history, and its receipt says it was re-evaluated
    assert records(con, "SELECT submission_id FROM rejected_rows") == [{"submission_id": digest}]
    assert f"đã được đánh giá lại (`{digest}.2`)" in receipt_markdown(con, digest)
    assert "| Lần đánh giá | 2 (đánh giá lại lúc" in receipt_markdown(con, f"{digest}.2")
    assert observed(con)[("S-E", "P1.1")]["value"] == 90.0
    # nothing changes a second time: nothing new is stored
    [again] = reingest(con, updated, [digest])
    assert (again.changed, again.new_id, again.previous_id) == (False, None, f"{digest}.2")
    assert records(con, "SELECT count(*) AS n FROM submissions") == [{"n": 2}]


def test_a_reevaluated_old_file_does_not_overtake_a_later_one(setup) -> None:
    preset_path, preset, con, inbox, archive = setup
    first = submit(preset, inbox, "S-E", {"P1.1": 10.0}, name="lan1.xlsx", at=T0)
    ingest_year(con, preset, 2024, inbox, archive)
    add_unit(preset_path, "S-E,department,Sở Thử E,Sở E,,true,false,false,generated,assumed,2024,")
    updated = load(preset_path)
    second = submit(updated, inbox, "S-E", {"P1.1": 20.0}, name="lan2.xlsx", at=T0 + 60)
    ingest_year(con, updated, 2024, inbox, archive)
    [outcome] = reingest(con, updated, year=2024)
    assert (outcome.previous_id, outcome.new_status) == (sha256(first), "accepted")
    row = observed(con)[("S-E", "P1.1")]
    assert (row["value"], row["self_submission_id"]) == (20.0, sha256(second))


def test_dti_reingest_command(setup) -> None:
    preset_path, preset, con, inbox, archive = setup
    submit(preset, inbox, "S-E", {"P1.1": 90.0}, at=T0)
    ingest_year(con, preset, 2024, inbox, archive)
    con.close()
    add_unit(preset_path, "S-E,department,Sở Thử E,Sở E,,true,false,false,generated,assumed,2024,")
    result = CliRunner().invoke(
        cli, ["reingest", "--preset", str(preset_path), "--year", "2024"], env=dict(os.environ)
    )
    assert result.exit_code == 0, result.output
    assert "DTI_2024_S-E.xlsx" in result.output
    assert "1 tệp được đánh giá lại, 1 có kết quả mới." in result.output
    unknown = CliRunner().invoke(cli, ["reingest", "--preset", str(preset_path), "deadbeef00"])
    assert unknown.exit_code == 2
    assert "no submission matches 'deadbeef00'" in unknown.output
