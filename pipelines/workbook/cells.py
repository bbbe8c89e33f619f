"""Reading one cell's text as a number, explicitly (DOMAIN.md: blank is missing, not zero)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

YES_WORDS = {"có", "co", "yes", "x", "đạt", "dat", "true"}
NO_WORDS = {"không", "khong", "no", "chưa", "chua", "không đạt", "false"}
EXCEL_ERRORS = ("#DIV/0!", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!")
_THOUSANDS_DOT = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
# English grouping only when unambiguous: "1,234,567" or "1,234.5". A lone "1,234" is read the
# Vietnamese way, as the decimal 1.234.
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3}((,\d{3}){2,}(\.\d+)?|(,\d{3})+\.\d+)$")
# What is left after separators are resolved must be a plain decimal: Python's float() would also
# take "1_000", "1e3", "0x10"-like forms that no unit types on purpose (and that Excel does not
# show as numbers), so they are refused rather than guessed.
_PLAIN_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class CellReading:
    """The outcome of reading a cell: a value (None = blank/missing) or a refusal."""

    value: float | None
    rule: str | None = None  # id of the rule broken, when refused
    message: str | None = None


def read_number(raw: object, yes_no: bool = False) -> CellReading:
    """Interpret a cell the Vietnamese way: numbers as they are, ``"85,5"`` as 85.5, ``"1.234"``
    and ``"1.234,5"`` with a thousands dot, ``"1,234,567"``/``"1,234.5"`` with English grouping,
    a trailing ``%`` dropped, yes/no words where ``yes_no``, blank as missing (never zero)."""
    if raw is None:
        return CellReading(None)
    if isinstance(raw, bool):  # an Excel TRUE/FALSE cell is a yes/no answer, not a number
        if not yes_no:
            return CellReading(None, "not_a_number", f"'{str(raw).upper()}' không phải là số")
        return CellReading(1.0 if raw else 0.0)
    if isinstance(raw, int | float):
        if math.isnan(raw) or math.isinf(raw):
            return CellReading(None, "not_a_number", f"giá trị không hợp lệ: {raw}")
        return CellReading(float(raw))
    text = unicodedata.normalize("NFC", str(raw)).strip()
    if text == "":
        return CellReading(None)
    if text.upper() in EXCEL_ERRORS:
        return CellReading(None, "formula_error", f"ô chứa lỗi công thức {text}")
    lowered = text.lower()
    if lowered in YES_WORDS | NO_WORDS:
        if not yes_no:
            return CellReading(None, "not_a_number", f"'{text}' không phải là số")
        return CellReading(1.0 if lowered in YES_WORDS else 0.0)
    cleaned = text.replace("\u00a0", "").replace(" ", "").rstrip("%")
    if _THOUSANDS_DOT.match(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif _THOUSANDS_COMMA.match(cleaned):
        cleaned = cleaned.replace(",", "")
    else:
        cleaned = cleaned.replace(",", ".")
    if not _PLAIN_DECIMAL.match(cleaned):
        return CellReading(None, "not_a_number", f"'{text}' không phải là số")
    number = float(cleaned)
    if not math.isfinite(number):  # the texts "nan", "inf", "Infinity" are not numbers either
        return CellReading(None, "not_a_number", f"'{text}' không phải là số")
    return CellReading(number)
