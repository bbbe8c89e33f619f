"""What one received file contained (:class:`ParsedWorkbook`): the values taken and the cells
refused, each refusal located by file, sheet, row and column (:func:`locate`)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pipelines.workbook.structure import (
    column_index,
)


@dataclass
class ParsedWorkbook:
    """What one file contained: its identification, the values taken and the cells refused."""

    file_name: str
    meta: dict[str, str] = field(default_factory=dict)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    missing_indicators: list[str] = field(default_factory=list)
    # Appraisal only: points set directly by the appraiser (one entry per row that sets them).
    adjusted_points: list[dict[str, Any]] = field(default_factory=list)
    # CSV with several units: the indicators each unit has no row for.
    missing_by_unit: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.file_name = unicodedata.normalize("NFC", self.file_name)

    def refuse(
        self,
        sheet: str,
        row: int,
        column: str,
        rule: str,
        message: str,
        column_label: str | None = None,
        **extra: Any,
    ) -> None:
        where = locate(self.file_name, sheet, row, column_label or column)
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

    def sort_rejected(self) -> None:
        """Refusals in reading order: sheet, row, then column (A before B before AA)."""
        self.rejected.sort(key=lambda r: (r["sheet"], r["row_number"], _column_key(r)))


def locate(file_name: str, sheet: str, row: int, column: str) -> str:
    """``file · trang 'sheet' · dòng 13 · cột G``; parts that do not apply (a CSV has no sheet,
    an unreadable file has no cell) are left out."""
    parts = [file_name]
    if sheet:
        parts.append(f"trang '{sheet}'")
    if row:
        parts.append(f"dòng {row}")
    if column:
        parts.append(f"cột {column}")
    return " · ".join(parts)


def _column_key(row: dict[str, Any]) -> tuple[int, int]:
    letters = "".join(c for c in str(row["column_name"] or "") if "A" <= c <= "Z")
    return (len(letters), column_index(letters) if letters else -1)
