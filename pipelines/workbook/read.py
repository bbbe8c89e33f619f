"""Read unit and appraisal workbooks into accepted values and located refusals.

Every refusal names the file, the sheet, the Excel row and column, and the rule broken, so the
unit can fix its file and send it again; nothing read is dropped without a trace.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from pipelines.framework.model import Framework, Node
from pipelines.workbook.cells import read_number
from pipelines.workbook.layout import (
    APPRAISAL_COLUMNS,
    META_SHEET,
    SELF_COLUMNS,
    SELF_SHEET,
    column_letter,
)


@dataclass
class ParsedWorkbook:
    """What one file contained: its identification, the values taken and the cells refused."""

    file_name: str
    meta: dict[str, str] = field(default_factory=dict)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    missing_indicators: list[str] = field(default_factory=list)

    def refuse(
        self, sheet: str, row: int, column: str, rule: str, message: str, **extra: Any
    ) -> None:
        where = f"{self.file_name} · trang '{sheet}' · dòng {row} · cột {column}"
        self.rejected.append(
            {
                "file_name": self.file_name,
                "sheet": sheet,
                "row_number": row,
                "column_name": column,
                "rule": rule,
                "message": f"{where}: {message}",
                **extra,
            }
        )


class WorkbookError(ValueError):
    """The file cannot be read as a DTI workbook at all (not a refusal of single cells)."""

    def __init__(self, file_name: str, rule: str, message: str):
        self.file_name, self.rule = file_name, rule
        super().__init__(f"{file_name}: {message}")


def _norm(text: object) -> str:
    return unicodedata.normalize("NFC", str(text or "")).strip().lower()


def open_workbook(path: Path):
    """Open a workbook read-only with cached formula results (``#DIV/0!`` stays visible)."""
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise WorkbookError(
            path.name, "unreadable_file", f"không đọc được tệp Excel ({type(exc).__name__}: {exc})"
        ) from exc


def read_meta(book, file_name: str) -> dict[str, str]:
    """The hidden identification sheet of a workbook (format, kind, framework, unit, year)."""
    if META_SHEET not in book.sheetnames:
        raise WorkbookError(
            file_name, "missing_meta", f"thiếu trang ẩn '{META_SHEET}' (tệp không lập từ mẫu DTI)"
        )
    rows = book[META_SHEET].iter_rows(values_only=True)
    return {str(r[0]): unicodedata.normalize("NFC", str(r[1] or "")) for r in rows if r and r[0]}


def read_unit_workbook(book, framework: Framework, file_name: str) -> ParsedWorkbook:
    """Values a unit reported for each leaf of ``framework`` (kind ``self``)."""
    parsed = ParsedWorkbook(file_name, meta=read_meta(book, file_name))
    sheet_name, header_row, columns = _find_table(
        book, SELF_COLUMNS, "indicator_id", preferred=SELF_SHEET
    )
    if sheet_name is None:
        raise WorkbookError(
            parsed.file_name,
            "missing_table",
            f"không tìm thấy bảng có cột '{SELF_COLUMNS['indicator_id']}'",
        )
    if "value" not in columns:
        raise WorkbookError(
            parsed.file_name,
            "missing_column",
            f"trang '{sheet_name}' thiếu cột '{SELF_COLUMNS['value']}'",
        )
    leaves = {n.id: n for n in framework.leaves()}
    seen: dict[str, int] = {}
    for row_number, cells in _rows_after(book[sheet_name], header_row):
        indicator = _text(cells, columns["indicator_id"])
        if not indicator:
            continue
        value_col = column_letter(columns["value"])
        raw = _cell(cells, columns["value"])
        base = {"indicator_id": indicator, "raw_text": _raw_text(raw)}
        if indicator not in leaves:
            parsed.refuse(
                sheet_name,
                row_number,
                column_letter(columns["indicator_id"]),
                "unknown_indicator",
                f"mã chỉ số '{indicator}' không có trong bộ chỉ số {framework.id}",
                **base,
            )
            continue
        if indicator in seen:
            parsed.refuse(
                sheet_name,
                row_number,
                column_letter(columns["indicator_id"]),
                "duplicate_indicator",
                f"mã chỉ số '{indicator}' lặp lại (đã có ở dòng {seen[indicator]})",
                **base,
            )
            continue
        seen[indicator] = row_number
        node = leaves[indicator]
        reading = read_number(raw, yes_no=_is_yes_no(node))
        problem = reading.rule and (reading.rule, reading.message)
        problem = problem or _range_problem(node, reading.value)
        if problem:
            parsed.refuse(
                sheet_name,
                row_number,
                value_col,
                problem[0],
                f"chỉ số {indicator}: {problem[1]}",
                **base,
            )
            continue
        parsed.accepted.append(
            {
                "sheet": sheet_name,
                "row_number": row_number,
                "column_name": value_col,
                "indicator_id": indicator,
                "kind": "self",
                "value": reading.value,
                "reason": None,
                **base,
            }
        )
    parsed.missing_indicators = [i for i in leaves if i not in seen]
    return parsed


def read_appraisal_workbook(book, framework: Framework, file_name: str) -> ParsedWorkbook:
    """The appraiser's changes: one accepted row per (unit, leaf), the appraised value and why."""
    parsed = ParsedWorkbook(file_name, meta=read_meta(book, file_name))
    sheet_name, header_row, columns = _find_table(book, APPRAISAL_COLUMNS, "unit_id")
    needed = ("unit_id", "indicator_id", "appraised_value", "reason")
    if sheet_name is None or any(k not in columns for k in needed):
        raise WorkbookError(
            parsed.file_name,
            "missing_table",
            "không tìm thấy bảng thẩm định với các cột "
            + ", ".join(APPRAISAL_COLUMNS[k] for k in needed),
        )
    leaves = {n.id: n for n in framework.leaves()}
    seen: dict[tuple[str, str], int] = {}
    for row_number, cells in _rows_after(book[sheet_name], header_row):
        unit_id = _text(cells, columns["unit_id"])
        indicator = _text(cells, columns["indicator_id"])
        if not unit_id and not indicator:
            continue
        raw = _cell(cells, columns["appraised_value"])
        value_col = column_letter(columns["appraised_value"])
        base = {
            "unit_id": unit_id,
            "indicator_id": indicator,
            "raw_text": _raw_text(raw),
        }
        if indicator not in leaves:
            parsed.refuse(
                sheet_name,
                row_number,
                column_letter(columns["indicator_id"]),
                "unknown_indicator",
                f"mã chỉ số '{indicator}' không có trong bộ chỉ số {framework.id}",
                **base,
            )
            continue
        if (unit_id, indicator) in seen:
            parsed.refuse(
                sheet_name,
                row_number,
                column_letter(columns["unit_id"]),
                "duplicate_indicator",
                f"đơn vị {unit_id}, chỉ số {indicator} lặp lại "
                f"(đã có ở dòng {seen[(unit_id, indicator)]})",
                **base,
            )
            continue
        seen[(unit_id, indicator)] = row_number
        reason = _text(cells, columns["reason"])
        if not reason:
            parsed.refuse(
                sheet_name,
                row_number,
                column_letter(columns["reason"]),
                "missing_reason",
                f"đơn vị {unit_id}, chỉ số {indicator}: thiếu lý do điều chỉnh",
                **base,
            )
            continue
        node = leaves[indicator]
        reading = read_number(raw, yes_no=_is_yes_no(node))
        problem = reading.rule and (reading.rule, reading.message)
        problem = problem or _range_problem(node, reading.value)
        if problem:
            parsed.refuse(
                sheet_name,
                row_number,
                value_col,
                problem[0],
                f"đơn vị {unit_id}, chỉ số {indicator}: {problem[1]}",
                **base,
            )
            continue
        parsed.accepted.append(
            {
                "sheet": sheet_name,
                "row_number": row_number,
                "column_name": value_col,
                "kind": "appraised",
                "value": reading.value,
                "reason": reason,
                **base,
            }
        )
    return parsed


def _find_table(book, columns: dict[str, str], key: str, preferred: str | None = None):
    """The sheet, header row and column positions of a table, located by its header texts."""
    wanted = {_norm(text): name for name, text in columns.items()}
    order = [preferred] if preferred in book.sheetnames else []
    order += [s for s in book.sheetnames if s not in order and s != META_SHEET]
    for sheet_name in order:
        sheet = book[sheet_name]
        for row_number, cells in enumerate(sheet.iter_rows(max_row=40, values_only=True), start=1):
            found = {wanted[_norm(c)]: i for i, c in enumerate(cells) if _norm(c) in wanted}
            if key in found:
                return sheet_name, row_number, found
    return None, None, {}


def _rows_after(sheet, header_row: int):
    for row_number, cells in enumerate(
        sheet.iter_rows(min_row=header_row + 1), start=header_row + 1
    ):
        yield row_number, tuple(_shown_value(cell) for cell in cells)


def _shown_value(cell) -> Any:
    """A cell's value as the unit sees it: Excel stores "85,5%" typed into a cell as 0.855 with a
    percent format, and the unit means 85.5 on the 0–100 scale the template asks for."""
    value = cell.value
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and "%" in (getattr(cell, "number_format", None) or ""):
        return round(value * 100, 9)
    return value


def _cell(cells: tuple, index: int) -> Any:
    return cells[index] if index < len(cells) else None


def _text(cells: tuple, index: int) -> str:
    value = _cell(cells, index)
    return unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""


def _raw_text(raw: Any) -> str | None:
    """The cell's content as text, NFC like every Vietnamese text stored (DOMAIN.md)."""
    return None if raw is None else unicodedata.normalize("NFC", str(raw))


def _is_yes_no(node: Node) -> bool:
    return node.rule is not None and node.rule.kind == "yesno"


def _range_problem(node: Node, value: float | None) -> tuple[str, str] | None:
    if value is None:
        return None
    if value < 0:
        return "negative_value", f"giá trị {value:g} âm"
    if node.rule is not None and node.rule.kind == "direct" and value > node.max_points:
        return "above_maximum", f"điểm {value:g} vượt điểm tối đa {node.max_points:g}"
    if node.percent_scale and value > node.percent_scale:
        return "percent_out_of_range", f"tỷ lệ {value:g} vượt {node.percent_scale:g}%"
    if _is_yes_no(node) and value not in (0.0, 1.0):
        return "not_yes_no", f"giá trị {value:g} không phải Có/Không"
    return None
