"""A fast, exact stand-in for openpyxl's read-only workbook, for plain workbooks.

Reading a unit's workbook with openpyxl (read-only, cached values) takes ~20 ms, most of it
building objects the reader never looks at; the sheet XML itself parses in ~1 ms. For workbooks
that hold only what the DTI templates hold — numbers and shared strings, the *General* number
format, no formulas — this module reads the XML directly and offers the part of openpyxl's API
the reader uses (``sheetnames``, ``book[name].iter_rows(...)`` with openpyxl's row and padding
rules, cells with ``value`` and ``number_format``, ``close()``, plus ``dti_facts``), so that
:mod:`pipelines.workbook.read` reads it with exactly the same code and gives exactly the same
values, refusals and locations.

Anything else — a formula (cached or not), a boolean, error, inline or rich-text string, a date
or percent (any non-General) number format on a cell, a sheet without its ``dimension``, a cell
without its reference, a chart sheet, an escaped character in a string, a damaged archive, an
archive beyond the size budget (checked before anything is decompressed) — raises
:class:`NotPlain`, and the caller opens the file with openpyxl as before (which refuses what is
beyond the budget). Hidden sheets, rows and columns are recorded in ``dti_facts`` exactly as
:func:`~pipelines.workbook.structure.workbook_facts` records them for openpyxl. Rows, columns
and values are taken from the XML references themselves, so positions are exact (unlike a
reader that reports a used range starting at the first non-empty cell).

Why not calamine (fastexcel, python-calamine): it reads the values ~3–5× faster than this module,
but gives no number format, no sign of a formula, no hidden rows or columns and no int/float
distinction of the stored text, which the reader's rules need; the XML pass that would add them
(:func:`~pipelines.workbook.structure.workbook_facts`) alone costs as much as this module.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from pipelines.workbook.structure import (
    SheetFacts,
    archive_problem,
    column_index,
    hidden_column_range,
    read_part,
    row_is_hidden,
    sheet_is_hidden,
)

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_WORKSHEET_REL = "/relationships/worksheet"
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
GENERAL = "General"


class NotPlain(Exception):
    """The workbook holds something only openpyxl reads faithfully: use openpyxl."""


class _Cell:
    """What the reader uses of a read-only cell."""

    __slots__ = ("number_format", "value")

    def __init__(self, value: object):
        self.value = value
        self.number_format = GENERAL


class _Empty:
    """openpyxl's ``EMPTY_CELL``: no value, no number format."""

    __slots__ = ()
    value = None
    number_format = None


EMPTY = _Empty()


class PlainSheet:
    """One worksheet: its rows as openpyxl's read-only worksheet yields them."""

    def __init__(self, rows: list[tuple[int, list[tuple[int, object]]]], bounds: tuple):
        self._rows = rows  # (row number, [(column, value), …]) in file order
        self.min_column, self.min_row, self.max_column, self.max_row = bounds

    def iter_rows(self, min_row=None, max_row=None, min_col=None, max_col=None, values_only=False):
        """openpyxl's ``Worksheet.iter_rows`` + ``ReadOnlyWorksheet._cells_by_row``."""
        min_col = min_col or 1
        min_row = min_row or 1
        max_col = max_col or self.max_column
        max_row = max_row or self.max_row
        filler = None if values_only else EMPTY
        empty_row = (filler,) * (max_col + 1 - min_col) if max_col is not None else []
        counter, idx = min_row, 1
        for idx, cells in self._rows:
            if max_row is not None and idx > max_row:
                break
            for _ in range(counter, idx):  # rows missing from the file
                counter += 1
                yield empty_row
            if counter <= idx:
                counter += 1
                yield self._row(cells, min_col, max_col, values_only)
        if max_row is not None and max_row < idx:
            for _ in range(counter, max_row + 1):
                yield empty_row

    @staticmethod
    def _row(cells, min_col, max_col, values_only):
        """openpyxl's ``ReadOnlyWorksheet._get_row``."""
        if not cells and not max_col:
            return ()
        max_col = max_col or cells[-1][0]
        new_row = [None if values_only else EMPTY] * (max_col + 1 - min_col)
        for column, value in cells:
            if min_col <= column <= max_col:
                new_row[column - min_col] = value if values_only else _Cell(value)
        return tuple(new_row)


class _Facts(dict):
    """``book.dti_facts``: merged ranges per sheet (a plain workbook has no formulas)."""


