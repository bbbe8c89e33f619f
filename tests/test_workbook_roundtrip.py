"""Unit and appraisal workbooks: written with xlsxwriter, read back with openpyxl, then damaged the
way units damage them, with the exact located refusal for each fault.

Framework: the real Đắk Lắk commune index (2534/QĐ-UBND, 55 components); unit: Phường Tân Lập.
"""

from __future__ import annotations

import hashlib
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipelines.framework.model import Framework
from pipelines.framework.preset import load_preset
from pipelines.workbook.read import (
    ParsedWorkbook,
    WorkbookError,
    open_workbook,
    read_meta,
    read_unit_workbook,
)
from pipelines.workbook.read_appraisal import read_appraisal_workbook
from pipelines.workbook.write import write_appraisal_workbook, write_unit_workbook

YEAR = 2024
SHEET = "Tự đánh giá"
# The 55 components of the commune index, in document order (pillars of 6, 5, 11, 5, 4, 12, 7, 5).
LEAF_IDS = [
    f"P{pillar}.{i}"
    for pillar, count in enumerate((6, 5, 11, 5, 4, 12, 7, 5), start=1)
    for i in range(1, count + 1)
]
# Excel rows of some components: header on row 8, P1.1 on row 9, P8.5 on row 63.
ROW = {
    "P1.1": 9,
    "P1.2": 10,
    "P1.3": 11,
    "P1.4": 12,
    "P1.5": 13,
    "P3.1": 20,
    "P5.2": 37,
    "P6.5": 44,
    "P6.12": 51,
    "P7.7": 58,
    "P8.5": 63,
}
VALUES: dict[str, float | None] = {
    "P1.1": 1.0,  # yes/no: Có
    "P1.2": None,  # left blank: missing
    "P1.3": 0.0,  # yes/no: Không
    "P1.4": 12.0,  # a count
    "P1.5": 85.5,  # a percentage
    "P3.1": 100.0,  # a percentage at its maximum
    "P5.2": 0.0,  # zero incidents: a real zero, not missing
    "P6.5": 0.75,  # days
    "P6.12": 12.5,  # points entered directly (maximum 15)
    "P7.7": 1234.0,  # a count scored relative to the best unit
}
# What the reader gives back for those cells: (value, raw text as the cell holds it).
READ_BACK = {
    "P1.1": (1.0, "Có"),
    "P1.2": (None, None),
    "P1.3": (0.0, "Không"),
    "P1.4": (12.0, "12"),
    "P1.5": (85.5, "85.5"),
    "P3.1": (100.0, "100"),
    "P5.2": (0.0, "0"),
    "P6.5": (0.75, "0.75"),
    "P6.12": (12.5, "12.5"),
    "P7.7": (1234.0, "1234"),
}
HEADERS = (
    "STT",
    "Mã chỉ số",
    "Tên chỉ số",
    "Đơn vị tính",
    "Điểm tối đa",
    "Cách chấm điểm",
    "Giá trị báo cáo",
    "Điểm tự đánh giá",
    "Tài liệu kiểm chứng",
)


@pytest.fixture(scope="module")
def framework() -> Framework:
    return load_preset("daklak").framework("commune")


@pytest.fixture(scope="module")
def unit() -> dict:
    registry = load_preset("daklak").registry
    rows = registry.filter(registry["unit_id"] == "X-BMT-01").to_dicts()
    assert len(rows) == 1
    return rows[0]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory, framework: Framework, unit: dict) -> Path:
    """The unit's workbook with VALUES, written once; tests copy it before changing anything."""
    path = tmp_path_factory.mktemp("original") / "DTI_2024_X-BMT-01.xlsx"
    return write_unit_workbook(path, framework, unit, YEAR, values=VALUES)


def read_unit(path: Path, framework: Framework) -> ParsedWorkbook:
    book = open_workbook(path)
    try:
        return read_unit_workbook(book, framework, path.name)
    finally:
        book.close()


def read_appraisal(path: Path, framework: Framework) -> ParsedWorkbook:
    book = open_workbook(path)
    try:
        return read_appraisal_workbook(book, framework, path.name)
    finally:
        book.close()


def edited(original: Path, target: Path, change: Callable) -> Path:
    """A copy of ``original`` at ``target`` changed with openpyxl, as a unit would in Excel."""
    shutil.copyfile(original, target)
    book = load_workbook(target)
    change(book)
    book.save(target)
    book.close()
    return target


