"""Write unit workbooks (templates, demo submissions) and appraisal workbooks with xlsxwriter.

Files are byte-for-byte reproducible: the document date is fixed, so the same content gives the
same bytes and the same content hash in the archive.

Speed: xlsxwriter normally writes each part of the file to a temporary file and then
zips them (~40 ms a workbook here, mostly file-system work); :func:`_workbook` builds the parts in
memory (~9 ms, xlsxwriter's ``in_memory`` option), where xlsxwriter stamps every part with
Excel's fixed date (1 January 1980): with the fixed document date, identical content gives
identical bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import xlsxwriter

from pipelines.framework.model import Framework, Node
from pipelines.text.labels import vn_value
from pipelines.workbook.layout import (
    APPRAISAL_COLUMNS,
    APPRAISAL_SHEET,
    FORMAT_ID,
    FRAMEWORK_LABEL,
    GUIDE_SHEET,
    META_SHEET,
    SELF_COLUMNS,
    SELF_SHEET,
    SELF_TITLE,
    SYNTHETIC_BANNER,
    UNIT_LABEL,
)

FIXED_DATE = dt.datetime(2000, 1, 1)


def _workbook(path: Path) -> xlsxwriter.Workbook:
    return xlsxwriter.Workbook(str(path), {"in_memory": True})


HEADER_ROW = 7  # 0-based row of the table header in the self-assessment sheet (Excel row 8)

GUIDE_LINES = (
    "Hướng dẫn nhập số liệu tự đánh giá chuyển đổi số",
    "1. Nhập giá trị vào cột 'Giá trị báo cáo' theo đơn vị tính của từng chỉ số.",
    "2. Tỷ lệ nhập theo thang ghi ở cột 'Đơn vị tính': '% (0–100)' nhập 85,5; '(0–1)' nhập 0,855."
    " Chỉ số Có/Không chọn 'Có' hoặc 'Không'.",
    "3. Để trống nếu không có số liệu: chỉ số không có số liệu được tính 0 điểm.",
    "4. Ghi tài liệu kiểm chứng (số văn bản, đường dẫn) vào cột 'Tài liệu kiểm chứng'.",
    "5. Không đổi tên, thêm, xóa dòng hoặc sửa mã chỉ số; không sửa trang ẩn '_meta'.",
)


def write_unit_workbook(
    path: str | Path,
    framework: Framework,
    unit: Mapping[str, object],
    year: int,
    values: Mapping[str, float | None] | None = None,
    self_points: Mapping[str, float | None] | None = None,
    evidence: Mapping[str, str] | None = None,
    synthetic: bool = False,
) -> Path:
    """One self-assessment workbook for ``unit`` and ``year``; ``values`` empty gives a template."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    values, self_points, evidence = values or {}, self_points or {}, evidence or {}
    book = _workbook(path)
    book.set_properties({"created": FIXED_DATE, "author": "dti", "title": f"DTI {year}"})
    fmt = _formats(book)

    guide = book.add_worksheet(GUIDE_SHEET)
    guide.set_column(0, 0, 110)
    for i, line in enumerate(GUIDE_LINES):
        guide.write(i, 0, line, fmt["title"] if i == 0 else None)
    if synthetic:
        guide.write(len(GUIDE_LINES) + 1, 0, SYNTHETIC_BANNER, fmt["warning"])

    sheet = book.add_worksheet(SELF_SHEET)
    sheet.write(0, 0, f"{SELF_TITLE} {year}", fmt["title"])
    sheet.write_string(1, 0, f"{UNIT_LABEL} {unit['name']}")
    sheet.write_string(2, 0, f"{FRAMEWORK_LABEL} {framework.name}")
    sheet.write(3, 0, f"Căn cứ: Quyết định {framework.source.get('decision', framework.version)}")
    sheet.write(4, 0, f"Thang điểm: {vn_value(framework.scale)} điểm")
    if synthetic:
        sheet.write(5, 0, SYNTHETIC_BANNER, fmt["warning"])
    keys = list(SELF_COLUMNS)
    for col, key in enumerate(keys):
        sheet.write(HEADER_ROW, col, SELF_COLUMNS[key], fmt["header"])
    widths = {
        "ordinal": 5,
        "indicator_id": 10,
        "name": 60,
        "unit": 12,
        "max_points": 10,
        "rubric": 45,
        "value": 14,
        "self_points": 12,
        "evidence": 35,
    }
    for col, key in enumerate(keys):
        sheet.set_column(col, col, widths[key], fmt["locked"])
    value_col, points_col, evidence_col = (
        keys.index("value"),
        keys.index("self_points"),
        keys.index("evidence"),
    )
    row = HEADER_ROW + 1
    validation_rows: dict[str, list[int]] = {}
    for ordinal, node in enumerate(framework.leaves(), start=1):
        sheet.write_number(row, keys.index("ordinal"), ordinal, fmt["locked"])
        sheet.write_string(row, keys.index("indicator_id"), node.id, fmt["locked"])
        sheet.write_string(row, keys.index("name"), node.name, fmt["wrap"])
        sheet.write_string(row, keys.index("unit"), unit_label(node), fmt["locked"])
        sheet.write_number(row, keys.index("max_points"), node.max_points, fmt["locked"])
        sheet.write_string(row, keys.index("rubric"), node.rubric or "", fmt["wrap"])
        _write_input(sheet, row, value_col, node, values.get(node.id), fmt)
        _write_optional_number(sheet, row, points_col, self_points.get(node.id), fmt["input"])
        sheet.write_string(row, evidence_col, evidence.get(node.id, ""), fmt["input"])
        validation_rows.setdefault(_validation_kind(node), []).append(row)
        row += 1
    _add_validations(sheet, validation_rows, value_col, points_col, keys.index("max_points"))
    sheet.freeze_panes(HEADER_ROW + 1, 3)
    sheet.protect("", {"format_columns": True, "format_rows": True})

    _write_meta(
        book,
        {
            "format": FORMAT_ID,
            "kind": "self",
            "framework_id": framework.id,
            "framework_version": framework.version,
            "framework_hash": framework.content_hash(),
            "level": str(unit["level"]),
            "unit_id": str(unit["unit_id"]),
            "year": str(year),
            "synthetic": "true" if synthetic else "false",
        },
    )
    book.close()
    return path


