"""Tests of pipelines/intake/ingest.py and sql/queries/observations.sql against a temporary DuckDB.

Preset daklak, year 2024, commune level; a few workbooks written into ``inbox/2024/commune``.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines.framework.preset import Preset, load_preset
from pipelines.intake import submission_rows
from pipelines.intake.ingest import ingest_year
from pipelines.store import warehouse
from pipelines.store.reference import store_reference
from pipelines.store.warehouse import run_query
from pipelines.workbook.write import write_appraisal_workbook, write_unit_workbook

YEAR = 2024
VALUES_01 = {"P1.1": 1.0, "P1.4": 12.0, "P1.5": 85.5}
VALUES_02 = {"P1.1": 0.0, "P1.5": 60.0}
VALUES_03: dict[str, float | None] = {}


@pytest.fixture(scope="module")
def preset() -> Preset:
    return load_preset("daklak")


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory: pytest.TempPathFactory, preset: Preset) -> Path:
    """A warehouse with the 2024 reference data, built once and copied for each test."""
    path = tmp_path_factory.mktemp("reference") / "w.duckdb"
    con = warehouse.connect(path)
    store_reference(con, preset, YEAR)
    con.close()
    return path


@pytest.fixture
def con(tmp_path: Path, reference_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path / "w.duckdb"
    shutil.copyfile(reference_db, path)
    connection = warehouse.connect(path)
    yield connection
    connection.close()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "archive"


def unit_row(preset: Preset, unit_id: str) -> dict:
    rows = preset.registry.filter(preset.registry["unit_id"] == unit_id).to_dicts()
    assert len(rows) == 1, unit_id
    return rows[0]


def submit(
    preset: Preset,
    inbox: Path,
    unit: Mapping[str, object],
    values: Mapping[str, float | None],
    year: int = YEAR,
    folder_year: int = YEAR,
    name: str | None = None,
) -> Path:
    """Write a unit's workbook into ``inbox/<folder_year>/commune``."""
    file_name = name or f"DTI_{year}_{unit['unit_id']}.xlsx"
    path = inbox / str(folder_year) / "commune" / file_name
    return write_unit_workbook(path, preset.framework("commune"), unit, year, values=values)


def submit_three(preset: Preset, inbox: Path) -> list[Path]:
    return [
        submit(preset, inbox, unit_row(preset, "X-BMT-01"), VALUES_01),
        submit(preset, inbox, unit_row(preset, "X-BMT-02"), VALUES_02),
        submit(preset, inbox, unit_row(preset, "X-BMT-03"), VALUES_03),
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        table: scalar(con, f"SELECT count(*) FROM {table}")
        for table in ("submissions", "raw_values", "rejected_rows")
    }