def by_id(parsed: ParsedWorkbook) -> dict[str, dict]:
    return {row["indicator_id"]: row for row in parsed.accepted}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- layout ------------------------------------------------------------------------------------


def test_layout_header_on_row_8_first_indicator_on_row_9(original: Path) -> None:
    book = load_workbook(original)
    assert book.sheetnames == ["Hướng dẫn", "Tự đánh giá", "_meta"]
    assert book["_meta"].sheet_state == "hidden"
    sheet = book[SHEET]
    assert tuple(c.value for c in sheet[8][:9]) == HEADERS
    assert sheet["G8"].value == "Giá trị báo cáo"
    assert sheet["A2"].value == "Đơn vị: Phường Tân Lập"
    assert (sheet["A9"].value, sheet["B9"].value) == (1, "P1.1")
    assert (sheet["A63"].value, sheet["B63"].value) == (55, "P8.5")
    assert sheet["B64"].value is None
    assert sheet["G9"].value == "Có"
    assert sheet["G10"].value is None
    assert sheet["G13"].value == 85.5
    book.close()


# --- round trip --------------------------------------------------------------------------------


def test_values_round_trip_with_real_rows_and_column_g(
    original: Path, framework: Framework
) -> None:
    parsed = read_unit(original, framework)
    assert parsed.file_name == "DTI_2024_X-BMT-01.xlsx"
    assert parsed.rejected == []
    assert parsed.missing_indicators == []
    assert [row["indicator_id"] for row in parsed.accepted] == LEAF_IDS
    assert [row["row_number"] for row in parsed.accepted] == list(range(9, 64))
    assert {row["column_name"] for row in parsed.accepted} == {"G"}
    assert {row["sheet"] for row in parsed.accepted} == {"Tự đánh giá"}
    assert {row["kind"] for row in parsed.accepted} == {"self"}
    rows = by_id(parsed)
    for indicator, (value, raw_text) in READ_BACK.items():
        assert rows[indicator]["value"] == value, indicator
        assert rows[indicator]["raw_text"] == raw_text, indicator
        assert rows[indicator]["row_number"] == ROW[indicator], indicator
    # the blank is missing, the zero is a zero
    assert rows["P1.2"]["value"] is None
    assert rows["P5.2"]["value"] == 0.0
    # every component not given a value reads as missing
    others = [i for i in LEAF_IDS if i not in VALUES]
    assert len(others) == 45
    assert all(rows[i]["value"] is None and rows[i]["raw_text"] is None for i in others)


def test_full_accepted_record_of_one_cell(original: Path, framework: Framework) -> None:
    assert by_id(read_unit(original, framework))["P1.5"] == {
        "sheet": "Tự đánh giá",
        "row_number": 13,
        "column_name": "G",
        "indicator_id": "P1.5",
        "kind": "self",
        "value": 85.5,
        "reason": None,
        "raw_text": "85.5",
        # evidence and the unit's own points are read too (blank in this workbook)
        "evidence": None,
        "self_points": None,
    }


def test_meta_identifies_framework_version_unit_and_year(
    original: Path, framework: Framework
) -> None:
    book = open_workbook(original)
    try:
        meta = read_meta(book, original.name)
    finally:
        book.close()
    assert meta == {
        "format": "dti-workbook/1",
        "kind": "self",
        "framework_id": "daklak-2534-commune",
        "framework_version": "2534/QĐ-UBND (2022-11-11)",
        "framework_hash": framework.content_hash(),
        "level": "commune",
        "unit_id": "X-BMT-01",
        "year": "2024",
        "synthetic": "false",
    }
    assert len(meta["framework_hash"]) == 64
    assert read_unit(original, framework).meta == meta


def test_same_inputs_give_byte_identical_files(
    tmp_path: Path, original: Path, framework: Framework, unit: dict
) -> None:
    again = write_unit_workbook(tmp_path / "a" / "other_name.xlsx", framework, unit, YEAR, VALUES)
    assert again.read_bytes() == original.read_bytes()
    assert sha256(again) == sha256(original)
    with zipfile.ZipFile(again) as archive:  # no clock in the file: every part has Excel's date
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    changed = write_unit_workbook(
        tmp_path / "b" / "changed.xlsx", framework, unit, YEAR, {**VALUES, "P1.5": 90.0}
    )
    assert sha256(changed) != sha256(original)
    other_year = write_unit_workbook(tmp_path / "c" / "y.xlsx", framework, unit, 2023, VALUES)
    assert sha256(other_year) != sha256(original)


