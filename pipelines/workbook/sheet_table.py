"""Where a table is in a workbook sheet (by its header texts) and what its cells hold, as the
unit sees them: shared by the self-assessment and the appraisal readers.

What the unit does not see is not read: a hidden sheet holding the table, or a hidden column
headed like one the reader takes, refuses the file (so does a column header given twice: which
column counts would be a guess)."""

from __future__ import annotations

import unicodedata
from typing import Any

from pipelines.framework.model import Node
from pipelines.text.labels import vn_count
from pipelines.workbook.errors import WorkbookError
from pipelines.workbook.layout import META_SHEET, column_letter
from pipelines.workbook.structure import MAX_CELL_CHARS, SheetFacts


def header_key(text: object) -> str:
    return unicodedata.normalize("NFC", str(text or "")).strip().lower()


def sheet_facts(book, sheet_name: str) -> SheetFacts:
    return getattr(book, "dti_facts", {}).get(sheet_name) or SheetFacts()


def find_table(
    book,
    columns: dict[str, str],
    key: str,
    file_name: str,
    read: tuple[str, ...] = (),
    preferred: str | None = None,
):
    """The sheet, header row and column positions of a table, located by its header texts in the
    visible sheets (``preferred`` first); ``(None, None, {})`` when no visible sheet has it.

    Refused with :class:`WorkbookError`, at the header cell: a hidden sheet holding the table
    (``hidden_sheet``), and among the ``read`` columns, one that is hidden (``hidden_column``) or
    whose header is given twice (``duplicate_column``)."""
    wanted = {header_key(text): name for name, text in columns.items()}
    order = [preferred] if preferred in book.sheetnames else []
    order += [s for s in book.sheetnames if s not in order and s != META_SHEET]
    table = None
    for sheet_name in order:
        located = _header_row(book[sheet_name], wanted, key)
        if located is None:
            continue
        row_number, found = located
        if sheet_facts(book, sheet_name).hidden:
            raise WorkbookError(
                file_name,
                "hidden_sheet",
                f"trang '{sheet_name}' bị ẩn nhưng chứa bảng số liệu (cột '{columns[key]}'); "
                "chỉ đọc số liệu đơn vị nhìn thấy — bỏ ẩn trang, hoặc xóa trang nếu thừa",
                sheet=sheet_name,
                row=row_number,
                column=column_letter(found[key][0]),
            )
        if table is None:
            table = (sheet_name, row_number, found)
    if table is None:
        return None, None, {}
    sheet_name, row_number, found = table
    _check_header(
        sheet_facts(book, sheet_name), file_name, sheet_name, row_number, found, columns, read
    )
    return sheet_name, row_number, {name: indexes[0] for name, indexes in found.items()}


def _header_row(sheet, wanted: dict[str, str], key: str) -> tuple[int, dict[str, list[int]]] | None:
    """The first of the top 40 rows holding the ``key`` header: its number and, per header
    found, the 0-based positions of the columns carrying it."""
    for row_number, cells in enumerate(sheet.iter_rows(max_row=40, values_only=True), start=1):
        found: dict[str, list[int]] = {}
        for i, c in enumerate(cells):
            name = wanted.get(header_key(c))
            if name is not None:
                found.setdefault(name, []).append(i)
        if key in found:
            return row_number, found
    return None


def _check_header(
    facts: SheetFacts,
    file_name: str,
    sheet_name: str,
    row_number: int,
    found: dict[str, list[int]],
    columns: dict[str, str],
    read: tuple[str, ...],
) -> None:
    for name in read:
        letters = [column_letter(i) for i in found.get(name, ())]
        for letter in letters:
            if facts.column_hidden(letter):
                raise WorkbookError(
                    file_name,
                    "hidden_column",
                    f"cột {letter} (tiêu đề '{columns[name]}') bị ẩn; chỉ đọc số liệu đơn vị "
                    "nhìn thấy — bỏ ẩn cột, hoặc xóa cột nếu thừa",
                    sheet=sheet_name,
                    row=row_number,
                    column=letter,
                )
        if len(letters) > 1:
            raise WorkbookError(
                file_name,
                "duplicate_column",
                f"dòng tiêu đề có {len(letters)} cột '{columns[name]}' ({', '.join(letters)}); "
                "chỉ giữ một cột",
                sheet=sheet_name,
                row=row_number,
                column=letters[1],
            )


def overlong_cell(cells: tuple, columns: dict[str, int], read: tuple[str, ...]) -> tuple | None:
    """The first of the ``read`` columns whose text is longer than a cell of Excel can hold
    (:data:`~pipelines.workbook.structure.MAX_CELL_CHARS`): ``(key, length)``; None if none."""
    for name in read:
        if name in columns:
            value = cell_value(cell_at(cells, columns[name]))
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                return name, len(value)
    return None


def too_long_message(column: str, row: int, length: int) -> str:
    """The refusal of a cell whose text is longer than Excel allows."""
    return (
        f"ô {column}{row} có {vn_count(length)} ký tự, vượt giới hạn {vn_count(MAX_CELL_CHARS)} ký "
        "tự của một ô Excel"
    )


def rows_after(sheet, header_row: int):
    for row_number, cells in enumerate(
        sheet.iter_rows(min_row=header_row + 1), start=header_row + 1
    ):
        yield row_number, tuple(cells)


def cell_value(cell) -> Any:
    return None if cell is None else getattr(cell, "value", None)


def shown_value(cell, node: Node | None) -> Any:
    """A cell's value as the unit sees it: Excel stores "85,5%" typed into a cell as 0.855 with a
    percent format. On a 0–100 criterion (and any non-percentage one) the unit means 85.5; on a
    0–1 criterion (``percent_scale: 1``) 0.855 is already the value."""
    value = cell_value(cell)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and "%" in (getattr(cell, "number_format", None) or ""):
        if node is not None and node.percent_scale == 1:
            return value
        return round(value * 100, 9)
    return value


def cell_at(cells: tuple, index: int) -> Any:
    return cells[index] if index < len(cells) else None


def is_filled(value: Any) -> bool:
    if value is None:
        return False
    return not (isinstance(value, str) and not value.strip())


def cell_text(cells: tuple, index: int) -> str:
    value = cell_value(cell_at(cells, index))
    return unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""


def raw_text(raw: Any) -> str | None:
    """The cell's content as text, NFC like every Vietnamese text stored (DOMAIN.md)."""
    return None if raw is None else unicodedata.normalize("NFC", str(raw))