def records(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[dict]:
    return con.execute(sql, list(params)).pl().to_dicts()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> object:
    return con.execute(sql, list(params)).fetchone()[0]


def observations(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    frame = run_query(con, "observations", year=YEAR, level="commune")
    return {(r["unit_id"], r["indicator_id"]): r for r in frame.to_dicts()}


# --- archive -----------------------------------------------------------------------------------


def test_archive_holds_each_file_byte_identical(
    con, preset: Preset, inbox: Path, archive: Path
) -> None:
    files = submit_three(preset, inbox)
    originals = {path.name: path.read_bytes() for path in files}
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_seen, summary.files_new, summary.files_refused) == (3, 3, [])
    assert (summary.values_accepted, summary.values_rejected) == (165, 0)

    stored = records(
        con,
        "SELECT submission_id, received_seq, kind, file_name, archived_path, year, level, "
        "unit_id, n_accepted, n_rejected, status FROM submissions ORDER BY received_seq",
    )
    assert len(stored) == 3
    for row, path, seq in zip(stored, files, (1, 2, 3), strict=True):
        digest = hashlib.sha256(originals[path.name]).hexdigest()
        archived = archive / digest[:2] / f"{digest}.xlsx"
        assert archived.read_bytes() == originals[path.name]
        assert row == {
            "submission_id": digest,
            "received_seq": seq,
            "kind": "self",
            "file_name": path.name,
            "archived_path": str(archived),
            "year": 2024,
            "level": "commune",
            "unit_id": path.stem.removeprefix("DTI_2024_"),
            "n_accepted": 55,
            "n_rejected": 0,
            "status": "accepted",
        }
    assert [r["file_name"] for r in stored] == [
        "DTI_2024_X-BMT-01.xlsx",
        "DTI_2024_X-BMT-02.xlsx",
        "DTI_2024_X-BMT-03.xlsx",
    ]
    assert sorted(p.name for p in archive.rglob("*") if p.is_file()) == sorted(
        f"{sha256(p)}.xlsx" for p in files
    )


# --- raw values --------------------------------------------------------------------------------


def test_raw_values_locate_every_value(con, preset: Preset, inbox: Path, archive: Path) -> None:
    files = submit_three(preset, inbox)
    ingest_year(con, preset, YEAR, inbox, archive)
    assert counts(con) == {"submissions": 3, "raw_values": 165, "rejected_rows": 0}
    unlocated = scalar(
        con,
        "SELECT count(*) FROM raw_values WHERE file_name IS NULL OR sheet IS NULL "
        "OR row_number IS NULL OR column_name IS NULL",
    )
    assert unlocated == 0
    per_file = records(
        con,
        "SELECT file_name, min(row_number) AS first, max(row_number) AS last, "
        "count(DISTINCT row_number) AS n_rows, string_agg(DISTINCT sheet) AS sheets, "
        "string_agg(DISTINCT column_name) AS columns, count(value) AS with_value "
        "FROM raw_values GROUP BY file_name ORDER BY file_name",
    )
    assert per_file == [
        {
            "file_name": "DTI_2024_X-BMT-01.xlsx",
            "first": 9,
            "last": 63,
            "n_rows": 55,
            "sheets": "Tự đánh giá",
            "columns": "G",
            "with_value": 3,
        },
        {
            "file_name": "DTI_2024_X-BMT-02.xlsx",
            "first": 9,
            "last": 63,
            "n_rows": 55,
            "sheets": "Tự đánh giá",
            "columns": "G",
            "with_value": 2,
        },
        {
            "file_name": "DTI_2024_X-BMT-03.xlsx",
            "first": 9,
            "last": 63,
            "n_rows": 55,
            "sheets": "Tự đánh giá",
            "columns": "G",
            "with_value": 0,
        },
    ]
    located = records(
        con,
        "SELECT submission_id, file_name, sheet, row_number, column_name, year, level, unit_id, "
        "indicator_id, kind, raw_text, value, reason FROM raw_values "
        "WHERE unit_id = 'X-BMT-01' AND indicator_id IN ('P1.1', 'P1.2', 'P1.5') "
        "ORDER BY row_number",
    )
    common = {
        "submission_id": sha256(files[0]),
        "file_name": "DTI_2024_X-BMT-01.xlsx",
        "sheet": "Tự đánh giá",
        "column_name": "G",
        "year": 2024,
        "level": "commune",
        "unit_id": "X-BMT-01",
        "kind": "self",
        "reason": None,
    }
    assert located == [
        {**common, "row_number": 9, "indicator_id": "P1.1", "raw_text": "Có", "value": 1.0},
        {**common, "row_number": 10, "indicator_id": "P1.2", "raw_text": None, "value": None},
        {**common, "row_number": 13, "indicator_id": "P1.5", "raw_text": "85.5", "value": 85.5},
    ]


def test_ingesting_again_adds_nothing(con, preset: Preset, inbox: Path, archive: Path) -> None:
    submit_three(preset, inbox)
    ingest_year(con, preset, YEAR, inbox, archive)
    before = counts(con)
    archived_before = sorted(p for p in archive.rglob("*") if p.is_file())
    assert before == {"submissions": 3, "raw_values": 165, "rejected_rows": 0}

    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_seen, summary.files_new) == (3, 0)
    assert (summary.values_accepted, summary.values_rejected) == (0, 0)
    assert counts(con) == before
    assert sorted(p for p in archive.rglob("*") if p.is_file()) == archived_before
    # the same bytes under another name are the same submission too
    copy = inbox / "2024" / "commune" / "ban_sao.xlsx"
    shutil.copyfile(inbox / "2024" / "commune" / "DTI_2024_X-BMT-01.xlsx", copy)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_seen, summary.files_new) == (4, 0)
    assert counts(con) == before