def test_template_without_values_reads_as_all_missing(
    tmp_path: Path, framework: Framework, unit: dict
) -> None:
    path = write_unit_workbook(tmp_path / "mau.xlsx", framework, unit, YEAR)
    parsed = read_unit(path, framework)
    assert parsed.rejected == []
    assert parsed.missing_indicators == []
    assert len(parsed.accepted) == 55
    assert [row["value"] for row in parsed.accepted] == [None] * 55
    assert [row["raw_text"] for row in parsed.accepted] == [None] * 55
    assert parsed.meta["unit_id"] == "X-BMT-01"


def test_synthetic_workbook_says_so(tmp_path: Path, framework: Framework, unit: dict) -> None:
    path = write_unit_workbook(tmp_path / "s.xlsx", framework, unit, YEAR, VALUES, synthetic=True)
    assert read_unit(path, framework).meta["synthetic"] == "true"
    book = load_workbook(path)
    assert book[SHEET]["A6"].value == (
        "DỮ LIỆU MÔ PHỎNG (SYNTHETIC DEMO DATA) – không phải số liệu thật"
    )
    book.close()


# --- faults in single cells: exact located refusals, the rest of the file still read -----------


@pytest.mark.parametrize(
    ("cell", "content", "indicator", "rule", "message"),
    [
        (
            "G13",
            "khoảng 80",
            "P1.5",
            "not_a_number",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 13 · cột G: "
            "chỉ số P1.5: 'khoảng 80' không phải là số",
        ),
        (
            "G12",
            -3,
            "P1.4",
            "negative_value",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 12 · cột G: chỉ số P1.4: giá trị -3 âm",
        ),
        (
            "G20",
            100.5,
            "P3.1",
            "percent_out_of_range",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 20 · cột G: chỉ số P3.1: tỷ lệ 100,5 vượt 100%",
        ),
        (
            "G9",
            2,
            "P1.1",
            "not_yes_no",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 9 · cột G: "
            "chỉ số P1.1: giá trị 2 không phải Có/Không",
        ),
        (
            "G51",
            15.5,
            "P6.12",
            "above_maximum",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 51 · cột G: "
            "chỉ số P6.12: điểm 15,5 vượt điểm tối đa 15",
        ),
        (
            "G13",
            "#DIV/0!",
            "P1.5",
            "formula_error",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 13 · cột G: "
            "chỉ số P1.5: ô chứa lỗi công thức #DIV/0!",
        ),
        (
            "G44",
            "#REF!",
            "P6.5",
            "formula_error",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 44 · cột G: "
            "chỉ số P6.5: ô chứa lỗi công thức #REF!",
        ),
        (
            "G13",
            "Có",
            "P1.5",
            "not_a_number",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 13 · cột G: chỉ số P1.5: 'Có' không phải là số",
        ),
        (
            "G12",
            True,
            "P1.4",
            "not_a_number",
            "loi.xlsx · trang 'Tự đánh giá' · dòng 12 · cột G: "
            "chỉ số P1.4: 'TRUE' không phải là số",
        ),
    ],
    ids=[
        "text",
        "negative",
        "percent_above_100",
        "yes_no_2",
        "direct_above_max",
        "div0",
        "ref",
        "yes_word_in_percent",
        "excel_true_in_count",
    ],
)
def test_cell_fault_is_refused_with_exact_location(
    tmp_path: Path,
    original: Path,
    framework: Framework,
    cell: str,
    content: object,
    indicator: str,
    rule: str,
    message: str,
) -> None:
    def change(book) -> None:
        book[SHEET][cell] = content

    parsed = read_unit(edited(original, tmp_path / "loi.xlsx", change), framework)
    assert parsed.rejected == [
        {
            "file_name": "loi.xlsx",
            "sheet": "Tự đánh giá",
            "row_number": int(cell[1:]),
            "column_name": "G",
            "rule": rule,
            "message": message,
            "indicator_id": indicator,
            "raw_text": str(content),
        }
    ]
    # the other 54 components are still taken, with their values
    assert len(parsed.accepted) == 54
    rows = by_id(parsed)
    assert indicator not in rows
    for other, (value, _) in READ_BACK.items():
        if other != indicator:
            assert rows[other]["value"] == value, other