class PlainWorkbook:
    """A plain workbook read straight from its XML (see the module docstring)."""

    def __init__(self, path: str | Path):
        try:
            with zipfile.ZipFile(path) as archive:
                self._read(archive)
        except NotPlain:
            raise
        except Exception as exc:  # a damaged file: openpyxl reports the real problem
            raise NotPlain(f"{type(exc).__name__}: {exc}") from exc

    def _read(self, archive: zipfile.ZipFile) -> None:
        beyond = archive_problem(archive, verify_parts=False)  # parts read with read_part
        if beyond:
            raise NotPlain(beyond[1])
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names:
            raise NotPlain("no content types")
        book = ElementTree.fromstring(read_part(archive, "xl/workbook.xml"))
        rels = ElementTree.fromstring(read_part(archive, "xl/_rels/workbook.xml.rels"))
        targets = {
            rel.get("Id"): (rel.get("Target", ""), rel.get("Type", ""))
            for rel in rels.iter(f"{_PKG_REL}Relationship")
        }
        members: dict[str, str] = {}
        hidden: set[str] = set()
        for sheet in book.iter(f"{_MAIN}sheet"):
            if sheet_is_hidden(sheet):
                hidden.add(sheet.get("name", ""))
            target, kind = targets.get(sheet.get(f"{_REL}id"), ("", ""))
            if not target or not kind.endswith(_WORKSHEET_REL):
                raise NotPlain("a sheet that is not a worksheet")
            member = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            members[sheet.get("name", "")] = posixpath.normpath(member)
        general = self._general_styles(archive, names)
        strings = self._shared_strings(archive, names)
        self.sheetnames = list(members)
        self._sheets: dict[str, PlainSheet] = {}
        self.dti_facts = _Facts()
        for title, member in members.items():
            sheet, facts = _parse_sheet(read_part(archive, member), strings, general)
            facts.hidden = title in hidden
            self._sheets[title] = sheet
            self.dti_facts[title] = facts

    @staticmethod
    def _general_styles(archive: zipfile.ZipFile, names: set[str]) -> set[int]:
        """Indexes of the cell formats whose number format is General (id 0)."""
        if "xl/styles.xml" not in names:
            raise NotPlain("no styles")
        styles = ElementTree.fromstring(read_part(archive, "xl/styles.xml"))
        xfs = styles.find(f"{_MAIN}cellXfs")
        if xfs is None:
            raise NotPlain("no cell formats")
        return {
            i for i, xf in enumerate(xfs.findall(f"{_MAIN}xf")) if xf.get("numFmtId", "0") == "0"
        }

    @staticmethod
    def _shared_strings(archive: zipfile.ZipFile, names: set[str]) -> list[str]:
        if "xl/sharedStrings.xml" not in names:
            return []
        strings = []
        root = ElementTree.fromstring(read_part(archive, "xl/sharedStrings.xml"))
        for item in root.iter(f"{_MAIN}si"):
            strings.append(_plain_text(item, "a rich-text or phonetic string"))
        return strings

    def __getitem__(self, name: str) -> PlainSheet:
        return self._sheets[name]

    def close(self) -> None:
        """Nothing is held open (openpyxl's API)."""


def _bounds(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    start, end = _CELL.match(first), _CELL.match(last or first)
    if start is None or end is None:
        raise NotPlain(f"dimension {ref!r}")
    return (
        column_index(start.group(1)) + 1,
        int(start.group(2)),
        column_index(end.group(1)) + 1,
        int(end.group(2)),
    )


def _inline(element) -> str | None:
    """openpyxl's inline string: the text of ``<is><t>…</t></is>`` (None without ``<is>``)."""
    return None if element is None else _plain_text(element, "a rich-text inline string")


def _plain_text(element, rich: str) -> str:
    """The text of an element holding one plain ``<t>``; NotPlain (``rich``) otherwise, and for
    ``_xHHHH_`` escapes, which openpyxl decodes."""
    children = list(element)
    if len(children) != 1 or children[0].tag != f"{_MAIN}t":
        raise NotPlain(rich)
    text = children[0].text or ""
    if "_x" in text:
        raise NotPlain("an escaped character in a string")
    return text


def _number(text: str) -> int | float:
    """openpyxl's ``_cast_number``."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def _parse_sheet(
    xml: bytes, strings: list[str], general: set[int]
) -> tuple[PlainSheet, SheetFacts]:
    root = ElementTree.fromstring(xml)
    dimension = root.find(f"{_MAIN}dimension")
    if dimension is None:
        raise NotPlain("no dimension")
    bounds = _bounds(dimension.get("ref", ""))
    data = root.find(f"{_MAIN}sheetData")
    rows: list[tuple[int, list[tuple[int, object]]]] = []
    facts = SheetFacts()
    columns = root.find(f"{_MAIN}cols")
    for col in columns.findall(f"{_MAIN}col") if columns is not None else ():
        hidden = hidden_column_range(col)
        if hidden:
            facts.hidden_columns.append(hidden)
    last = 0
    for row in data.iter(f"{_MAIN}row") if data is not None else ():
        number = row.get("r")
        if number is None or not number.isdigit():
            raise NotPlain("a row without its number")
        number = int(number)
        if number <= last:
            raise NotPlain("rows out of order")
        last = number
        if row_is_hidden(row):
            facts.hidden_rows.add(number)
        cells: list[tuple[int, object]] = []
        previous = 0
        for cell in row:
            if cell.tag != f"{_MAIN}c":
                continue
            match = _CELL.match(cell.get("r") or "")
            if match is None or int(match.group(2)) != number:
                raise NotPlain("a cell without its reference")
            column = column_index(match.group(1)) + 1
            if column <= previous:
                raise NotPlain("cells out of order")
            previous = column
            kind = cell.get("t", "n")
            style = cell.get("s")
            if int(style or 0) not in general:
                raise NotPlain("a number format other than General")
            if cell.find(f"{_MAIN}f") is not None:
                raise NotPlain("a formula")
            if kind == "inlineStr":  # how openpyxl itself saves strings
                value: object = _inline(cell.find(f"{_MAIN}is"))
                cells.append((column, value))
                continue
            text = cell.findtext(f"{_MAIN}v", None) or None
            if kind == "s":
                value = strings[int(text)] if text is not None else None
            elif kind == "n":
                value = _number(text) if text is not None else None
            else:
                raise NotPlain(f"a cell of type {kind}")
            cells.append((column, value))
        rows.append((number, cells))
    merged = root.find(f"{_MAIN}mergeCells")
    if merged is not None:
        facts.merged.extend(m.get("ref", "") for m in merged.findall(f"{_MAIN}mergeCell"))
    return PlainSheet(rows, bounds), facts
