"""The workbook layout shared by the writer (templates, demo) and the reader (ingest).

Columns are found by their header text, not by position, so a unit that inserts a column or
moves the table does not break the ingest; the hidden ``_meta`` sheet says exactly what the file
is (framework, version, unit, year).
"""

from __future__ import annotations

FORMAT_ID = "dti-workbook/1"

META_SHEET = "_meta"
GUIDE_SHEET = "Hướng dẫn"
SELF_SHEET = "Tự đánh giá"
APPRAISAL_SHEET = "Thẩm định"

# The visible identification above the self-assessment table (column A), which must agree with
# the hidden ``_meta`` sheet: the title ends with the year, then the unit's and the index's names.
SELF_TITLE = "BẢNG TỰ ĐÁNH GIÁ CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM"
UNIT_LABEL = "Đơn vị:"
FRAMEWORK_LABEL = "Bộ chỉ số:"

# Self-assessment table: key → header text (Vietnamese, as the unit sees it).
SELF_COLUMNS = {
    "ordinal": "STT",
    "indicator_id": "Mã chỉ số",
    "name": "Tên chỉ số",
    "unit": "Đơn vị tính",
    "max_points": "Điểm tối đa",
    "rubric": "Cách chấm điểm",
    "value": "Giá trị báo cáo",
    "self_points": "Điểm tự đánh giá",
    "evidence": "Tài liệu kiểm chứng",
}

APPRAISAL_COLUMNS = {
    "unit_id": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "indicator_id": "Mã chỉ số",
    "self_value": "Giá trị tự đánh giá",
    "appraised_value": "Giá trị thẩm định",
    "reason": "Lý do điều chỉnh",
    # Optional: points set directly by the appraiser (0 to the maximum), instead of or besides
    # the value; last, so files written before it existed keep their columns.
    "appraised_points": "Điểm thẩm định",
}

META_KEYS = (
    "format",
    "kind",  # self | appraisal
    "framework_id",
    "framework_version",
    "framework_hash",
    "level",
    "unit_id",  # empty for an appraisal workbook
    "year",
    "synthetic",  # "true" for generated demo data
)

# Excel row of each key in the hidden ``_meta`` sheet (key in column A, value in column B), so a
# refusal of the identification can point at the very cell (unit_id → B7).
META_ROWS = {key: row for row, key in enumerate(META_KEYS, start=1)}

# Template position of the self-assessment table (Excel row of the header, letters of the columns),
# used to say where a column or the table itself should have been.
SELF_HEADER_ROW = 8
SELF_COLUMN_LETTERS = {key: chr(65 + i) for i, key in enumerate(SELF_COLUMNS)}

SYNTHETIC_BANNER = "DỮ LIỆU MÔ PHỎNG (SYNTHETIC DEMO DATA) – không phải số liệu thật"


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