def test_vietnamese_decimal_typed_as_text_is_read(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        book[SHEET]["G13"] = "85,5"
        book[SHEET]["G58"] = "1.234"

    parsed = read_unit(edited(original, tmp_path / "text.xlsx", change), framework)
    assert parsed.rejected == []
    rows = by_id(parsed)
    assert (rows["P1.5"]["value"], rows["P1.5"]["raw_text"]) == (85.5, "85,5")
    assert (rows["P7.7"]["value"], rows["P7.7"]["raw_text"]) == (1234.0, "1.234")


def test_percent_formatted_cell_is_read_as_shown(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    # typing "85,5%" in Excel stores 0.855 with a percent format; the unit sees 85,5%
    def change(book) -> None:
        book[SHEET]["G13"] = 0.855
        book[SHEET]["G13"].number_format = "0.0%"
        book[SHEET]["G20"] = 1
        book[SHEET]["G20"].number_format = "0%"
        book[SHEET]["G21"] = 1.2
        book[SHEET]["G21"].number_format = "0%"

    parsed = read_unit(edited(original, tmp_path / "phan_tram.xlsx", change), framework)
    rows = by_id(parsed)
    assert rows["P1.5"]["value"] == 85.5
    assert rows["P3.1"]["value"] == 100.0
    assert [(r["row_number"], r["rule"], r["message"]) for r in parsed.rejected] == [
        (
            21,
            "percent_out_of_range",
            "phan_tram.xlsx · trang 'Tự đánh giá' · dòng 21 · cột G: "
            "chỉ số P3.2: tỷ lệ 120 vượt 100%",
        )
    ]


def test_nfd_text_is_read_and_stored_as_nfc(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        book[SHEET]["G11"] = unicodedata.normalize("NFD", "Không")
        book[SHEET]["G13"] = unicodedata.normalize("NFD", "khoảng 80")

    parsed = read_unit(edited(original, tmp_path / "nfd.xlsx", change), framework)
    p13 = by_id(parsed)["P1.3"]
    assert p13["value"] == 0.0
    assert p13["raw_text"] == "Không"
    assert unicodedata.is_normalized("NFC", p13["raw_text"])
    [refused] = parsed.rejected
    assert refused["rule"] == "not_a_number"
    assert refused["raw_text"] == "khoảng 80"
    assert unicodedata.is_normalized("NFC", refused["raw_text"])
    assert refused["message"] == (
        "nfd.xlsx · trang 'Tự đánh giá' · dòng 13 · cột G: "
        "chỉ số P1.5: 'khoảng 80' không phải là số"
    )


# --- faults in the table's rows ----------------------------------------------------------------


def test_unknown_indicator_is_refused_at_its_id_cell(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        book[SHEET]["B64"] = "P9.9"
        book[SHEET]["G64"] = 5

    parsed = read_unit(edited(original, tmp_path / "ma_la.xlsx", change), framework)
    assert parsed.rejected == [
        {
            "file_name": "ma_la.xlsx",
            "sheet": "Tự đánh giá",
            "row_number": 64,
            "column_name": "B",
            "rule": "unknown_indicator",
            "message": "ma_la.xlsx · trang 'Tự đánh giá' · dòng 64 · cột B: "
            "mã chỉ số 'P9.9' không có trong bộ chỉ số daklak-2534-commune",
            "indicator_id": "P9.9",
            "raw_text": "5",
        }
    ]
    assert len(parsed.accepted) == 55


def test_duplicated_indicator_row_is_refused_first_one_kept(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        book[SHEET]["A64"] = 56
        book[SHEET]["B64"] = "P1.1"
        book[SHEET]["G64"] = "Không"

    parsed = read_unit(edited(original, tmp_path / "lap.xlsx", change), framework)
    assert parsed.rejected == [
        {
            "file_name": "lap.xlsx",
            "sheet": "Tự đánh giá",
            "row_number": 64,
            "column_name": "B",
            "rule": "duplicate_indicator",
            "message": "lap.xlsx · trang 'Tự đánh giá' · dòng 64 · cột B: "
            "mã chỉ số 'P1.1' lặp lại (đã có ở dòng 9)",
            "indicator_id": "P1.1",
            "raw_text": "Không",
        }
    ]
    rows = by_id(parsed)
    assert len(parsed.accepted) == 55
    assert (rows["P1.1"]["row_number"], rows["P1.1"]["value"]) == (9, 1.0)


def test_deleted_indicator_row_is_reported_missing(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        book[SHEET].delete_rows(10)  # P1.2

    parsed = read_unit(edited(original, tmp_path / "xoa.xlsx", change), framework)
    assert parsed.rejected == []
    assert parsed.missing_indicators == ["P1.2"]
    rows = by_id(parsed)
    assert len(rows) == 54
    # the rows below moved up by one, and are reported where they now are
    assert (rows["P1.3"]["row_number"], rows["P1.3"]["value"]) == (10, 0.0)
    assert (rows["P1.5"]["row_number"], rows["P1.5"]["value"]) == (12, 85.5)


# --- faults in the file's structure ------------------------------------------------------------


def test_deleted_meta_sheet_is_a_workbook_error(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        del book["_meta"]

    path = edited(original, tmp_path / "khong_meta.xlsx", change)
    with pytest.raises(WorkbookError) as caught:
        read_unit(path, framework)
    assert caught.value.rule == "missing_meta"
    assert caught.value.file_name == "khong_meta.xlsx"
    assert str(caught.value) == (
        "khong_meta.xlsx: thiếu trang ẩn '_meta' (tệp không lập từ mẫu DTI)"
    )


def test_renamed_data_sheet_is_still_read(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        book[SHEET].title = "Số liệu xã"
        book["Số liệu xã"]["G12"] = -3

    parsed = read_unit(edited(original, tmp_path / "doi_ten.xlsx", change), framework)
    assert len(parsed.accepted) == 54
    assert {row["sheet"] for row in parsed.accepted} == {"Số liệu xã"}
    rows = by_id(parsed)
    for indicator, (value, _) in READ_BACK.items():
        if indicator != "P1.4":
            assert rows[indicator]["value"] == value, indicator
            assert rows[indicator]["row_number"] == ROW[indicator], indicator
    # a refusal names the sheet as it is now called
    assert [r["message"] for r in parsed.rejected] == [
        "doi_ten.xlsx · trang 'Số liệu xã' · dòng 12 · cột G: chỉ số P1.4: giá trị -3 âm"
    ]


def test_inserted_column_before_the_value_column(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        sheet = book[SHEET]
        sheet.insert_cols(7)  # a new column G; "Giá trị báo cáo" moves to H
        sheet["G8"] = "Ghi chú"
        sheet["G13"] = "số liệu tháng 11"
        sheet["G9"] = 2

    parsed = read_unit(edited(original, tmp_path / "them_cot.xlsx", change), framework)
    assert parsed.rejected == []
    assert len(parsed.accepted) == 55
    assert {row["column_name"] for row in parsed.accepted} == {"H"}
    rows = by_id(parsed)
    for indicator, (value, raw_text) in READ_BACK.items():
        assert (rows[indicator]["value"], rows[indicator]["raw_text"]) == (value, raw_text)
        assert rows[indicator]["row_number"] == ROW[indicator]


def test_inserted_column_refusal_names_the_moved_column(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        sheet = book[SHEET]
        sheet.insert_cols(7)
        sheet["G8"] = "Ghi chú"
        sheet["H13"] = "khoảng 80"

    parsed = read_unit(edited(original, tmp_path / "them_cot.xlsx", change), framework)
    assert [(r["row_number"], r["column_name"], r["rule"]) for r in parsed.rejected] == [
        (13, "H", "not_a_number")
    ]
    assert parsed.rejected[0]["message"] == (
        "them_cot.xlsx · trang 'Tự đánh giá' · dòng 13 · cột H: "
        "chỉ số P1.5: 'khoảng 80' không phải là số"
    )


def test_table_moved_down_is_found_by_its_headers(
    tmp_path: Path, original: Path, framework: Framework
) -> None:
    def change(book) -> None:
        book[SHEET].insert_rows(1, amount=2)  # header now on row 10

    parsed = read_unit(edited(original, tmp_path / "them_dong.xlsx", change), framework)
    assert parsed.rejected == []
    assert [row["row_number"] for row in parsed.accepted] == list(range(11, 66))
    assert by_id(parsed)["P1.5"]["value"] == 85.5


# --- appraisal workbook ------------------------------------------------------------------------

APPRAISAL_ROWS = [
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
        "self_value": "Có",
        "appraised_value": "Không",
        "reason": "Không cung cấp được minh chứng cho số liệu báo cáo",
    },
    {
        "unit_id": "X-BMT-02",
        "unit_name": "Phường Tân Hòa",
        "indicator_id": "P6.12",
        "self_value": 12.5,
        "appraised_value": 10,
        "reason": "Văn bản ban hành ngoài kỳ đánh giá",
    },
]


def test_appraisal_round_trip(tmp_path: Path, framework: Framework) -> None:
    path = write_appraisal_workbook(
        tmp_path / "THAM_DINH_2024_commune.xlsx",
        framework,
        level="commune",
        year=YEAR,
        rows=APPRAISAL_ROWS,
    )
    parsed = read_appraisal(path, framework)
    assert parsed.rejected == []
    assert parsed.meta["kind"] == "appraisal"
    assert parsed.meta["unit_id"] == ""
    assert parsed.meta["year"] == "2024"
    assert parsed.meta["level"] == "commune"
    assert parsed.accepted == [
        {
            "sheet": "Thẩm định",
            "row_number": 5,
            "column_name": "E",
            "kind": "appraised",
            "value": 70.0,
            "reason": "Tài liệu kiểm chứng không đầy đủ",
            "unit_id": "X-BMT-01",
            "indicator_id": "P1.5",
            "raw_text": "70",
        },
        {
            "sheet": "Thẩm định",
            "row_number": 6,
            "column_name": "E",
            "kind": "appraised",
            "value": 0.0,
            "reason": "Không cung cấp được minh chứng cho số liệu báo cáo",
            "unit_id": "X-BMT-02",
            "indicator_id": "P1.1",
            "raw_text": "Không",
        },
        {
            "sheet": "Thẩm định",
            "row_number": 7,
            "column_name": "E",
            "kind": "appraised",
            "value": 10.0,
            "reason": "Văn bản ban hành ngoài kỳ đánh giá",
            "unit_id": "X-BMT-02",
            "indicator_id": "P6.12",
            "raw_text": "10",
        },
    ]


def test_appraisal_row_without_reason_is_refused(tmp_path: Path, framework: Framework) -> None:
    rows = [
        APPRAISAL_ROWS[0],
        {**APPRAISAL_ROWS[1], "reason": None},
        {**APPRAISAL_ROWS[2], "reason": "   "},
    ]
    path = write_appraisal_workbook(
        tmp_path / "thieu_ly_do.xlsx", framework, level="commune", year=YEAR, rows=rows
    )
    parsed = read_appraisal(path, framework)
    assert [row["indicator_id"] for row in parsed.accepted] == ["P1.5"]
    assert parsed.rejected == [
        {
            "file_name": "thieu_ly_do.xlsx",
            "sheet": "Thẩm định",
            "row_number": 6,
            "column_name": "F",
            "rule": "missing_reason",
            "message": "thieu_ly_do.xlsx · trang 'Thẩm định' · dòng 6 · cột F: "
            "đơn vị X-BMT-02, chỉ số P1.1: thiếu lý do điều chỉnh",
            "unit_id": "X-BMT-02",
            "indicator_id": "P1.1",
            "raw_text": "Không",
        },
        {
            "file_name": "thieu_ly_do.xlsx",
            "sheet": "Thẩm định",
            "row_number": 7,
            "column_name": "F",
            "rule": "missing_reason",
            "message": "thieu_ly_do.xlsx · trang 'Thẩm định' · dòng 7 · cột F: "
            "đơn vị X-BMT-02, chỉ số P6.12: thiếu lý do điều chỉnh",
            "unit_id": "X-BMT-02",
            "indicator_id": "P6.12",
            "raw_text": "10",
        },
    ]


def test_appraisal_value_faults_are_located(tmp_path: Path, framework: Framework) -> None:
    rows = [
        {**APPRAISAL_ROWS[0], "appraised_value": 120},
        APPRAISAL_ROWS[1],
        {**APPRAISAL_ROWS[1], "appraised_value": "Có"},
    ]
    path = write_appraisal_workbook(
        tmp_path / "td.xlsx", framework, level="commune", year=YEAR, rows=rows
    )
    parsed = read_appraisal(path, framework)
    assert [(r["row_number"], r["column_name"], r["rule"]) for r in parsed.rejected] == [
        (5, "E", "percent_out_of_range"),
        (7, "A", "duplicate_indicator"),
    ]
    assert [r["message"] for r in parsed.rejected] == [
        "td.xlsx · trang 'Thẩm định' · dòng 5 · cột E: "
        "đơn vị X-BMT-01, chỉ số P1.5: tỷ lệ 120 vượt 100%",
        "td.xlsx · trang 'Thẩm định' · dòng 7 · cột A: "
        "đơn vị X-BMT-02, chỉ số P1.1 lặp lại (đã có ở dòng 6)",
    ]
    assert [(r["row_number"], r["value"]) for r in parsed.accepted] == [(6, 0.0)]
