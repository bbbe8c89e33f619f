"""The refusal of a whole file that cannot be read as a DTI workbook (shared by the readers and
the helpers that locate their tables)."""

from __future__ import annotations

import unicodedata

from pipelines.workbook.layout import META_SHEET


class WorkbookError(ValueError):
    """The file cannot be read as a DTI workbook at all (not a refusal of single cells).

    ``sheet``, ``row`` and ``column`` say where the problem is: the ``_meta`` cell of a wrong
    identification, the header row of a missing column; an unreadable file has no cell (empty
    sheet and column, row 0)."""

    def __init__(
        self,
        file_name: str,
        rule: str,
        message: str,
        sheet: str = META_SHEET,
        row: int = 1,
        column: str = "A",
    ):
        file_name = unicodedata.normalize("NFC", file_name)
        self.file_name, self.rule, self.detail = file_name, rule, message
        self.sheet, self.row, self.column = sheet, row, column
        super().__init__(f"{file_name}: {message}")
