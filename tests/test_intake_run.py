"""Every file in the inbox gets an answer, no single file stops a year, and `dti run` says what
it read.

Tiny preset (department and commune levels); each test has its own warehouse in ``$DTI_HOME``
and its own copy of the preset. The hostile files are built here, with openpyxl or raw bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import subprocess_env
from intake_support import (
    T0,
    YEAR,
    load,
    open_warehouse,
    records,
    sha256,
    submit,
    tiny_copy,
    unit_of,
)

from dti_cli.main import cli
from pipelines.intake.ingest import evaluation_frames, ingest_year
from pipelines.intake.receipts import MAX_NAME_BYTES, bounded_name, receipt_path
from pipelines.intake.submission_read import ParsedFile
from pipelines.intake.submission_rows import Evaluation
from pipelines.workbook.layout import META_ROWS, META_SHEET
from pipelines.workbook.read import ParsedWorkbook
from pipelines.workbook.write import write_unit_workbook

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


@pytest.fixture
def setup(tmp_path: Path):
    preset_path = tiny_copy(tmp_path)
    preset = load(preset_path)
    con = open_warehouse(preset)
    yield preset_path, preset, con, tmp_path / "inbox", tmp_path / "archive"
    con.close()


def submission(con, name: str) -> dict:
    found = records(con, "SELECT * FROM submissions WHERE file_name = ?", name)
    assert len(found) == 1, (name, [r["file_name"] for r in records(con, "FROM submissions")])
    return found[0]


def refusals(con, submission_id: str) -> list[dict]:
    return records(
        con, "SELECT rule, message FROM rejected_rows WHERE submission_id = ?", submission_id
    )


def long_vietnamese_name(size: int) -> str:
    """An NFC file name of exactly ``size`` UTF-8 bytes, ending in ``.xlsx``."""
    words = "Báo cáo tự đánh giá chuyển đổi số của Sở Thử A năm 2024 bản cuối cùng đã ký "
    stem = ""
    while len((stem + ".xlsx").encode()) < size:
        stem += words[len(stem) % len(words)]
    while len((stem + ".xlsx").encode()) > size:
        stem = stem[:-1]
    stem += "x" * (size - len((stem + ".xlsx").encode()))
    name = unicodedata.normalize("NFC", stem + ".xlsx")
    assert len(name.encode()) == size
    return name


# --- 1. a long file name --------------------------------------------------------------------


def test_a_239_byte_vietnamese_name_is_received_and_stops_nothing(setup) -> None:
    _, preset, con, inbox, archive = setup
    long_name = long_vietnamese_name(239)
    first = submit(preset, inbox, "S-A", {"P1.1": 40.0}, name=long_name, at=T0)
    after = submit(preset, inbox, "S-B", {"P1.1": 60.0}, at=T0 + 60)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_seen, summary.files_new, summary.files_refused) == (2, 2, [])
    assert summary.receipt_failures == []
    for path in (first, after):
        row = submission(con, path.name)
        assert row["status"] == "accepted"
        receipt = receipt_path(con, row["submission_id"])
        assert receipt.is_file(), receipt
        assert len(receipt.name.encode()) <= MAX_NAME_BYTES
        assert unicodedata.is_normalized("NFC", receipt.name)
        assert receipt.name.endswith(f".{row['submission_id'][:12]}.receipt.md")
    assert len(summary.receipts) == 2


def test_a_missing_receipt_is_written_again_by_the_next_pass(setup) -> None:
    _, preset, con, inbox, archive = setup
    path = submit(preset, inbox, "S-A", {"P1.1": 40.0}, at=T0)
    ingest_year(con, preset, YEAR, inbox, archive)
    receipt = receipt_path(con, sha256(path))
    receipt.unlink()
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_new, summary.files_unchanged) == (0, 1)
    assert receipt.is_file()
    assert summary.receipts == [receipt]


def test_bounded_names_cut_on_a_character_boundary_and_are_nfc() -> None:
    stem = unicodedata.normalize("NFD", "Ủy ban nhân dân xã Ea Kao " * 20)
    name = bounded_name(stem, ".0123456789ab.receipt.md", limit=120)
    assert len(name.encode()) <= 120
    assert unicodedata.is_normalized("NFC", name)
    name.encode().decode("utf-8")  # whole characters only
    assert name.startswith("Ủy ban nhân dân xã Ea Kao")
    assert name.endswith(".0123456789ab.receipt.md")
    assert bounded_name("a/b\\c", ".x") == "a_b_c.x"


def test_a_year_beyond_any_plausible_one_is_refused_at_its_cell(setup) -> None:
    _, preset, con, inbox, archive = setup
    # a year in the hidden identification far beyond what the warehouse's year column holds
    hostile = submit(preset, inbox, "S-A", {"P1.1": 40.0}, name="nam_qua_lon.xlsx", at=T0)
    book = openpyxl.load_workbook(hostile)
    book[META_SHEET].cell(META_ROWS["year"], 2).value = "99999999999"
    book.save(hostile)
    os.utime(hostile, (T0, T0))
    good = submit(preset, inbox, "S-B", {"P1.1": 60.0}, at=T0 + 60)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert summary.files_refused == ["nam_qua_lon.xlsx"]
    refused = submission(con, "nam_qua_lon.xlsx")
    assert (refused["status"], refused["year"], refused["inbox_year"]) == ("refused", None, YEAR)
    [refusal] = records(
        con,
        "SELECT rule, sheet, row_number, column_name, message FROM rejected_rows "
        "WHERE submission_id = ?",
        refused["submission_id"],
    )
    assert (refusal["rule"], refusal["sheet"], refusal["row_number"]) == (
        "bad_year",
        META_SHEET,
        META_ROWS["year"],
    )
    assert "năm '99999999999' không hợp lệ" in refusal["message"]
    assert receipt_path(con, refused["submission_id"]).is_file()
    assert submission(con, good.name)["status"] == "accepted"


def test_what_the_warehouse_cannot_hold_is_the_files_refusal_in_one_line(tmp_path: Path) -> None:
    parsed = ParsedFile(ParsedWorkbook("tep.xlsx"), refused=False, year=2**40)  # beyond Int32
    evaluation = Evaluation(
        submission_id="ab" * 32,
        file_sha256="ab" * 32,
        evaluation=1,
        received_seq=1,
        received_at=None,
        evaluated_at=dt.datetime(2024, 3, 5),
        archived=tmp_path / "ab.xlsx",
        inbox_year=YEAR,
    )
    frames = evaluation_frames(parsed, evaluation)
    [row] = frames["submissions"].to_dicts()
    assert (row["status"], row["year"], row["inbox_year"]) == ("refused", YEAR, YEAR)
    [refusal] = frames["rejected_rows"].to_dicts()
    assert refusal["rule"] == "unreadable_file"
    assert refusal["message"].startswith("tep.xlsx")
    assert "không lưu được nội dung tệp" in refusal["message"]
    assert "\n" not in refusal["message"]


# --- 2. a file that replaces another one sent under another name ----------------------------


def test_a_file_replacing_a_units_file_sent_under_another_name_is_flagged(setup) -> None:
    _, preset, con, inbox, archive = setup
    submit(preset, inbox, "S-A", {"P1.1": 40.0}, name="DTI_2024_S-A.xlsx", at=T0)
    ingest_year(con, preset, YEAR, inbox, archive)
    # named for S-B, but its identification says S-A: it replaces S-A's file
    path = inbox / str(YEAR) / "department" / "DTI_2024_S-B.xlsx"
    write_unit_workbook(path, preset.framework("department"), unit_of(preset, "S-A"), YEAR, {})
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert summary.replaced_other_name == [
        "DTI_2024_S-B.xlsx thay tệp DTI_2024_S-A.xlsx (đơn vị S-A)"
    ]
    assert summary.as_metadata()["replaced_other_name"] == summary.replaced_other_name
    receipt = receipt_path(con, sha256(path)).read_text(encoding="utf-8")
    assert "**Cần kiểm tra:** tệp này được dùng thay cho tệp `DTI_2024_S-A.xlsx`" in receipt
    assert "của đơn vị S-A (tên tệp khác)" in receipt


def test_a_resubmission_under_the_same_name_is_not_flagged(setup) -> None:
    _, preset, con, inbox, archive = setup
    submit(preset, inbox, "S-A", {"P1.1": 40.0}, at=T0)
    ingest_year(con, preset, YEAR, inbox, archive)
    path = submit(preset, inbox, "S-A", {"P1.1": 45.0}, at=T0 + 60)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_new, summary.replaced_other_name) == (1, [])
    assert "Cần kiểm tra" not in receipt_path(con, sha256(path)).read_text(encoding="utf-8")


# --- 5. every file gets an answer ------------------------------------------------------------


def hostile_files(preset, inbox: Path) -> dict[str, Path]:
    folder = inbox / str(YEAR) / "department"
    valid = submit(preset, inbox, "S-A", {"P1.1": 40.0}, name="hop_le.xlsx", at=T0)
    macro = folder / "so_lieu_co_macro.xlsm"  # a real workbook package: only its type is wrong
    submit(preset, inbox, "S-B", {"P1.1": 50.0}, name="so_lieu.xlsx").rename(macro)
    old = folder / "mau_cu.xls"
    old.write_bytes(OLE2_MAGIC + bytes(504) + "Workbook".encode("utf-16-le") + bytes(1000))
    encrypted = folder / "co_mat_khau.xlsx"
    encrypted.write_bytes(
        OLE2_MAGIC
        + bytes(504)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(50)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(2000)
    )
    pdf = folder / "cong_van.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    ods = folder / "bang_tinh.ods"
    ods.write_bytes(b"PK\x03\x04" + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet")
    for i, path in enumerate((macro, old, encrypted, pdf, ods), start=1):
        os.utime(path, (T0 + 60 * i, T0 + 60 * i))
    (folder / "~$hop_le.xlsx").write_bytes(b"lock")  # Excel's lock file: not a submission
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return {"valid": valid, "xlsm": macro, "xls": old, "encrypted": encrypted, "pdf": pdf}


def test_every_file_of_an_unsupported_type_is_archived_refused_and_answered(setup) -> None:
    _, preset, con, inbox, archive = setup
    files = hostile_files(preset, inbox)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert summary.files_seen == 6  # not the lock file, not .DS_Store
    assert sorted(summary.files_refused) == sorted(
        ["so_lieu_co_macro.xlsm", "mau_cu.xls", "co_mat_khau.xlsx", "cong_van.pdf", "bang_tinh.ods"]
    )
    assert len(summary.refused_receipts) == 5
    expected = {
        "xlsm": (
            "unsupported_type",
            "tệp Excel có macro (.xlsm) không phải loại tệp được tiếp nhận",
        ),
        "xls": ("old_excel_format", "tệp Excel định dạng cũ (.xls, Excel 97–2003)"),
        "encrypted": ("encrypted_file", "tệp được đặt mật khẩu"),
        "pdf": ("unsupported_type", "tệp PDF không phải loại tệp được tiếp nhận"),
    }
    for key, (rule, words) in expected.items():
        path = files[key]
        row = submission(con, path.name)
        assert row["status"] == "refused"
        archived = Path(row["archived_path"])
        assert archived.read_bytes() == path.read_bytes()
        assert archived.name == f"{sha256(path)}{path.suffix}"
        [refusal] = refusals(con, row["submission_id"])
        assert refusal["rule"] == rule
        assert words in refusal["message"]
        assert "BadZipFile" not in refusal["message"]
        receipt = receipt_path(con, row["submission_id"])
        assert receipt.parent == archive.parent / "receipts" / str(YEAR)
        text = receipt.read_text(encoding="utf-8")
        assert words in text
        assert "Không tiếp nhận (từ chối cả tệp)" in text
    assert "gửi tệp Excel Workbook (.xlsx)" in refusals(con, sha256(files["pdf"]))[0]["message"]
    assert (
        "Lưu thành (Save As) 'Excel Workbook (*.xlsx)'"
        in (refusals(con, sha256(files["xls"]))[0]["message"])
    )
    assert submission(con, "hop_le.xlsx")["status"] == "accepted"


# --- 4. the inbox year, unchanged files -------------------------------------------


def test_a_workbook_for_another_year_is_answered_under_the_inbox_year(setup) -> None:
    _, preset, con, inbox, archive = setup
    path = inbox / str(YEAR) / "department" / "DTI_2023_S-A.xlsx"
    write_unit_workbook(path, preset.framework("department"), unit_of(preset, "S-A"), 2023, {})
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert summary.files_refused == ["DTI_2023_S-A.xlsx"]
    row = submission(con, "DTI_2023_S-A.xlsx")
    assert (row["year"], row["inbox_year"], row["status"]) == (2023, YEAR, "refused")
    receipt = receipt_path(con, row["submission_id"])
    assert receipt.parent == archive.parent / "receipts" / str(YEAR)
    assert receipt.is_file()
    assert not (archive.parent / "receipts" / "2023").exists()
    assert summary.as_metadata()["refused_receipts"] == [str(receipt.parent)]


def test_a_byte_identical_file_is_counted_as_unchanged(setup) -> None:
    _, preset, con, inbox, archive = setup
    first = submit(preset, inbox, "S-A", {"P1.1": 40.0}, at=T0)
    ingest_year(con, preset, YEAR, inbox, archive)
    shutil.copyfile(first, first.with_name("ban_sao.xlsx"))
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_seen, summary.files_new, summary.files_unchanged) == (2, 0, 2)
    assert summary.as_metadata()["files_unchanged"] == 2


# --- the command line --------------------------------------------------------------------------


def test_dti_run_refuses_a_missing_inbox_in_one_line(setup, tmp_path: Path) -> None:
    preset_path = setup[0]
    setup[2].close()
    runner = CliRunner()
    missing = tmp_path / "khong_co"
    result = runner.invoke(
        cli, ["run", "--preset", str(preset_path), "--year", "2024", "--inbox", str(missing)]
    )
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert "không có thư mục tiếp nhận (inbox)" in result.output
    assert str(missing) in result.output
    assert "Traceback" not in result.output
    # no --inbox and no $DTI_HOME/inbox
    default = runner.invoke(cli, ["run", "--preset", str(preset_path), "--year", "2024"])
    assert default.exit_code == 2, default.output
    assert str(Path(os.environ["DTI_HOME"]) / "inbox") in default.output


def dti(executable: str, *args: str) -> subprocess.CompletedProcess:
    """``dti ARGS`` in a child process: the Dagster code location binds the warehouse of the
    ``$DTI_HOME`` it is first imported with, so each run of the job gets a fresh interpreter."""
    return subprocess.run(
        [executable, *args],
        env=subprocess_env(Path(os.environ["DTI_HOME"])),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_dti_run_says_what_it_read_and_scores_the_levels_with_data(
    setup, dti_executable: str
) -> None:
    preset_path, preset, con, inbox, _ = setup
    con.close()
    for i, unit in enumerate(("S-A", "S-B", "S-C", "S-D")):
        submit(preset, inbox, unit, {"P1.1": 40.0 + 10 * i, "P1.2": 1.0}, at=T0 + i)
    # the same bytes twice in one pass, a workbook of 2023, and a PDF; no commune file at all
    copy = inbox / str(YEAR) / "department" / "DTI_2024_S-A (1).xlsx"
    shutil.copyfile(inbox / str(YEAR) / "department" / "DTI_2024_S-A.xlsx", copy)
    os.utime(copy, (T0 + 10, T0 + 10))
    wrong_year = inbox / str(YEAR) / "department" / "DTI_2023_S-B.xlsx"
    write_unit_workbook(
        wrong_year, preset.framework("department"), unit_of(preset, "S-B"), 2023, {}
    )
    (inbox / str(YEAR) / "department" / "cong_van.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    result = dti(
        dti_executable, "run", "--preset", str(preset_path), "--year", "2024", "--inbox", str(inbox)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "DagsterAssetCheckFailedError" not in result.stdout + result.stderr
    receipts = Path(os.environ["DTI_HOME"]) / "receipts" / "2024"
    assert (
        "2024: 7 tệp, 6 tệp mới, 1 tệp không đổi (đã nhận trước đó), 2 tệp bị từ chối"
        in result.stdout
    )
    assert f"biên nhận của tệp bị từ chối: {receipts}" in result.stdout
    assert "chưa có tệp nào cho cấp xã năm 2024 (cấp này chưa được chấm điểm)" in result.stdout
    assert "Cấp sở (sở, ban, ngành)" in result.stdout  # the department level is scored
    assert len(list(receipts.glob("*.receipt.md"))) == 6
    status = dti(dti_executable, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    [department] = [line for line in status.stdout.splitlines() if "department" in line]
    # the four units' files and the 2023 workbook, all found in inbox/2024 (the PDF has no level)
    assert department.split("│")[3].strip() == "5", status.stdout


def test_dti_run_says_when_nothing_was_accepted_for_the_year(setup, dti_executable: str) -> None:
    preset_path, _, con, inbox, _ = setup
    con.close()
    (inbox / str(YEAR)).mkdir(parents=True)
    (inbox / str(YEAR) / "cong_van.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    result = dti(
        dti_executable, "run", "--preset", str(preset_path), "--year", "2024", "--inbox", str(inbox)
    )
    assert result.returncode == 1, result.stdout  # nothing to score: the year is not scored
    assert "2024: 1 tệp, 1 tệp mới, 0 tệp không đổi (đã nhận trước đó), 1 tệp bị từ chối" in (
        result.stdout
    )
    assert "chưa có tệp nào được tiếp nhận cho năm 2024: năm này chưa chấm điểm được" in (
        result.stdout
    )
