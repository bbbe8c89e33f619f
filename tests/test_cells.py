"""Tests of pipelines/workbook/cells.py: reading one cell's content as a number, the Vietnamese way.

Blank is missing (None), never zero; a refusal carries the id of the rule broken.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from pipelines.workbook.cells import CellReading, read_number

# --- accepted forms, each with its exact value -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # numbers as Excel stores them
        (0, 0.0),
        (3, 3.0),
        (85.5, 85.5),
        (0.75, 0.75),
        (1234567, 1234567.0),
        # texts in Vietnamese notation: comma decimal, dot thousands
        ("85,5", 85.5),
        ("0,5", 0.5),
        ("1.234", 1234.0),
        ("1.234,5", 1234.5),
        ("1.234.567", 1234567.0),
        ("-1.234,5", -1234.5),
        # a lone "1,234" is the Vietnamese decimal 1.234, not one thousand
        ("1,234", 1.234),
        # English grouping only where it is unambiguous
        ("1,234,567", 1234567.0),
        ("1,234.5", 1234.5),
        ("12,345,678.9", 12345678.9),
        # a dot not followed by a group of three is a decimal point
        ("12.50", 12.5),
        ("1.2345", 1.2345),
        ("0.75", 0.75),
        # plain, signed, padded, spaced
        ("0", 0.0),
        ("12", 12.0),
        ("-5", -5.0),
        (" 12 ", 12.0),
        ("1 234", 1234.0),
        ("1\u00a0234", 1234.0),
        # a trailing percent sign is dropped: percentages are entered on the 0–100 scale
        ("85%", 85.0),
        ("85,5 %", 85.5),
        ("100%", 100.0),
    ],
)
def test_accepted_number_forms(raw: object, expected: float) -> None:
    assert read_number(raw) == CellReading(expected)
    # the same number is read the same way in a yes/no cell (its range is checked later)
    assert read_number(raw, yes_no=True) == CellReading(expected)


def test_result_is_a_float() -> None:
    reading = read_number(3)
    assert type(reading.value) is float
    assert type(read_number("1.234").value) is float


# --- blank means missing, never zero -----------------------------------------------------------


@pytest.mark.parametrize("raw", [None, "", " ", "   ", "\t", "\n", "\t \n", "\u00a0", " \u00a0 "])
@pytest.mark.parametrize("yes_no", [False, True])
def test_blank_is_missing_not_zero(raw: object, yes_no: bool) -> None:
    reading = read_number(raw, yes_no=yes_no)
    assert reading == CellReading(None, None, None)
    assert reading.value is None
    assert reading.rule is None


# --- refusals, each with its rule id -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("#DIV/0!", "ô chứa lỗi công thức #DIV/0!"),
        ("#REF!", "ô chứa lỗi công thức #REF!"),
        ("#VALUE!", "ô chứa lỗi công thức #VALUE!"),
        ("#N/A", "ô chứa lỗi công thức #N/A"),
        ("#NAME?", "ô chứa lỗi công thức #NAME?"),
        ("#NUM!", "ô chứa lỗi công thức #NUM!"),
        ("#NULL!", "ô chứa lỗi công thức #NULL!"),
        (" #DIV/0! ", "ô chứa lỗi công thức #DIV/0!"),
        ("#div/0!", "ô chứa lỗi công thức #div/0!"),
    ],
)
@pytest.mark.parametrize("yes_no", [False, True])
def test_formula_errors_are_refused(raw: str, message: str, yes_no: bool) -> None:
    assert read_number(raw, yes_no=yes_no) == CellReading(None, "formula_error", message)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "'abc' không phải là số"),
        ("khoảng 80", "'khoảng 80' không phải là số"),
        ("80 máy", "'80 máy' không phải là số"),
        ("%", "'%' không phải là số"),
        ("1,2,3", "'1,2,3' không phải là số"),
        ("12.34.5", "'12.34.5' không phải là số"),
        ("--5", "'--5' không phải là số"),
        # the texts Python's float() would take but that are not numbers
        ("nan", "'nan' không phải là số"),
        ("NaN", "'NaN' không phải là số"),
        ("inf", "'inf' không phải là số"),
        ("-Infinity", "'-Infinity' không phải là số"),
    ],
)
@pytest.mark.parametrize("yes_no", [False, True])
def test_text_that_is_not_a_number_is_refused(raw: str, message: str, yes_no: bool) -> None:
    assert read_number(raw, yes_no=yes_no) == CellReading(None, "not_a_number", message)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (float("nan"), "giá trị không hợp lệ: nan"),
        (float("inf"), "giá trị không hợp lệ: inf"),
        (float("-inf"), "giá trị không hợp lệ: -inf"),
    ],
)
def test_non_finite_numbers_are_refused(raw: float, message: str) -> None:
    assert read_number(raw) == CellReading(None, "not_a_number", message)


def test_a_date_is_not_a_number() -> None:
    # Excel turns "1.5" typed in some locales into a date: it must not slip through as a number
    reading = read_number(dt.datetime(2024, 5, 1))
    assert reading.rule == "not_a_number"
    assert reading.value is None
    assert reading.message == "'2024-05-01 00:00:00' không phải là số"


# --- yes/no words only where the indicator is a yes/no one -------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Có", 1.0),
        ("có", 1.0),
        ("CÓ", 1.0),
        ("co", 1.0),
        (" Có ", 1.0),
        ("x", 1.0),
        ("X", 1.0),
        ("Đạt", 1.0),
        ("dat", 1.0),
        ("yes", 1.0),
        ("true", 1.0),
        ("Không", 0.0),
        ("không", 0.0),
        ("KHÔNG", 0.0),
        ("khong", 0.0),
        ("Chưa", 0.0),
        ("chua", 0.0),
        ("Không đạt", 0.0),
        ("no", 0.0),
        ("false", 0.0),
        (True, 1.0),
        (False, 0.0),
    ],
)
def test_yes_no_words_where_allowed(raw: object, expected: float) -> None:
    assert read_number(raw, yes_no=True) == CellReading(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("Có", "'Có' không phải là số"),
        ("Không", "'Không' không phải là số"),
        ("x", "'x' không phải là số"),
        ("Đạt", "'Đạt' không phải là số"),
        ("yes", "'yes' không phải là số"),
        ("true", "'true' không phải là số"),
        # an Excel TRUE/FALSE cell is a yes/no answer too: not a count or a percentage
        (True, "'TRUE' không phải là số"),
        (False, "'FALSE' không phải là số"),
    ],
)
def test_yes_no_words_refused_where_not_allowed(raw: object, message: str) -> None:
    assert read_number(raw) == CellReading(None, "not_a_number", message)
    assert read_number(raw, yes_no=False) == CellReading(None, "not_a_number", message)


# --- Unicode: NFD text (macOS, some web forms) reads exactly like NFC ---------------------------


def test_nfd_khong_reads_like_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Không")
    assert nfd != "Không"  # really decomposed: o + combining circumflex
    assert len(nfd) == 6
    assert read_number(nfd, yes_no=True) == CellReading(0.0)
    assert read_number(nfd, yes_no=True) == read_number("Không", yes_no=True)


def test_nfd_co_and_khong_dat_read_like_nfc() -> None:
    assert read_number(unicodedata.normalize("NFD", "Có"), yes_no=True) == CellReading(1.0)
    assert read_number(unicodedata.normalize("NFD", "Không đạt"), yes_no=True) == CellReading(0.0)
    assert read_number(unicodedata.normalize("NFD", "Chưa"), yes_no=True) == CellReading(0.0)


def test_nfd_refusal_message_is_nfc() -> None:
    reading = read_number(unicodedata.normalize("NFD", "Không"))
    assert reading == CellReading(None, "not_a_number", "'Không' không phải là số")
    assert unicodedata.is_normalized("NFC", reading.message)