# --- resubmission ------------------------------------------------------------------------------


def test_resubmission_keeps_both_and_observations_use_the_later(
    con, preset: Preset, inbox: Path, archive: Path
) -> None:
    first_file, second_unit, _ = submit_three(preset, inbox)
    first_bytes = first_file.read_bytes()
    first_sha = sha256(first_file)
    ingest_year(con, preset, YEAR, inbox, archive)

    # the unit corrects its file and sends it again under the same name: P1.5 changes, P1.4 blank
    corrected = {"P1.1": 1.0, "P1.5": 90.0}
    submit(preset, inbox, unit_row(preset, "X-BMT-01"), corrected)
    second_sha = sha256(first_file)
    assert second_sha != first_sha
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_seen, summary.files_new) == (3, 1)

    assert records(
        con,
        "SELECT submission_id, received_seq, status FROM submissions "
        "WHERE unit_id = 'X-BMT-01' ORDER BY received_seq",
    ) == [
        {"submission_id": first_sha, "received_seq": 1, "status": "accepted"},
        {"submission_id": second_sha, "received_seq": 4, "status": "accepted"},
    ]
    # both files are kept, the first one byte for byte
    assert (archive / first_sha[:2] / f"{first_sha}.xlsx").read_bytes() == first_bytes
    assert (archive / second_sha[:2] / f"{second_sha}.xlsx").exists()
    assert records(
        con,
        "SELECT submission_id, value FROM raw_values "
        "WHERE unit_id = 'X-BMT-01' AND indicator_id = 'P1.5' ORDER BY value",
    ) == [
        {"submission_id": first_sha, "value": 85.5},
        {"submission_id": second_sha, "value": 90.0},
    ]
    assert counts(con) == {"submissions": 4, "raw_values": 220, "rejected_rows": 0}

    obs = observations(con)
    assert len(obs) == 165  # 3 units × 55 components: the earlier file does not add rows
    p15 = obs[("X-BMT-01", "P1.5")]
    assert (p15["self_value"], p15["value"], p15["self_submission_id"]) == (
        90.0,
        90.0,
        second_sha,
    )
    # the later file replaces the earlier one as a whole: P1.4, left blank now, is missing
    assert obs[("X-BMT-01", "P1.4")]["value"] is None
    assert obs[("X-BMT-01", "P1.4")]["self_submission_id"] == second_sha
    # the other units are untouched
    assert obs[("X-BMT-02", "P1.5")]["value"] == 60.0
    assert obs[("X-BMT-02", "P1.5")]["self_submission_id"] == sha256(second_unit)


# --- refused files -----------------------------------------------------------------------------


