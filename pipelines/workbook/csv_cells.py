"""Reading CSV text the intake's way: one implementation for every CSV the project reads.

Used by the inbox's CSV submissions (:mod:`pipelines.workbook.csvfile`) and by the data files of
``dti score``, the analyses in file mode and ``dti coinr`` (:mod:`pipelines.analysis.datafiles`,
COINr's
``iMeta`` in :mod:`pipelines.framework.coinr`):

- encoding UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is refused with the line
  of the first invalid byte; the text is normalised to Unicode NFC;
- separator ``,``, ``;`` or tab, detected from the header line (Excel in Vietnamese locales
  writes ``;``);
- a cell's text is NFC without the spaces around it; header names ignore case, BOM and spaces;
- a year is four digits;
- numbers follow :func:`pipelines.workbook.cells.read_number` (``85,5``, ``85%``, blank =
  missing); data files written by programs also get :func:`read_data_number`.

Every refusal is a :class:`CsvFileError`: one line naming the file, the line, the column and
the value.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.workbook.cells import CellReading, read_number
from pipelines.workbook.layout import column_letter
from pipelines.workbook.read import locate

SEPARATORS = (",", ";", "\t")
# Column names of the long CSV (submissions and data files), English or Vietnamese, compared with
# :func:`header_key`.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "unit_id": ("unit_id", "mã đơn vị", "ma_don_vi"),
    "year": ("year", "năm", "nam"),
    "indicator_id": ("indicator_id", "mã chỉ số", "ma_chi_so"),
    "value": ("value", "giá trị báo cáo", "giá trị", "gia_tri"),
    "evidence": ("evidence", "tài liệu kiểm chứng"),
    "self_points": ("self_points", "điểm tự đánh giá"),
    "framework_version": ("framework_version", "phiên bản bộ chỉ số"),
    "appraised_value": ("appraised_value", "giá trị thẩm định"),
    "appraised_points": ("appraised_points", "điểm thẩm định"),
    "reason": ("reason", "lý do điều chỉnh", "lý do"),
}
# A missing value in a data file: blank, or COINr's (R's) NA.
MISSING_MARKERS = ("", "NA")
# A plain decimal as programs write it (R, polars, Python): the dot is the decimal point and an
# exponent may follow ("12.698", "-0.5", "1e-05").
_PROGRAM_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_YEAR = re.compile(r"^\d{4}$")
_BOM = "\ufeff"


class CsvFileError(ValueError):
    """A CSV file is refused: ``file · dòng N · cột X: message`` (parts that do not apply, such as
    the column of an unreadable file, are left out)."""

    def __init__(self, file_name: str, rule: str, message: str, line: int = 0, column: str = ""):
        self.file_name, self.rule, self.detail = file_name, rule, message
        self.line, self.column = line, column
        super().__init__(f"{locate(file_name, '', line, column)}: {message}")


@dataclass(frozen=True)
class Fault:
    """One refused cell or row of a CSV: where (line, column label), the rule and the message."""

    line: int
    column: str
    rule: str
    message: str


def decode_csv(data: bytes, name: str) -> str:
    """The file's text in Unicode NFC: UTF-8 (a BOM is dropped) or UTF-16 with its BOM."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return unicodedata.normalize("NFC", data.decode("utf-16"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            name,
            "bad_encoding",
            f"tệp CSV không ở mã UTF-8 (byte không hợp lệ 0x{data[exc.start]:02X}); khi lưu "
            "trong Excel chọn 'CSV UTF-8 (Comma delimited)'",
            line=data[: exc.start].count(b"\n") + 1,
        ) from None
    if "\x00" in text:
        raise CsvFileError(
            name,
            "bad_encoding",
            "tệp chứa byte 0x00: không phải tệp CSV văn bản UTF-8 (có thể là UTF-16 không có BOM "
            "hoặc một tệp nhị phân đổi đuôi)",
            line=text[: text.index("\x00")].count("\n") + 1,
        )
    return unicodedata.normalize("NFC", text)