def write_appraisal_workbook(
    path: str | Path,
    framework: Framework,
    level: str,
    year: int,
    rows: Sequence[Mapping[str, object]],
    synthetic: bool = False,
) -> Path:
    """The appraiser's adjustments for one year and level: one row per changed value, with why."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = _workbook(path)
    book.set_properties({"created": FIXED_DATE, "author": "dti", "title": f"Thẩm định DTI {year}"})
    fmt = _formats(book)
    sheet = book.add_worksheet(APPRAISAL_SHEET)
    sheet.write(
        0, 0, f"KẾT QUẢ THẨM ĐỊNH CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM {year} – {framework.name}", fmt["title"]
    )
    if synthetic:
        sheet.write(1, 0, SYNTHETIC_BANNER, fmt["warning"])
    keys = list(APPRAISAL_COLUMNS)
    header_row = 3
    for col, key in enumerate(keys):
        sheet.write(header_row, col, APPRAISAL_COLUMNS[key], fmt["header"])
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 4, 16)
    sheet.set_column(5, 5, 60)
    sheet.set_column(6, 6, 14)
    for offset, item in enumerate(rows, start=1):
        for col, key in enumerate(keys):
            value = item.get(key)
            if isinstance(value, int | float):
                sheet.write_number(header_row + offset, col, float(value))
            elif value is not None:
                sheet.write_string(header_row + offset, col, str(value))
    _write_meta(
        book,
        {
            "format": FORMAT_ID,
            "kind": "appraisal",
            "framework_id": framework.id,
            "framework_version": framework.version,
            "framework_hash": framework.content_hash(),
            "level": level,
            "unit_id": "",
            "year": str(year),
            "synthetic": "true" if synthetic else "false",
        },
    )
    book.close()
    return path


def unit_label(node: Node) -> str:
    """The "Đơn vị tính" cell: the unit, and for a percentage the scale it is entered on."""
    unit = node.unit or ""
    if node.percent_scale == 100:
        return f"{unit} (0–100)".strip() if unit != "%" else "% (0–100)"
    if node.percent_scale == 1:
        return f"{unit or 'tỷ lệ'} (0–1)"
    return unit


def _write_input(sheet, row: int, col: int, node: Node, value: float | None, fmt) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt["input"])
    elif _validation_kind(node) == "yesno":
        sheet.write_string(row, col, "Có" if value >= 0.5 else "Không", fmt["input"])
    else:
        sheet.write_number(row, col, float(value), fmt["input"])


def _validation_kind(node: Node) -> str:
    kind = node.rule.kind if node.rule else None
    if kind in ("yesno", "direct"):
        return kind
    return f"percent:{node.percent_scale:g}" if node.percent_scale else "count"


def _add_validations(
    sheet, rows_by_kind: dict[str, list[int]], value_col: int, points_col: int, max_col: int
) -> None:
    """One validation per kind of input over all its cells (relative formulas point each cell at
    its own row's maximum), so the file stays small and quick to read."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    def cells(col: int, rows: list[int]) -> str:
        return " ".join(xl_rowcol_to_cell(r, col) for r in rows)

    message = {
        "error_title": "Giá trị không hợp lệ",
        "error_message": "Nhập số theo đơn vị tính ở cột bên trái (tỷ lệ: theo thang ghi ở đó).",
    }
    for kind, rows in rows_by_kind.items():
        first = xl_rowcol_to_cell(rows[0], value_col)
        if kind == "yesno":
            rule = {"validate": "list", "source": ["Có", "Không"]}
        elif kind == "direct":
            top = xl_rowcol_to_cell(rows[0], max_col)
            rule = {
                "validate": "custom",
                "value": f"=AND(ISNUMBER({first}),{first}>=0,{first}<={top})",
            }
        elif kind.startswith("percent:"):
            scale = float(kind.split(":")[1])
            rule = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": scale}
        else:
            rule = {"validate": "decimal", "criteria": ">=", "value": 0}
        sheet.data_validation(
            rows[0],
            value_col,
            rows[0],
            value_col,
            {**rule, **message, "multi_range": cells(value_col, rows)},
        )
    all_rows = sorted(r for rows in rows_by_kind.values() for r in rows)
    points, top = (
        xl_rowcol_to_cell(all_rows[0], points_col),
        xl_rowcol_to_cell(all_rows[0], max_col),
    )
    sheet.data_validation(
        all_rows[0],
        points_col,
        all_rows[0],
        points_col,
        {
            "validate": "custom",
            "value": f"=AND(ISNUMBER({points}),{points}>=0,{points}<={top})",
            "error_title": "Điểm không hợp lệ",
            "error_message": "Điểm từ 0 đến điểm tối đa.",
            "multi_range": cells(points_col, all_rows),
        },
    )


def _write_optional_number(sheet, row: int, col: int, value: float | None, cell_format) -> None:
    if value is None:
        sheet.write_blank(row, col, None, cell_format)
    else:
        sheet.write_number(row, col, float(value), cell_format)


def _write_meta(book: xlsxwriter.Workbook, meta: Mapping[str, str]) -> None:
    sheet = book.add_worksheet(META_SHEET)
    for i, (key, value) in enumerate(meta.items()):
        sheet.write_string(i, 0, key)
        sheet.write_string(i, 1, value)
    sheet.hide()
    sheet.protect("")


def _formats(book: xlsxwriter.Workbook) -> dict:
    return {
        "title": book.add_format({"bold": True, "font_size": 13}),
        "header": book.add_format(
            {
                "bold": True,
                "bg_color": "#DCE6F1",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
                "locked": True,
            }
        ),
        "locked": book.add_format({"locked": True, "valign": "top"}),
        "wrap": book.add_format({"locked": True, "text_wrap": True, "valign": "top"}),
        "input": book.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1}),
        "warning": book.add_format({"bold": True, "font_color": "#C00000"}),
    }