def test_unit_not_in_registry_is_refused(con, preset: Preset, inbox: Path, archive: Path) -> None:
    submit_three(preset, inbox)
    stranger = {**unit_row(preset, "X-BMT-01"), "unit_id": "X-KHONG-99", "name": "Xã Không Có"}
    path = submit(preset, inbox, stranger, {"P1.1": 1.0, "P1.5": 50.0})
    digest = sha256(path)
    original = path.read_bytes()
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert summary.files_refused == ["DTI_2024_X-KHONG-99.xlsx"]

    [submission] = records(
        con,
        "SELECT kind, year, level, unit_id, status, n_accepted, n_rejected, archived_path "
        "FROM submissions WHERE submission_id = ?",
        digest,
    )
    # what _meta says is kept even though the file is refused (kind, year, level, unit)
    assert submission == {
        "kind": "self",
        "year": 2024,
        "level": "commune",
        "unit_id": "X-KHONG-99",
        "status": "refused",
        "n_accepted": 0,
        "n_rejected": 1,
        "archived_path": str(archive / digest[:2] / f"{digest}.xlsx"),
    }
    # nothing is lost: the refused file is archived as it came
    assert (archive / digest[:2] / f"{digest}.xlsx").read_bytes() == original
    [rejected] = records(
        con,
        "SELECT file_name, sheet, rule, message FROM rejected_rows WHERE submission_id = ?",
        digest,
    )
    assert rejected["file_name"] == "DTI_2024_X-KHONG-99.xlsx"
    assert rejected["sheet"] == "_meta"
    assert rejected["rule"] == "unknown_unit"
    assert rejected["message"].startswith("DTI_2024_X-KHONG-99.xlsx · trang '_meta' · ")
    assert rejected["message"].endswith(
        ": đơn vị 'X-KHONG-99' không có trong danh mục cấp commune năm 2024"
    )
    orphans = scalar(
        con,
        "SELECT count(*) FROM raw_values WHERE submission_id = ? OR unit_id = 'X-KHONG-99'",
        digest,
    )
    assert orphans == 0
    assert not any(unit == "X-KHONG-99" for unit, _ in observations(con))
    # the other files of the pass are stored normally
    assert counts(con) == {"submissions": 4, "raw_values": 165, "rejected_rows": 1}


def test_wrong_year_is_refused(con, preset: Preset, inbox: Path, archive: Path) -> None:
    # a 2023 workbook dropped into the 2024 folder
    path = submit(
        preset, inbox, unit_row(preset, "X-BMT-02"), VALUES_02, year=2023, name="DTI_X-BMT-02.xlsx"
    )
    digest = sha256(path)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert summary.files_refused == ["DTI_X-BMT-02.xlsx"]
    assert records(con, "SELECT submission_id, status, n_accepted FROM submissions") == [
        {"submission_id": digest, "status": "refused", "n_accepted": 0}
    ]
    [rejected] = records(con, "SELECT file_name, sheet, rule, message FROM rejected_rows")
    assert (rejected["file_name"], rejected["sheet"], rejected["rule"]) == (
        "DTI_X-BMT-02.xlsx",
        "_meta",
        "wrong_year",
    )
    assert rejected["message"].endswith(": tệp của năm 2023, không phải năm 2024")
    assert counts(con)["raw_values"] == 0
    assert observations(con) == {}


def test_file_without_meta_is_refused_and_archived(
    con, preset: Preset, inbox: Path, archive: Path
) -> None:
    path = submit(preset, inbox, unit_row(preset, "X-BMT-01"), VALUES_01)
    book = load_workbook(path)
    del book["_meta"]
    book.save(path)
    book.close()
    digest = sha256(path)
    ingest_year(con, preset, YEAR, inbox, archive)
    assert records(con, "SELECT status FROM submissions") == [{"status": "refused"}]
    assert records(con, "SELECT rule, message FROM rejected_rows") == [
        {
            "rule": "missing_meta",
            "message": "DTI_2024_X-BMT-01.xlsx · trang '_meta' · dòng 1 · cột A: "
            "thiếu trang ẩn '_meta' (tệp không lập từ mẫu DTI)",
        }
    ]
    assert (archive / digest[:2] / f"{digest}.xlsx").read_bytes() == path.read_bytes()
    assert counts(con)["raw_values"] == 0