def sniff_delimiter(header_line: str) -> str:
    """``,``, ``;`` or tab: the separator the header line uses most (``,`` when none)."""
    counts = {d: header_line.count(d) for d in SEPARATORS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def header_key(title: str) -> str:
    """A header name as compared: NFC, lower case, without BOM and surrounding spaces."""
    return unicodedata.normalize("NFC", title).strip().strip(_BOM).strip().lower()


def header_title(title: str) -> str:
    """A header name as shown: without BOM and surrounding spaces."""
    return unicodedata.normalize("NFC", title).strip().strip(_BOM).strip()


def column_label(index: int, title: str) -> str:
    """``D (value)``: the column's letter and its header name, as refusals show it."""
    return f"{column_letter(index)} ({header_title(title)})"


def find_columns(header: list[str], keys: tuple[str, ...] | None = None) -> dict[str, int]:
    """Position of each known column (:data:`COLUMN_ALIASES`; only ``keys`` when given) in the
    header; the first of two columns with the same meaning counts."""
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        for key, aliases in COLUMN_ALIASES.items():
            if keys is not None and key not in keys:
                continue
            if header_key(title) in aliases and key not in positions:
                positions[key] = index
    return positions


def cell_text(fields: list[str], index: int | None) -> str:
    """The text of field ``index`` of a row of :func:`decode_csv`'s text (already NFC), without
    surrounding spaces; ``""`` when absent."""
    if index is None or index >= len(fields):
        return ""
    return fields[index].strip()


def parse_year(text: str) -> int | None:
    """A year written as four digits (``2024``); None for anything else."""
    text = text.strip()
    return int(text) if _YEAR.match(text) else None


def read_data_number(text: str, yes_no: bool = False) -> CellReading:
    """A value of a data file: :func:`~pipelines.workbook.cells.read_number`, except that a plain
    decimal as programs write it is read with the dot as the decimal point and may carry an
    exponent (``12.698``, ``1e-05``; the intake reads a lone ``1.234`` the Vietnamese way, as
    1234). A number too large for a float (``1e400``) is refused (``out_of_range``); ``inf`` and
    ``nan`` are not numbers. ``NA`` is not handled here (see :data:`MISSING_MARKERS`)."""
    stripped = text.strip()
    if _PROGRAM_DECIMAL.match(stripped):
        number = float(stripped)
        if not math.isfinite(number):
            return CellReading(
                None, "out_of_range", f"số '{stripped}' vượt giới hạn số thực (quá lớn)"
            )
        return CellReading(number)
    return read_number(stripped, yes_no=yes_no)


@dataclass
class CsvTable:
    """A CSV file read whole: its header, its data rows (blank lines skipped) with their line
    numbers, and the rows refused for having more or fewer fields than the header."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    ragged: list[Fault] = field(default_factory=list)

    def label(self, index: int) -> str:
        """``D (value)`` for column ``index``."""
        return column_label(index, self.header[index])


def read_csv_table(path: str | Path, name: str | None = None) -> CsvTable:
    """Read a data CSV: decoded, NFC, separator detected. Refuses (:class:`CsvFileError`) an
    empty file and a file with a header but no data row; rows with extra or missing fields are
    listed in :attr:`CsvTable.ragged`."""
    path = Path(path)
    name = name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvFileError(name, "unreadable", f"không đọc được tệp ({exc.strerror})") from None
    text = decode_csv(data, name)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CsvFileError(name, "empty_file", "tệp CSV rỗng (không có dòng tiêu đề)", line=1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(lines[0]))
    header = next(reader)
    table = CsvTable(name, header)
    width = len(header)
    for fields in reader:
        if not "".join(fields).strip():
            continue
        line = reader.line_num
        if len(fields) > width:
            message = extra_fields_message(len(fields), width, fields[width:])
            table.ragged.append(Fault(line, column_letter(width), "extra_fields", message))
        elif len(fields) < width:
            shown = reader.dialect.delimiter.join(fields)
            table.ragged.append(
                Fault(
                    line,
                    column_label(len(fields), header[len(fields)]),
                    "missing_fields",
                    f"dòng '{shown[:60]}{'…' if len(shown) > 60 else ''}' có {len(fields)} "
                    f"trường, dòng tiêu đề có {width}: thiếu trường từ cột "
                    f"{column_letter(len(fields))} (cột phân cách bằng "
                    f"'{reader.dialect.delimiter}' như dòng tiêu đề?)",
                )
            )
        else:
            table.rows.append((line, fields))
    if not table.rows and not table.ragged:
        raise CsvFileError(
            name, "no_data_rows", "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào", line=1
        )
    return table


def extra_fields_message(count: int, width: int, surplus: list[str] | None = None) -> str:
    """Why a row has more fields than the header (an unquoted decimal comma, usually); the
    fields beyond the header's, when given, are quoted."""
    extra = f" (thừa: {', '.join(repr(f) for f in surplus[:3])})" if surplus else ""
    return (
        f"dòng có {count} trường, dòng tiêu đề có {width}{extra}; có thể số thập phân dùng dấu "
        "phẩy mà "
        'không đặt trong ngoặc kép ("85,5") — đặt giá trị trong ngoặc kép hoặc dùng dấu chấm '
        "phẩy (;) để phân cách cột"
    )


def refuse_faults(name: str, faults: list[Fault]) -> None:
    """Raise :class:`CsvFileError` for the first fault in reading order (the count and lines of
    the others appended, so one line says everything); nothing when there is none."""
    if not faults:
        return
    faults = sorted(faults, key=lambda f: f.line)
    first, others = faults[0], faults[1:]
    message = first.message
    if others:
        lines = sorted({f.line for f in others})
        shown = ", ".join(str(n) for n in lines[:10]) + (", …" if len(lines) > 10 else "")
        message += f" (cùng {len(others)} lỗi khác, ở dòng {shown})"
    raise CsvFileError(name, first.rule, message, line=first.line, column=first.column)
