"""Open a received workbook (:func:`open_workbook`, within the size budget) and read its hidden
``_meta`` identification sheet."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from pipelines.workbook.errors import WorkbookError
from pipelines.workbook.layout import (
    META_SHEET,
)
from pipelines.workbook.plain_workbook import NotPlain, PlainWorkbook
from pipelines.workbook.sheet_table import (
    too_long_message,
)
from pipelines.workbook.structure import (
    MAX_CELL_CHARS,
    archive_problem,
    workbook_facts,
)


def open_workbook(path: Path):
    """Open a workbook read-only with cached formula results (``#DIV/0!`` stays visible). The
    sheets' uncached formulas and merged ranges are attached as ``book.dti_facts``.

    A plain workbook (numbers and strings only, as the templates are filled in) is read straight
    from its XML by :class:`~pipelines.workbook.plain_workbook.PlainWorkbook`, which offers the
    same API and gives the same values (~5× faster); anything else goes through openpyxl."""
    try:
        return PlainWorkbook(path)
    except NotPlain:
        return open_with_openpyxl(path)


def open_with_openpyxl(path: Path):
    """:func:`open_workbook` through openpyxl, whatever the file holds (within the size budget).
    The path is kept as ``book.dti_path``, to evaluate the formulas the reader takes."""
    _check_budget(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise WorkbookError(
            path.name,
            "unreadable_file",
            f"không đọc được tệp Excel ({type(exc).__name__}: {exc})",
            sheet="",
            row=0,
            column="",
        ) from exc
    book.dti_facts = workbook_facts(path)
    book.dti_path = Path(path)
    return book


def _check_budget(path: Path) -> None:
    """Refuse a workbook beyond the size budget or with a part holding more than it declares
    (:func:`~pipelines.workbook.structure.archive_problem`); a file that is not an archive is left
    for openpyxl to report."""
    try:
        with zipfile.ZipFile(path) as archive:
            beyond = archive_problem(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if beyond:
        raise WorkbookError(Path(path).name, *beyond, sheet="", row=0, column="")


def read_meta_cells(book, file_name: str) -> dict[str, tuple[int, str]]:
    """The ``_meta`` sheet as ``key → (Excel row, value)`` (the value is in column B)."""
    if META_SHEET not in book.sheetnames:
        raise WorkbookError(
            file_name, "missing_meta", f"thiếu trang ẩn '{META_SHEET}' (tệp không lập từ mẫu DTI)"
        )
    found: dict[str, tuple[int, str]] = {}
    for row_number, cells in enumerate(book[META_SHEET].iter_rows(values_only=True), start=1):
        if cells and cells[0]:
            value = cells[1] if len(cells) > 1 else None
            text = unicodedata.normalize("NFC", str(value if value is not None else ""))
            if len(text) > MAX_CELL_CHARS:
                raise WorkbookError(
                    file_name,
                    "text_too_long",
                    too_long_message("B", row_number, len(text)),
                    row=row_number,
                    column="B",
                )
            found.setdefault(str(cells[0]).strip(), (row_number, text))
    return found


def read_meta(book, file_name: str) -> dict[str, str]:
    """The hidden identification sheet of a workbook (format, kind, framework, unit, year)."""
    return {key: value for key, (_, value) in read_meta_cells(book, file_name).items()}
