"""The fast workbook reader (intake speed) reads exactly what openpyxl reads.

Every workbook of the malformed-file corpus, the good workbook, demo self-assessments and demo
appraisal workbooks is read twice — through :class:`PlainWorkbook` when it accepts the file, and
through openpyxl — and the outcomes must be identical: identification, every accepted value
with its row and column, every refusal with its located message, the missing indicators, or the
same error for a file refused as a whole. Files the fast reader declines must be the ones it
cannot read faithfully (formulas, dates, booleans, percent formats …).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from faults import FAULTS, NAME, good_workbook

from pipelines.framework.preset import load_preset
from pipelines.intake.demo import write_demo_submissions
from pipelines.workbook.plain_workbook import NotPlain, PlainWorkbook
from pipelines.workbook.read import (
    WorkbookError,
    open_with_openpyxl,
    read_meta_cells,
    read_unit_workbook,
)
from pipelines.workbook.read_appraisal import read_appraisal_workbook

TINY = Path(__file__).parent / "fixtures" / "presets" / "tiny.yaml"


def _outcome(open_book, framework, name: str, kind: str):
    book = None
    try:
        book = open_book()
        meta = read_meta_cells(book, name)
        reader = read_appraisal_workbook if kind == "appraisal" else read_unit_workbook
        parsed = reader(book, framework, name)
        return ("read", meta, parsed.meta, parsed.accepted, parsed.rejected,
                parsed.missing_indicators, parsed.adjusted_points)  # fmt: skip
    except WorkbookError as exc:
        return ("refused", exc.rule, exc.detail, exc.sheet, exc.row, exc.column)
    finally:
        if book is not None:
            book.close()


def _both(path: Path, framework, kind: str = "self") -> tuple[bool, object, object]:
    try:
        PlainWorkbook(path)
        took = True
    except NotPlain:
        took = False
    fast = _outcome(lambda: PlainWorkbook(path), framework, path.name, kind) if took else None
    slow = _outcome(lambda: open_with_openpyxl(path), framework, path.name, kind)
    return took, fast, slow


def test_every_fault_is_read_identically_or_left_to_openpyxl(tmp_path: Path):
    framework = load_preset("daklak").framework("commune")
    fast_path, declined = [], []
    for fault in FAULTS:
        folder = tmp_path / fault.id
        path = fault.build(folder)
        if path.suffix != ".xlsx":
            continue
        took, fast, slow = _both(path, framework)
        if took:
            assert fast == slow, fault.id
            fast_path.append(fault.id)
        else:
            declined.append(fault.id)
    # most damaged files are still plain; those with formulas, dates, booleans, percent formats
    # or a broken archive are read by openpyxl
    assert len(fast_path) >= 10, (fast_path, declined)
    assert declined, "the corpus has formulas and dates: some files must go to openpyxl"
    for name in declined:
        assert any(word in name for word in ("formula", "date", "true", "percent", "unreadable",
                                             "corrupt", "not_", "empty", "merged", "error",
                                             "meta", "zip", "password", "xls")), name  # fmt: skip


def test_good_and_demo_workbooks_take_the_fast_path(tmp_path: Path):
    daklak = load_preset("daklak")
    took, fast, slow = _both(good_workbook(tmp_path / NAME), daklak.framework("commune"))
    assert took and fast == slow
    tiny = load_preset(TINY)
    files = write_demo_submissions(tiny, tmp_path / "inbox", [2024])
    for path in files:
        level = path.parent.name
        kind = "appraisal" if path.name.startswith("THAM_DINH") else "self"
        took, fast, slow = _both(path, tiny.framework(level), kind)
        assert took, path.name
        assert fast == slow, path.name
        assert fast[0] == "read" and fast[3], path.name  # values were read


@pytest.mark.parametrize("damage", ["truncated", "not_a_zip"])
def test_a_damaged_archive_goes_to_openpyxl(tmp_path: Path, damage: str):
    path = good_workbook(tmp_path / NAME)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"plain text")
    with pytest.raises(NotPlain):
        PlainWorkbook(path)
    with pytest.raises(WorkbookError):
        open_with_openpyxl(path)
