"""A corpus of malformed submissions, each built from a good one (nothing binary is committed).

The good submission is Phường Tân Lập's (``X-BMT-01``) 2024 self-assessment on the real Đắk Lắk
commune index (2534/QĐ-UBND, 55 components; header on row 8, ``P1.1`` on row 9, values in column
G). Each :class:`Fault` builds one damaged file the way units damage them (with openpyxl, as if
edited in Excel, or by editing the CSV text) and states, written by hand:

- every refusal it must cause, exactly: sheet, row, column, rule and the full located message;
- the file's outcome (status, values accepted) and the indicators whose stored value differs
  from the good file (refused or missing rows); every other value must be stored as in the good
  file;
- for a file refused as a whole, the identification that must still be kept.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from openpyxl import load_workbook

from pipelines.framework.preset import load_preset
from pipelines.workbook.write import write_unit_workbook

YEAR = 2024
UNIT = "X-BMT-01"
SHEET = "Tự đánh giá"
NAME = "DTI_2024_X-BMT-01.xlsx"
CSV_NAME = "DTI_2024_X-BMT-01.csv"

# The good file's values (None: left blank); every other component is blank too.
GOOD: dict[str, float | None] = {
    "P1.1": 1.0,  # yes/no: Có (row 9)
    "P1.2": 4.0,  # meetings (row 10)
    "P1.3": 0.0,  # yes/no: Không (row 11)
    "P1.4": 12.0,  # a count (row 12)
    "P1.5": 85.5,  # a percentage (row 13)
    "P3.1": 100.0,  # a percentage at its maximum (row 20)
    "P3.2": 60.0,  # a percentage (row 21)
    "P5.2": 0.0,  # zero incidents: a real zero (row 37)
    "P6.5": 0.75,  # days (row 44)
    "P6.12": 12.5,  # points entered directly, maximum 15 (row 51)
    "P7.7": 1234.0,  # a count (row 58)
}
# How the good values are written in the CSV (Vietnamese decimal comma, quoted).
CSV_TEXT = {
    "P1.1": "Có",
    "P1.2": "4",
    "P1.3": "Không",
    "P1.4": "12",
    "P1.5": '"85,5"',
    "P3.1": "100",
    "P3.2": "60",
    "P5.2": "0",
    "P6.5": '"0,75"',
    "P6.12": '"12,5"',
    "P7.7": "1234",
}


@cache
def leaf_ids() -> tuple[str, ...]:
    return tuple(load_preset("daklak").framework("commune").leaf_ids())


def row_of(indicator: str) -> int:
    """Excel row of an indicator in the good workbook (header on row 8)."""
    return leaf_ids().index(indicator) + 9


def csv_line_of(indicator: str) -> int:
    """Line of an indicator in the good CSV (header on line 1)."""
    return leaf_ids().index(indicator) + 2


def good_values() -> dict[str, float | None]:
    """Every component's value in the good file."""
    return {i: GOOD.get(i) for i in leaf_ids()}


@cache
def _good_workbook_bytes() -> bytes:
    preset = load_preset("daklak")
    unit = preset.registry.filter(preset.registry["unit_id"] == UNIT).to_dicts()[0]
    with tempfile.TemporaryDirectory() as folder:
        path = write_unit_workbook(
            Path(folder) / NAME, preset.framework("commune"), unit, YEAR, values=GOOD
        )
        return path.read_bytes()


def good_workbook(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_good_workbook_bytes())
    return path


def good_csv_text() -> str:
    lines = ["unit_id,year,indicator_id,value"]
    lines += [f"{UNIT},{YEAR},{i},{CSV_TEXT.get(i, '')}" for i in leaf_ids()]
    return "\n".join(lines) + "\n"


def edited(change: Callable) -> Callable[[Path], Path]:
    """A builder: the good workbook, changed with openpyxl and saved (as Excel would)."""

    def build(folder: Path) -> Path:
        path = good_workbook(folder / NAME)
        book = load_workbook(path)
        change(book)
        book.save(path)
        book.close()
        return path

    return build


