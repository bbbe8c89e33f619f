"""Where a table is in a workbook sheet (by its header texts) and what its cells hold, as the
unit sees them: shared by the self-assessment and the appraisal readers."""

from __future__ import annotations

import unicodedata
from typing import Any

from pipelines.framework.model import Node
from pipelines.workbook.layout import META_SHEET
from pipelines.workbook.structure import SheetFacts


def header_key(text: object) -> str:
    return unicodedata.normalize("NFC", str(text or "")).strip().lower()


def sheet_facts(book, sheet_name: str) -> SheetFacts:
    return getattr(book, "dti_facts", {}).get(sheet_name) or SheetFacts()


def find_table(book, columns: dict[str, str], key: str, preferred: str | None = None):
    """The sheet, header row and column positions of a table, located by its header texts."""
    wanted = {header_key(text): name for name, text in columns.items()}
    order = [preferred] if preferred in book.sheetnames else []
    order += [s for s in book.sheetnames if s not in order and s != META_SHEET]
    for sheet_name in order:
        sheet = book[sheet_name]
        for row_number, cells in enumerate(sheet.iter_rows(max_row=40, values_only=True), start=1):
            found: dict[str, int] = {}
            for i, c in enumerate(cells):
                name = wanted.get(header_key(c))
                if name is not None:
                    found.setdefault(name, i)
            if key in found:
                return sheet_name, row_number, found
    return None, None, {}


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
