"""What openpyxl's read-only, cached-values view of a workbook hides: formulas (with or without
a cached result), merged cell ranges, and what is hidden from the unit (sheets, rows, columns);
and the size budget of a workbook, checked before anything is decompressed.

A workbook saved by a program that does not calculate (openpyxl, some web exporters, a script)
stores ``=B9*100`` without its result; read for values it looks exactly like a blank cell, i.e.
"missing data", which would silently score 0. A cached result can also be anything a program
wrote (``=2+3`` stored as 999), so the reader checks it against the formula. Merged ranges make
every cell but the top-left one read as blank too. A hidden sheet, row or column holds values the
unit does not see in Excel. All of it is read here straight from the XML, in one streaming pass.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from pipelines.text.labels import vn_count

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL = re.compile(r"^([A-Z]+)(\d+)$")

# Budget of one received workbook, checked on the archive's directory before any part is
# decompressed: Excel's own limit of a cell's text, the parts' total decompressed size (a unit's
# filled template is ~0.1 MB, an appraisal workbook of every unit a few MB) and their number.
MAX_CELL_CHARS = 32_767
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 1_000


@dataclass
class SheetFacts:
    """Cells of one sheet that the cached-values view cannot show faithfully."""

    uncached_formulas: dict[str, str] = field(default_factory=dict)  # "G13" -> "=G12*2"
    merged: list[str] = field(default_factory=list)  # "G13:G14"
    cached_formulas: dict[str, str] = field(default_factory=dict)  # "G13" -> "=2+3"
    hidden: bool = False  # the sheet itself (state hidden or veryHidden)
    hidden_rows: set[int] = field(default_factory=set)  # Excel row numbers
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)  # 1-based, inclusive

    def row_hidden(self, row: int) -> bool:
        """The row is hidden (or has zero height) in Excel."""
        return row in self.hidden_rows

    def column_hidden(self, letters: str) -> bool:
        """The column is hidden (or has zero width) in Excel."""
        number = column_index(letters) + 1
        return any(first <= number <= last for first, last in self.hidden_columns)

    def merged_range_of(self, column: str, row: int) -> str | None:
        """The merged range spanning more than one row that contains the cell, if any."""
        col = column_index(column)
        for ref in self.merged:
            first, _, last = ref.partition(":")
            (c1, r1), (c2, r2) = split_cell(first), split_cell(last or first)
            if r2 > r1 and r1 <= row <= r2 and column_index(c1) <= col <= column_index(c2):
                return ref
        return None


def split_cell(ref: str) -> tuple[str, int]:
    match = _CELL.match(ref.replace("$", "").upper())
    if not match:
        raise ValueError(f"not a cell reference: {ref!r}")
    return match.group(1), int(match.group(2))


def column_index(letters: str) -> int:
    """Excel letters → 0-based index (A → 0, AB → 27)."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1