def csv_edited(change: Callable[[list[str]], list[str]], encoding: str = "utf-8"):
    def build(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        lines = change(good_csv_text().splitlines())
        path = folder / CSV_NAME
        path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
        return path

    return build


def _cell(ref: str, value) -> Callable:
    def change(book) -> None:
        book[SHEET][ref] = value

    return change


def _meta(ref: str, value) -> Callable:
    def change(book) -> None:
        book["_meta"][ref] = value

    return change


def _replace_line(indicator: str, text: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        lines[csv_line_of(indicator) - 1] = text
        return lines

    return change


@dataclass(frozen=True)
class Fault:
    id: str
    build: Callable[[Path], Path]
    # (sheet, row, column, rule, message) of every refusal, in reading order
    refusals: tuple[tuple[str, int, str, str, str], ...]
    status: str = "partially_accepted"
    # indicators whose stored value is not the good file's (refused, or no row)
    changed: frozenset[str] = frozenset()
    missing: tuple[str, ...] = ()
    # for a file refused as a whole: what must still be kept of its identification
    identity: dict | None = None

    @property
    def file_name(self) -> str:
        return CSV_NAME if self.id.startswith("csv_") else NAME


W = f"{NAME} · trang '{SHEET}'"
M = f"{NAME} · trang '_meta'"
C = CSV_NAME
KEPT = {"kind": "self", "year": 2024, "level": "commune", "unit_id": UNIT}


def _value_fault(fault_id: str, indicator: str, content, rule: str, detail: str) -> Fault:
    row = row_of(indicator)
    return Fault(
        fault_id,
        edited(_cell(f"G{row}", content)),
        ((SHEET, row, "G", rule, f"{W} · dòng {row} · cột G: chỉ số {indicator}: {detail}"),),
        changed=frozenset({indicator}),
    )


def _refused_file(fault_id: str, build, where: tuple, identity: dict) -> Fault:
    return Fault(fault_id, build, (where,), status="refused", identity=identity)


def _merge(book) -> None:
    book[SHEET].merge_cells("G12:G13")


def _percent_scale(book) -> None:
    sheet = book[SHEET]
    sheet["G13"], sheet["G20"], sheet["G21"] = 0.855, 1, 0.6


def _rename_and_break(book) -> None:
    book[SHEET].title = "Số liệu xã"
    book["Số liệu xã"]["G12"] = -3


def _move_table_and_break(book) -> None:
    book[SHEET].insert_rows(1, amount=2)  # header now on row 10, P1.5 on row 15
    book[SHEET]["G15"] = "80 phần trăm"


def _not_excel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NAME
    path.write_bytes(b"PK? no: a Word document renamed to .xlsx")
    return path


FAULTS: tuple[Fault, ...] = (
    # --- single cells -------------------------------------------------------------------------
    _value_fault(
        "text_in_number", "P1.5", "khoảng 80", "not_a_number", "'khoảng 80' không phải là số"
    ),
    _value_fault("negative_count", "P1.4", -3, "negative_value", "giá trị -3 âm"),
    _value_fault(
        "percent_above_100", "P3.1", 100.5, "percent_out_of_range", "tỷ lệ 100,5 vượt 100%"
    ),
    _value_fault("yes_no_not_0_or_1", "P1.1", 2, "not_yes_no", "giá trị 2 không phải Có/Không"),
    _value_fault(
        "direct_points_above_maximum",
        "P6.12",
        15.5,
        "above_maximum",
        "điểm 15,5 vượt điểm tối đa 15",
    ),
    _value_fault(
        "formula_error_div0", "P1.5", "#DIV/0!", "formula_error", "ô chứa lỗi công thức #DIV/0!"
    ),
    _value_fault(
        "formula_error_ref", "P6.5", "#REF!", "formula_error", "ô chứa lỗi công thức #REF!"
    ),
    _value_fault(
        "formula_without_cached_result",
        "P3.2",
        "=G20*0.6",
        "formula_without_result",
        "ô có công thức =G20*0.6 nhưng không có kết quả đã tính (tệp không được lưu lại "
        "bằng Excel); mở tệp bằng Excel rồi lưu lại, hoặc nhập số trực tiếp",
    ),
    _value_fault(
        "underscore_grouping", "P1.4", "1_000", "not_a_number", "'1_000' không phải là số"
    ),
    _value_fault("exponent_notation", "P1.4", "1e3", "not_a_number", "'1e3' không phải là số"),
    _value_fault("yes_word_in_count", "P1.4", "Có", "not_a_number", "'Có' không phải là số"),
    _value_fault("excel_true_in_count", "P1.4", True, "not_a_number", "'TRUE' không phải là số"),
    _value_fault(
        "date_in_count",
        "P7.7",
        dt.datetime(2024, 5, 1),
        "not_a_number",
        "'2024-05-01 00:00:00' không phải là số",
    ),
    _value_fault(
        "ambiguous_separators", "P7.7", "1,2,3", "not_a_number", "'1,2,3' không phải là số"
    ),
    _value_fault(
        "nfd_text_in_number",
        "P1.5",
        unicodedata.normalize("NFD", "khoảng 80"),
        "not_a_number",
        "'khoảng 80' không phải là số",
    ),
    Fault(
        "percent_on_0_1_scale",
        edited(_percent_scale),
        tuple(
            (
                SHEET,
                row,
                "G",
                "percent_scale_mismatch",
                f"{W} · dòng {row} · cột G: chỉ số {ind}: tỷ lệ {shown} có vẻ nhập theo thang 0–1 "
                f"(mọi tỷ lệ trong tệp đều ≤ 1) trong khi chỉ số dùng thang 0–100; nếu là {meant}% "
                f"thì nhập {meant}",
            )
            for ind, row, shown, meant in (
                ("P1.5", 13, "0,855", "85,5"),
                ("P3.1", 20, "1", "100"),
                ("P3.2", 21, "0,6", "60"),
            )
        ),
        changed=frozenset({"P1.5", "P3.1", "P3.2"}),
    ),
    Fault(
        "self_points_above_maximum",
        edited(_cell("H9", 99)),
        (
            (
                SHEET,
                9,
                "H",
                "invalid_self_points",
                f"{W} · dòng 9 · cột H: chỉ số P1.1, điểm tự đánh giá: điểm 99 ngoài khoảng 0–15",
            ),
        ),
    ),
    Fault(
        "merged_value_cells",
        edited(_merge),
        tuple(
            (
                SHEET,
                row,
                "G",
                "merged_cell",
                f"{W} · dòng {row} · cột G: chỉ số {ind}: ô G{row} nằm trong vùng ô gộp G12:G13 "
                "trải trên nhiều dòng; bỏ gộp ô và nhập giá trị riêng cho từng dòng",
            )
            for ind, row in (("P1.4", 12), ("P1.5", 13))
        ),
        changed=frozenset({"P1.4", "P1.5"}),
    ),
    # --- rows of the table --------------------------------------------------------------------
    Fault(
        "unknown_indicator_row",
        edited(lambda b: (_cell("B64", "P9.9")(b), _cell("G64", 5)(b))),
        (
            (
                SHEET,
                64,
                "B",
                "unknown_indicator",
                f"{W} · dòng 64 · cột B: mã chỉ số 'P9.9' không có trong bộ chỉ số "
                "daklak-2534-commune",
            ),
        ),
    ),
    Fault(
        "duplicated_indicator_row",
        edited(lambda b: (_cell("B64", "P1.1")(b), _cell("G64", "Không")(b))),
        (
            (
                SHEET,
                64,
                "B",
                "duplicate_indicator",
                f"{W} · dòng 64 · cột B: mã chỉ số 'P1.1' lặp lại (đã có ở dòng 9)",
            ),
        ),
    ),
    Fault(
        "value_without_indicator_id",
        edited(_cell("G64", 7)),
        (
            (
                SHEET,
                64,
                "B",
                "missing_indicator_id",
                f"{W} · dòng 64 · cột B: dòng có giá trị '7' ở cột G nhưng để trống mã chỉ số; "
                "ghi lại "
                "mã chỉ số của dòng hoặc xóa giá trị",
            ),
        ),
    ),
    Fault(
        "indicator_id_erased",
        edited(_cell("B12", None)),
        (
            (
                SHEET,
                12,
                "B",
                "missing_indicator_id",
                f"{W} · dòng 12 · cột B: dòng có giá trị '12' ở cột G nhưng để trống mã chỉ số; "
                "ghi "
                "lại mã chỉ số của dòng hoặc xóa giá trị",
            ),
        ),
        changed=frozenset({"P1.4"}),
        missing=("P1.4",),
    ),
    Fault(
        "deleted_indicator_row",
        edited(lambda b: b[SHEET].delete_rows(10)),
        (),
        status="accepted",
        changed=frozenset({"P1.2"}),
        missing=("P1.2",),
    ),
    Fault(
        "renamed_sheet",
        edited(_rename_and_break),
        (
            (
                "Số liệu xã",
                12,
                "G",
                "negative_value",
                f"{NAME} · trang 'Số liệu xã' · dòng 12 · cột G: chỉ số P1.4: giá trị -3 âm",
            ),
        ),
        changed=frozenset({"P1.4"}),
    ),
    Fault(
        "table_moved_down",
        edited(_move_table_and_break),
        (
            (
                SHEET,
                15,
                "G",
                "not_a_number",
                f"{W} · dòng 15 · cột G: chỉ số P1.5: '80 phần trăm' không phải là số",
            ),
        ),
        changed=frozenset({"P1.5"}),
    ),
    # --- the file as a whole ------------------------------------------------------------------
    _refused_file(
        "meta_sheet_deleted",
        edited(lambda b: b.remove(b["_meta"])),
        (
            "_meta",
            1,
            "A",
            "missing_meta",
            f"{M} · dòng 1 · cột A: thiếu trang ẩn '_meta' (tệp không lập từ mẫu DTI)",
        ),
        {"kind": "unknown", "year": None, "level": None, "unit_id": None},
    ),
    _refused_file(
        "meta_unit_not_in_registry",
        edited(_meta("B7", "X-KHONG-99")),
        (
            "_meta",
            7,
            "B",
            "unknown_unit",
            f"{M} · dòng 7 · cột B: đơn vị 'X-KHONG-99' không có trong danh mục cấp commune năm "
            "2024",
        ),
        {**KEPT, "unit_id": "X-KHONG-99"},
    ),
    _refused_file(
        "meta_year_unreadable",
        edited(_meta("B8", "2O24")),
        ("_meta", 8, "B", "bad_year", f"{M} · dòng 8 · cột B: năm '2O24' không hợp lệ"),
        {**KEPT, "year": None},
    ),
    _refused_file(
        "meta_wrong_year",
        edited(_meta("B8", "2023")),
        (
            "_meta",
            8,
            "B",
            "wrong_year",
            f"{M} · dòng 8 · cột B: tệp của năm 2023, không phải năm 2024",
        ),
        {**KEPT, "year": 2023},
    ),
    _refused_file(
        "meta_old_framework_version",
        edited(_meta("B4", "2425/QĐ-UBND (2021-09-01)")),
        (
            "_meta",
            4,
            "B",
            "framework_mismatch",
            f"{M} · dòng 4 · cột B: tệp lập theo bộ chỉ số daklak-2534-commune (2425/QĐ-UBND "
            "(2021-09-01)), năm nay áp dụng daklak-2534-commune (2534/QĐ-UBND (2022-11-11)); tải "
            "mẫu mới và nhập lại",
        ),
        KEPT,
    ),
    _refused_file(
        "meta_unknown_level",
        edited(_meta("B6", "province")),
        (
            "_meta",
            6,
            "B",
            "unknown_level",
            f"{M} · dòng 6 · cột B: cấp 'province' không có trong bộ chỉ số daklak",
        ),
        {**KEPT, "level": "province"},
    ),
    _refused_file(
        "meta_unknown_format",
        edited(_meta("B1", "dti-workbook/0")),
        (
            "_meta",
            1,
            "B",
            "unknown_format",
            f"{M} · dòng 1 · cột B: định dạng 'dti-workbook/0' không được hỗ trợ (cần "
            "dti-workbook/1)",
        ),
        KEPT,
    ),
    _refused_file(
        "meta_unknown_kind",
        edited(_meta("B2", "report")),
        ("_meta", 2, "B", "unknown_kind", f"{M} · dòng 2 · cột B: loại tệp 'report' không hợp lệ"),
        {**KEPT, "kind": "unknown"},
    ),
    _refused_file(
        "not_an_excel_file",
        _not_excel,
        (
            "",
            0,
            "",
            "unreadable_file",
            f"{NAME}: không đọc được tệp Excel (BadZipFile: File is not a zip file)",
        ),
        {"kind": "unknown", "year": None, "level": None, "unit_id": None},
    ),
    _refused_file(
        "value_column_renamed",
        edited(_cell("G8", "Số liệu")),
        (
            SHEET,
            8,
            "G",
            "missing_column",
            f"{W} · dòng 8 · cột G: dòng tiêu đề thiếu cột 'Giá trị báo cáo'",
        ),
        KEPT,
    ),
    _refused_file(
        "indicator_header_removed",
        edited(_cell("B8", "Mã")),
        (
            SHEET,
            8,
            "B",
            "missing_table",
            f"{W} · dòng 8 · cột B: không tìm thấy bảng có cột 'Mã chỉ số' (theo mẫu: dòng tiêu đề "
            "8, cột B)",
        ),
        KEPT,
    ),
    # --- CSV submissions ----------------------------------------------------------------------
    Fault(
        "csv_unquoted_decimal_comma",
        csv_edited(_replace_line("P1.5", f"{UNIT},{YEAR},P1.5,85,5")),
        (
            (
                "",
                6,
                "E",
                "extra_fields",
                f"{C} · dòng 6 · cột E: dòng có 5 trường, dòng tiêu đề có 4; có thể số thập phân "
                "dùng "
                'dấu phẩy mà không đặt trong ngoặc kép ("85,5") — đặt giá trị trong ngoặc kép hoặc '
                "dùng dấu chấm phẩy (;) để phân cách cột",
            ),
        ),
        changed=frozenset({"P1.5"}),
        missing=("P1.5",),
    ),
    Fault(
        "csv_text_in_number",
        csv_edited(_replace_line("P1.4", f"{UNIT},{YEAR},P1.4,mười hai")),
        (
            (
                "",
                5,
                "D",
                "not_a_number",
                f"{C} · dòng 5 · cột D (value): đơn vị {UNIT}, chỉ số P1.4: 'mười hai' không phải "
                "là "
                "số",
            ),
        ),
        changed=frozenset({"P1.4"}),
    ),
    Fault(
        "csv_wrong_year_row",
        csv_edited(_replace_line("P1.4", f"{UNIT},2023,P1.4,12")),
        (
            (
                "",
                5,
                "B",
                "wrong_year",
                f"{C} · dòng 5 · cột B (year): dòng của năm 2023, không phải năm 2024",
            ),
        ),
        changed=frozenset({"P1.4"}),
        missing=("P1.4",),
    ),
    Fault(
        "csv_unknown_unit_row",
        csv_edited(lambda lines: [*lines, "X-KHONG-99,2024,P1.1,Có"]),
        (
            (
                "",
                57,
                "A",
                "unknown_unit",
                f"{C} · dòng 57 · cột A (unit_id): đơn vị 'X-KHONG-99' không có trong danh mục năm "
                "2024",
            ),
        ),
    ),
    Fault(
        "csv_duplicated_row",
        csv_edited(lambda lines: [*lines, f"{UNIT},{YEAR},P1.5,90"]),
        (
            (
                "",
                57,
                "C",
                "duplicate_indicator",
                f"{C} · dòng 57 · cột C (indicator_id): đơn vị {UNIT}, chỉ số P1.5 lặp lại (đã có "
                "ở "
                "dòng 6)",
            ),
        ),
    ),
    _refused_file(
        "csv_value_column_missing",
        csv_edited(lambda lines: [line.rsplit(",", 1)[0] for line in lines]),
        (
            "",
            1,
            "",
            "missing_column",
            f"{C} · dòng 1: thiếu cột value ở dòng tiêu đề (cần: unit_id, year, indicator_id, "
            "value)",
        ),
        {"kind": "unknown", "year": 2024, "level": None, "unit_id": None},
    ),
    _refused_file(
        "csv_not_utf8",
        csv_edited(lambda lines: lines, encoding="cp1258"),
        (
            "",
            2,
            "",
            "bad_encoding",
            f"{C} · dòng 2: tệp CSV không ở mã UTF-8 (byte không hợp lệ 0xF3); khi lưu trong Excel "
            "chọn 'CSV UTF-8 (Comma delimited)'",
        ),
        {"kind": "unknown", "year": 2024, "level": None, "unit_id": None},
    ),
)


def build(fault: Fault, folder: Path) -> Path:
    """The fault's file, written into ``folder`` (cleared first)."""
    if folder.exists():
        shutil.rmtree(folder)
    return fault.build(folder)