def test_damaged_file_is_refused_and_archived(
    con, preset: Preset, inbox: Path, archive: Path
) -> None:
    path = inbox / "2024" / "commune" / "DTI_2024_X-BMT-01.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip: a Word file renamed to .xlsx")
    digest = sha256(path)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert summary.files_refused == ["DTI_2024_X-BMT-01.xlsx"]
    assert records(con, "SELECT status, n_accepted, n_rejected FROM submissions") == [
        {"status": "refused", "n_accepted": 0, "n_rejected": 1}
    ]
    [rejected] = records(con, "SELECT file_name, rule, message FROM rejected_rows")
    assert (rejected["file_name"], rejected["rule"]) == (
        "DTI_2024_X-BMT-01.xlsx",
        "unreadable_file",
    )
    assert "không đọc được tệp Excel" in rejected["message"]
    assert (archive / digest[:2] / f"{digest}.xlsx").read_bytes() == (
        b"not a zip: a Word file renamed to .xlsx"
    )


# --- appraisal ---------------------------------------------------------------------------------


def test_appraisal_overrides_self_value_keeping_both_and_the_reason(
    con, preset: Preset, inbox: Path, archive: Path
) -> None:
    submit_three(preset, inbox)
    ingest_year(con, preset, YEAR, inbox, archive)
    rows = [
        {
            "unit_id": "X-BMT-01",
            "unit_name": "Phường Tân Lập",
            "indicator_id": "P1.5",
            "self_value": 85.5,
            "appraised_value": 70.0,
            "reason": "Tài liệu kiểm chứng không đầy đủ",
        },
        {
            "unit_id": "X-BMT-02",
            "unit_name": "Phường Tân Hòa",
            "indicator_id": "P1.1",
            "self_value": "Không",
            "appraised_value": "Có",
            "reason": "Bổ sung minh chứng hợp lệ trong quá trình thẩm định",
        },
        {
            "unit_id": "X-KHONG-99",
            "unit_name": "Xã Không Có",
            "indicator_id": "P1.1",
            "self_value": 1,
            "appraised_value": 0,
            "reason": "Không cung cấp được minh chứng cho số liệu báo cáo",
        },
    ]
    path = write_appraisal_workbook(
        inbox / "2024" / "commune" / "THAM_DINH_2024_commune.xlsx",
        preset.framework("commune"),
        level="commune",
        year=YEAR,
        rows=rows,
    )
    digest = sha256(path)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_new, summary.values_accepted, summary.values_rejected) == (1, 2, 1)

    assert records(
        con,
        "SELECT kind, unit_id, received_seq, n_accepted, n_rejected, status FROM submissions "
        "WHERE submission_id = ?",
        digest,
    ) == [
        {
            "kind": "appraisal",
            "unit_id": None,
            "received_seq": 4,
            "n_accepted": 2,
            "n_rejected": 1,
            "status": "partially_accepted",
        }
    ]
    # both values stay in the raw layer, the appraised one with its reason and location
    assert records(
        con,
        "SELECT kind, sheet, row_number, column_name, value, reason FROM raw_values "
        "WHERE unit_id = 'X-BMT-01' AND indicator_id = 'P1.5' ORDER BY kind DESC",
    ) == [
        {
            "kind": "self",
            "sheet": "Tự đánh giá",
            "row_number": 13,
            "column_name": "G",
            "value": 85.5,
            "reason": None,
        },
        {
            "kind": "appraised",
            "sheet": "Thẩm định",
            "row_number": 5,
            "column_name": "E",
            "value": 70.0,
            "reason": "Tài liệu kiểm chứng không đầy đủ",
        },
    ]
    # the row for a unit that does not exist is refused, not kept
    assert records(
        con,
        "SELECT sheet, row_number, column_name, unit_id, indicator_id, rule, message "
        "FROM rejected_rows WHERE submission_id = ?",
        digest,
    ) == [
        {
            "sheet": "Thẩm định",
            "row_number": 7,
            "column_name": "A",
            "unit_id": "X-KHONG-99",
            "indicator_id": "P1.1",
            "rule": "unknown_unit",
            "message": "THAM_DINH_2024_commune.xlsx · trang 'Thẩm định' · dòng 7 · cột A: "
            "đơn vị 'X-KHONG-99' không có trong danh mục cấp commune năm 2024",
        }
    ]

    obs = observations(con)
    assert len(obs) == 165
    keep = ("self_value", "appraised_value", "value", "appraisal_reason", "appraisal_submission_id")
    assert {k: obs[("X-BMT-01", "P1.5")][k] for k in keep} == {
        "self_value": 85.5,
        "appraised_value": 70.0,
        "value": 70.0,
        "appraisal_reason": "Tài liệu kiểm chứng không đầy đủ",
        "appraisal_submission_id": digest,
    }
    assert {k: obs[("X-BMT-02", "P1.1")][k] for k in keep} == {
        "self_value": 0.0,
        "appraised_value": 1.0,
        "value": 1.0,
        "appraisal_reason": "Bổ sung minh chứng hợp lệ trong quá trình thẩm định",
        "appraisal_submission_id": digest,
    }
    # values the appraisal did not touch keep the self-assessment
    assert {k: obs[("X-BMT-01", "P1.1")][k] for k in keep} == {
        "self_value": 1.0,
        "appraised_value": None,
        "value": 1.0,
        "appraisal_reason": None,
        "appraisal_submission_id": None,
    }