def archive_problem(archive: zipfile.ZipFile, verify_parts: bool = True) -> tuple[str, str] | None:
    """Why a workbook's archive is beyond the budget, as (rule, Vietnamese message); None when it
    is within it.

    First from the archive's directory alone (too many parts, or parts that declare more than
    :data:`MAX_UNPACKED_BYTES` together: ``file_too_large``); then every part is decompressed in
    bounded chunks and discarded, so that a part holding more than it declares (which a reader
    asking for a whole part would decompress at once) is refused before anyone reads it
    (``unreadable_file``). A reader that only reads parts with :func:`read_part` may skip that
    second pass (``verify_parts=False``)."""
    members = archive.infolist()
    if len(members) > MAX_ARCHIVE_MEMBERS:
        return (
            "file_too_large",
            f"tệp gồm {vn_count(len(members))} phần, vượt giới hạn {vn_count(MAX_ARCHIVE_MEMBERS)} "
            "phần của một tệp số liệu; lưu lại tệp từ mẫu DTI bằng Excel",
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        return (
            "file_too_large",
            f"tệp giải nén ra {vn_count(unpacked)} byte, vượt giới hạn "
            f"{vn_count(MAX_UNPACKED_BYTES)} "
            "byte của một tệp số liệu; xóa nội dung thừa (ảnh, trang không thuộc mẫu) rồi gửi lại",
        )
    for member in members if verify_parts else ():
        try:
            with archive.open(member) as part:
                while part.read(1 << 20):
                    pass
        except Exception as exc:  # any damaged part makes the file unreadable
            return (
                "unreadable_file",
                f"không đọc được tệp Excel (phần '{member.filename}' bị hỏng: "
                f"{type(exc).__name__}: {exc})",
            )
    return None


def read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """One part of the archive, decompressed in bounded chunks: never more than the size the part
    declares (:mod:`zipfile` stops there, then fails its checksum), never all at once."""
    with archive.open(name) as part:
        return b"".join(iter(lambda: part.read(1 << 20), b""))


def sheet_is_hidden(sheet) -> bool:
    """A ``<sheet>`` element of ``workbook.xml`` that Excel does not show."""
    return sheet.get("state", "visible") in ("hidden", "veryHidden")


def row_is_hidden(row) -> bool:
    """A ``<row>`` element that Excel does not show: hidden, or of zero height."""
    return row.get("hidden") in ("1", "true") or _zero(row.get("ht"))


def hidden_column_range(col) -> tuple[int, int] | None:
    """The 1-based columns ``(min, max)`` of a ``<col>`` element hiding them (hidden, or of
    zero width); None when it shows them."""
    if col.get("hidden") in ("1", "true") or _zero(col.get("width")):
        try:
            return int(col.get("min", "0")), int(col.get("max", col.get("min", "0")))
        except ValueError:
            return None
    return None


def _zero(size: str | None) -> bool:
    try:
        return size is not None and float(size) == 0
    except ValueError:
        return False


def workbook_facts(path: str | Path) -> dict[str, SheetFacts]:
    """Per sheet title: formulas, merged ranges and what is hidden. An archive that is not a
    readable workbook gives ``{}`` (opening it with openpyxl reports the real problem)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive_problem(archive):
                return {}
            facts = {}
            for title, (member, hidden) in _sheet_members(archive).items():
                facts[title] = _sheet_facts(archive, member)
                facts[title].hidden = hidden
            return facts
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError):
        return {}


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, tuple[str, bool]]:
    book = ElementTree.fromstring(read_part(archive, "xl/workbook.xml"))
    rels = ElementTree.fromstring(read_part(archive, "xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL}Relationship")}
    members = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        if not target:
            continue
        member = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        members[sheet.get("name", "")] = (posixpath.normpath(member), sheet_is_hidden(sheet))
    return members


def _sheet_facts(archive: zipfile.ZipFile, member: str) -> SheetFacts:
    facts = SheetFacts()
    row_number = 0  # a row may leave out its number: it is then the one after the previous
    with archive.open(member) as handle:
        for _, element in ElementTree.iterparse(handle, events=("end",)):
            if element.tag == f"{_MAIN}c":
                formula = element.find(f"{_MAIN}f")
                cached = element.find(f"{_MAIN}v")
                if formula is not None:
                    text = "=" + (formula.text or "")
                    if cached is None or not (cached.text or "").strip():
                        facts.uncached_formulas[element.get("r", "")] = text
                    else:
                        facts.cached_formulas[element.get("r", "")] = text
                element.clear()
            elif element.tag == f"{_MAIN}mergeCell":
                facts.merged.append(element.get("ref", ""))
            elif element.tag == f"{_MAIN}row":
                number = element.get("r") or ""
                row_number = int(number) if number.isdigit() else row_number + 1
                if row_is_hidden(element):
                    facts.hidden_rows.add(row_number)
                element.clear()
            elif element.tag == f"{_MAIN}col":
                columns = hidden_column_range(element)
                if columns:
                    facts.hidden_columns.append(columns)
    return facts
