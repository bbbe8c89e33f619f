"""CSV submissions: the same intake as workbooks, for units (or staff) who send a long CSV.

Self-assessment: ``unit_id,year,indicator_id,value`` plus optional ``evidence``, ``self_points``
and ``framework_version``. Appraisal: ``unit_id,indicator_id,reason`` with ``appraised_value``
and/or ``appraised_points`` (``year`` optional: the inbox folder's year). Vietnamese headers are
accepted too (``Mã đơn vị``, ``Năm``, ``Mã chỉ số``, ``Giá trị báo cáo`` …).

A CSV may hold several units; each row's level and framework come from the unit registry of its
year. Encoding UTF-8 (with or without BOM) or UTF-16 with BOM; separator ``,``, ``;`` or tab,
detected from the header line (Excel in Vietnamese locales writes ``;``): the rules of
:mod:`pipelines.workbook.csv_cells`, shared with the data files ``dti score`` reads. Every refusal
names the file, the line and the column (``cột D (value)``), like a workbook's.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pipelines.workbook.csv_cells import (
    CsvFileError,
    column_label,
    decode_csv,
    find_columns,
    sniff_delimiter,
)
from pipelines.workbook.csv_rows import CsvReading, CsvSubmission, Resolver
from pipelines.workbook.read import (
    ParsedWorkbook,
    WorkbookError,
)

SELF_REQUIRED = ("unit_id", "year", "indicator_id", "value")
APPRAISAL_REQUIRED = ("unit_id", "indicator_id", "reason")
APPRAISAL_MARKERS = ("appraised_value", "appraised_points")


def _text(data: bytes, name: str) -> str:
    try:
        return decode_csv(data, name)
    except CsvFileError as exc:
        raise WorkbookError(name, exc.rule, exc.detail, sheet="", row=exc.line, column="") from None


def read_csv_submission(
    path: Path, resolve: Resolver, expected_year: int | None, display_name: str | None = None
) -> CsvSubmission:
    """Read a CSV submission; raises :class:`WorkbookError` when the file as a whole cannot be
    read (encoding, missing columns), otherwise refuses single rows with located messages."""
    name = display_name or path.name
    text = _text(path.read_bytes(), name)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise WorkbookError(name, "empty_file", "tệp CSV rỗng", sheet="", row=1, column="")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(lines[0]))
    header = next(reader)
    positions = find_columns(header)
    labels = {key: column_label(index, header[index]) for key, index in positions.items()}
    kind = "appraisal" if any(k in positions for k in APPRAISAL_MARKERS) else "self"
    required = APPRAISAL_REQUIRED if kind == "appraisal" else SELF_REQUIRED
    missing = [k for k in required if k not in positions]
    if missing:
        raise WorkbookError(
            name,
            "missing_column",
            f"thiếu cột {', '.join(missing)} ở dòng tiêu đề (cần: {', '.join(required)}"
            + (", appraised_value hoặc appraised_points" if kind == "appraisal" else "")
            + ")",
            sheet="",
            row=1,
            column="",
        )
    submission = CsvSubmission(kind, ParsedWorkbook(name))
    reading = CsvReading(submission, positions, labels, resolve, expected_year, len(header))
    for fields in reader:
        reading.row(reader.line_num, fields)
    reading.finish()
    return submission
