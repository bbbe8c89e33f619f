"""What openpyxl's read-only, cached-values view of a workbook hides: formulas that carry no
cached result and merged cell ranges.

A workbook saved by a program that does not calculate (openpyxl, some web exporters, a script)
stores ``=B9*100`` without its result; read for values it looks exactly like a blank cell, i.e.
"missing data", which would silently score 0. Merged ranges make every cell but the top-left one
read as blank too. Both are read here straight from the sheet XML, in one streaming pass.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL = re.compile(r"^([A-Z]+)(\d+)$")


@dataclass
class SheetFacts:
    """Cells of one sheet that the cached-values view cannot show faithfully."""

    uncached_formulas: dict[str, str] = field(default_factory=dict)  # "G13" -> "=G12*2"
    merged: list[str] = field(default_factory=list)  # "G13:G14"

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


def workbook_facts(path: str | Path) -> dict[str, SheetFacts]:
    """Per sheet title: formulas without a cached result and merged ranges. An archive that is
    not a readable workbook gives ``{}`` (opening it with openpyxl reports the real problem)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {
                title: _sheet_facts(archive, member)
                for title, member in _sheet_members(archive).items()
            }
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError):
        return {}


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL}Relationship")}
    members = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        if not target:
            continue
        member = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        members[sheet.get("name", "")] = posixpath.normpath(member)
    return members


def _sheet_facts(archive: zipfile.ZipFile, member: str) -> SheetFacts:
    facts = SheetFacts()
    with archive.open(member) as handle:
        for _, element in ElementTree.iterparse(handle, events=("end",)):
            if element.tag == f"{_MAIN}c":
                formula = element.find(f"{_MAIN}f")
                cached = element.find(f"{_MAIN}v")
                if formula is not None and (cached is None or not (cached.text or "").strip()):
                    facts.uncached_formulas[element.get("r", "")] = "=" + (formula.text or "")
                element.clear()
            elif element.tag == f"{_MAIN}mergeCell":
                facts.merged.append(element.get("ref", ""))
            elif element.tag == f"{_MAIN}row":
                element.clear()
    return facts
