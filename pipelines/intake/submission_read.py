"""Identify and read one received file (DOMAIN.md, yearly cycle step 3): its ``_meta`` sheet
(or a CSV file's columns) checked against the preset — format, kind, level, framework version,
year, unit — then its values read. A refusal names the file, sheet, row and column; whatever of
the identification could be read is kept with it (:class:`ParsedFile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pipelines.framework.preset import Preset
from pipelines.intake.submission_types import refused_type
from pipelines.parallel import run_jobs
from pipelines.workbook.csvfile import read_csv_submission
from pipelines.workbook.layout import FORMAT_ID, META_ROWS, META_SHEET
from pipelines.workbook.plain_workbook import NotPlain, PlainWorkbook
from pipelines.workbook.read import (
    ParsedWorkbook,
    WorkbookError,
    open_workbook,
    read_meta_cells,
    read_unit_workbook,
)
from pipelines.workbook.read_appraisal import read_appraisal_workbook


@dataclass
class ParsedFile:
    """One file read: its identification (as far as it could be read) and its contents."""

    workbook: ParsedWorkbook
    source_format: str = "xlsx"
    refused: bool = True
    kind: str | None = None
    year: int | None = None
    level: str | None = None
    unit_id: str | None = None
    framework_id: str | None = None
    framework_version: str | None = None


def read_plain_workbooks(paths: list[Path]) -> list[PlainWorkbook | None]:
    """Each plain workbook read from its XML (:class:`PlainWorkbook`), on every core; None for a CSV
    file or a workbook only openpyxl reads faithfully (opened later, in this process).

    Reading the XML is most of an intake's time and pure Python, so it is what the forked
    workers do (:mod:`pipelines.parallel`); everything after it stays here."""
    return run_jobs([partial(_plain_workbook, path) for path in paths])


def _plain_workbook(path: Path) -> PlainWorkbook | None:
    if path.suffix.lower() != ".xlsx":
        return None
    try:
        return PlainWorkbook(path)
    except NotPlain:
        return None
    except Exception:  # a damaged file is refused when it is read again, in this process
        return None


def parse_file(
    preset: Preset,
    path: Path,
    expected_year: int | None,
    display_name: str | None = None,
    book: PlainWorkbook | None = None,
) -> ParsedFile:
    """Identify and read one file (``.xlsx`` or ``.csv``; any other type, an old ``.xls`` or a
    password-encrypted workbook is refused as a whole, :func:`refused_type`). ``display_name``
    is the name used in messages (a re-evaluation reads the archived copy but names the file as
    it was sent); ``book`` is the workbook already read (:func:`read_plain_workbooks`)."""
    name = display_name or path.name
    refusal = refused_type(path, name)
    if refusal is not None:
        if book is not None:
            book.close()
        return _refused_file(refusal, expected_year, path.suffix.lower().lstrip(".") or "unknown")
    if path.suffix.lower() == ".csv":
        return _parse_csv(preset, path, expected_year, name)
    return _parse_workbook(preset, path, expected_year, name, book)


def refused_file(
    name: str, rule: str, message: str, expected_year: int | None, source_format: str
) -> ParsedFile:
    """A file refused as a whole before any cell could be read (no sheet, row 0)."""
    return _refused_file(
        WorkbookError(name, rule, message, sheet="", row=0, column=""),
        expected_year,
        source_format,
    )


def _refused_file(error: WorkbookError, expected_year: int | None, source_format: str):
    refused = ParsedWorkbook(error.file_name)
    refused.refuse(error.sheet, error.row, error.column, error.rule, error.detail)
    return ParsedFile(refused, source_format, refused=True, year=expected_year)


def _parse_workbook(
    preset: Preset,
    path: Path,
    expected_year: int | None,
    name: str,
    book: PlainWorkbook | None = None,
) -> ParsedFile:
    """Identify the file from its ``_meta`` sheet, check it against the preset, then read it."""
    known = ParsedFile(ParsedWorkbook(name))
    try:
        if book is None:
            book = open_workbook(path)
        meta = read_meta_cells(book, name)
        _known_identity(known, meta)
        _check_identity(preset, name, meta, expected_year)
        framework = preset.framework(known.level)
        if known.kind == "self":
            units = preset.registry.select("unit_id", "level", "name").iter_rows()
            known.workbook = read_unit_workbook(book, framework, name, units)
        else:
            known.workbook = read_appraisal_workbook(book, framework, name)
        known.refused = False
        if known.kind == "appraisal":
            known.unit_id = None
            _check_appraised_units(preset, known)
        return known
    except WorkbookError as exc:
        refused = ParsedWorkbook(name)
        refused.refuse(exc.sheet, exc.row, exc.column, exc.rule, exc.detail)
        known.workbook, known.refused = refused, True
        return known
    finally:
        if book is not None:
            book.close()


def _known_identity(known: ParsedFile, meta: dict[str, tuple[int, str]]) -> None:
    """Keep what the ``_meta`` sheet says, even when the file is then refused."""
    value = {key: text.strip() for key, (_, text) in meta.items()}
    known.kind = value.get("kind") if value.get("kind") in ("self", "appraisal") else None
    known.level = value.get("level") or None
    known.unit_id = value.get("unit_id") or None
    known.framework_id = value.get("framework_id") or None
    known.framework_version = value.get("framework_version") or None
    known.year = _plausible_year(value.get("year", ""))


YEARS = range(1900, 10000)  # a year a file may name (the warehouse's year column holds it)


def _plausible_year(text: str) -> int | None:
    """The year written in ``_meta``, or None when it is not a whole number in :data:`YEARS`."""
    try:
        year = int(text)
    except ValueError:
        return None
    return year if year in YEARS else None


def _meta_error(
    name: str, meta: dict[str, tuple[int, str]], key: str, rule: str, message: str
) -> WorkbookError:
    """A refusal of the identification, pointing at the ``_meta`` cell holding ``key`` (column B),
    or at the row where the template puts it (column A) when the key is not there at all."""
    if key in meta:
        return WorkbookError(name, rule, message, sheet=META_SHEET, row=meta[key][0], column="B")
    return WorkbookError(
        name,
        rule,
        f"thiếu dòng '{key}'; {message}",
        sheet=META_SHEET,
        row=META_ROWS[key],
        column="A",
    )


def _check_identity(
    preset: Preset, name: str, meta: dict[str, tuple[int, str]], expected_year: int | None
) -> None:
    value = {key: text.strip() for key, (_, text) in meta.items()}
    if value.get("format") != FORMAT_ID:
        raise _meta_error(
            name,
            meta,
            "format",
            "unknown_format",
            f"định dạng '{value.get('format', '')}' không được hỗ trợ (cần {FORMAT_ID})",
        )
    kind = value.get("kind", "")
    if kind not in ("self", "appraisal"):
        raise _meta_error(name, meta, "kind", "unknown_kind", f"loại tệp '{kind}' không hợp lệ")
    level = value.get("level", "")
    if level not in preset.levels:
        raise _meta_error(
            name,
            meta,
            "level",
            "unknown_level",
            f"cấp '{level}' không có trong bộ chỉ số {preset.id}",
        )
    framework = preset.framework(level)
    for key, expected in (("framework_id", framework.id), ("framework_version", framework.version)):
        if value.get(key) != expected:
            raise _meta_error(
                name,
                meta,
                key,
                "framework_mismatch",
                f"tệp lập theo bộ chỉ số {value.get('framework_id')} "
                f"({value.get('framework_version')}), năm nay áp dụng {framework.id} "
                f"({framework.version}); tải mẫu mới và nhập lại",
            )
    year = _plausible_year(value.get("year", ""))
    if year is None:
        raise _meta_error(
            name, meta, "year", "bad_year", f"năm '{value.get('year', '')}' không hợp lệ"
        )
    if expected_year is not None and year != expected_year:
        raise _meta_error(
            name, meta, "year", "wrong_year", f"tệp của năm {year}, không phải năm {expected_year}"
        )
    if not framework.valid_for(year):
        raise _meta_error(
            name,
            meta,
            "year",
            "framework_not_valid",
            f"bộ chỉ số {framework.id} không áp dụng cho năm {year}",
        )
    if kind == "self":
        unit_id = value.get("unit_id", "")
        if unit_id not in preset.unit_ids(level, year):
            raise _meta_error(
                name,
                meta,
                "unit_id",
                "unknown_unit",
                f"đơn vị '{unit_id}' không có trong danh mục cấp {level} năm {year}",
            )


def _check_appraised_units(preset: Preset, parsed: ParsedFile) -> None:
    """An appraisal row for a unit that does not exist that year is refused, not silently kept
    (its value and its points, with one refusal for the row)."""
    units = preset.unit_ids(parsed.level, parsed.year)
    book = parsed.workbook
    refused_rows: set[tuple[str, int]] = set()
    for entries in (book.accepted, book.adjusted_points):
        kept = []
        for row in entries:
            if row["unit_id"] in units:
                kept.append(row)
                continue
            where = (row["sheet"], row["row_number"])
            if where not in refused_rows:
                refused_rows.add(where)
                book.refuse(
                    row["sheet"],
                    row["row_number"],
                    "A",
                    "unknown_unit",
                    f"đơn vị '{row['unit_id']}' không có trong danh mục "
                    f"cấp {parsed.level} năm {parsed.year}",
                    unit_id=row["unit_id"],
                    indicator_id=row["indicator_id"],
                    raw_text=row["raw_text"],
                )
        entries[:] = kept
    book.sort_rejected()


def _parse_csv(preset: Preset, path: Path, expected_year: int | None, name: str) -> ParsedFile:
    def resolve(unit_id: str, year: int):
        for level in preset.levels:
            if unit_id in preset.unit_ids(level, year):
                return level, preset.framework(level)
        return None

    try:
        submission = read_csv_submission(path, resolve, expected_year, display_name=name)
    except WorkbookError as exc:
        refused = ParsedWorkbook(name)
        refused.refuse(exc.sheet, exc.row, exc.column, exc.rule, exc.detail)
        return ParsedFile(refused, "csv", refused=True, year=expected_year)

    def single(values: set):
        return next(iter(values)) if len(values) == 1 else None

    framework = single(submission.frameworks)
    return ParsedFile(
        submission.parsed,
        "csv",
        refused=False,
        kind=submission.kind,
        year=expected_year if expected_year is not None else single(submission.years),
        level=single(submission.levels),
        unit_id=single(submission.units) if submission.kind == "self" else None,
        framework_id=framework[0] if framework else None,
        framework_version=framework[1] if framework else None,
    )