# --- a refused cell does not refuse the file ---------------------------------------------------


def test_refused_cell_leaves_the_rest_of_the_file_accepted(
    con, preset: Preset, inbox: Path, archive: Path
) -> None:
    path = submit(preset, inbox, unit_row(preset, "X-BMT-01"), VALUES_01)
    book = load_workbook(path)
    book["Tự đánh giá"]["G13"] = "khoảng 80"
    book.save(path)
    book.close()
    digest = sha256(path)
    ingest_year(con, preset, YEAR, inbox, archive)

    assert records(con, "SELECT status, n_accepted, n_rejected FROM submissions") == [
        {"status": "partially_accepted", "n_accepted": 54, "n_rejected": 1}
    ]
    assert records(con, "SELECT * FROM rejected_rows") == [
        {
            "submission_id": digest,
            "file_name": "DTI_2024_X-BMT-01.xlsx",
            "sheet": "Tự đánh giá",
            "row_number": 13,
            "column_name": "G",
            "year": 2024,
            "unit_id": "X-BMT-01",
            "indicator_id": "P1.5",
            "raw_text": "khoảng 80",
            "rule": "not_a_number",
            "message": "DTI_2024_X-BMT-01.xlsx · trang 'Tự đánh giá' · dòng 13 · cột G: "
            "chỉ số P1.5: 'khoảng 80' không phải là số",
        }
    ]
    assert counts(con)["raw_values"] == 54
    assert scalar(con, "SELECT count(*) FROM raw_values WHERE indicator_id = 'P1.5'") == 0
    obs = observations(con)
    assert len(obs) == 54
    assert obs[("X-BMT-01", "P1.1")]["value"] == 1.0
    assert obs[("X-BMT-01", "P1.4")]["value"] == 12.0


# --- one transaction ---------------------------------------------------------------------------


def test_interrupted_store_leaves_nothing_and_is_simply_run_again(
    con, preset: Preset, inbox: Path, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit_three(preset, inbox)
    real_insert = submission_rows.insert_frame

    def failing_insert(connection, table, frame):
        if table == "rejected_rows":
            raise RuntimeError("killed while storing")
        return real_insert(connection, table, frame)

    monkeypatch.setattr(submission_rows, "insert_frame", failing_insert)
    with pytest.raises(RuntimeError, match="killed while storing"):
        ingest_year(con, preset, YEAR, inbox, archive)
    assert counts(con) == {"submissions": 0, "raw_values": 0, "rejected_rows": 0}

    monkeypatch.setattr(submission_rows, "insert_frame", real_insert)
    summary = ingest_year(con, preset, YEAR, inbox, archive)
    assert (summary.files_seen, summary.files_new) == (3, 3)
    assert counts(con) == {"submissions": 3, "raw_values": 165, "rejected_rows": 0}
