"""What every sheet of the Excel annex shares: sheet names, number formats and their decimals,
cell formats, and the title rows of a Vietnamese decision's annex."""

from __future__ import annotations

import xlsxwriter

from pipelines.framework.assumed import illustrative_notice
from pipelines.report.contents import LEVEL_UNITS, LevelData, YearData
from pipelines.text.labels import vn_time

DETAIL_SHEET = "Chi tiết chỉ số thành phần"
ROMAN = [
    "I",
    "II",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "X",
    "XI",
    "XII",
    "XIII",
    "XIV",
    "XV",
    "XVI",
    "XVII",
    "XVIII",
    "XIX",
    "XX",
    "XXI",
    "XXII",
    "XXIII",
    "XXIV",
    "XXV",
]
POINTS = "#,##0.00"
RATIO = "0.0000"
POINT_DECIMALS = 2  # the decimals POINTS shows
RATIO_DECIMALS = 4  # the decimals RATIO shows
HEADER_FIRST = "Xếp hạng"  # first header cell of every level table (tests find tables by it)
CODE_HEADER = "Mã đơn vị"


ROUNDING_NOTE = (
    "Điểm được làm tròn đến 2 chữ số thập phân, chỉ số DTI đến 4 chữ số thập phân; mỗi số "
    "được làm tròn riêng nên tổng các phần có thể không bằng đúng tổng điểm."
)


def _points(value: float) -> float:
    """Points at the precision the cell shows."""
    return round(value, POINT_DECIMALS)


def roman(n: int) -> str:
    return ROMAN[n - 1] if n <= len(ROMAN) else str(n)


def _formats(book: xlsxwriter.Workbook) -> dict[str, xlsxwriter.format.Format]:
    base = {"font_name": "Times New Roman", "font_size": 12, "valign": "vcenter"}
    cell = {**base, "border": 1}

    def f(start: dict, **kw) -> xlsxwriter.format.Format:
        return book.add_format({**start, **kw})

    return {
        "annex": f(base, bold=True, align="center"),
        "title": f(base, bold=True, align="center", text_wrap=True, font_size=13),
        "subtitle": f(base, italic=True, align="center"),
        "warning": f(base, bold=True, align="center", font_color="#C00000"),
        "assumed": f(base, bold=True, align="center", text_wrap=True, font_color="#C00000"),
        "note": f(base, italic=True, font_size=10),
        "header": f(cell, bold=True, align="center", text_wrap=True, bg_color="#DCE6F1"),
        "colno": f(cell, italic=True, align="center", font_size=10),
        "section": f(cell, bold=True, bg_color="#F2F2F2"),
        "text": f(cell, text_wrap=True),
        "center": f(cell, align="center"),
        "code": f(cell, align="center", font_size=10, font_color="#595959"),
        "points": f(cell, num_format=POINTS),
        "points_bold": f(cell, num_format=POINTS, bold=True),
        "ratio": f(cell, num_format=RATIO),
    }


def _authority(data: YearData) -> str:
    name = data.preset_name
    return "Ủy ban nhân dân " + (name[:1].lower() + name[1:] if name else "")


def _title_rows(
    sheet, fmt, data: YearData, number: int, title: str, width: int, levels: list[LevelData]
) -> int:
    """Annex number, title, 'attached to decision …', provenance, the banner of each of
    ``levels`` whose components include assumed ones; returns the next free row."""
    last = width - 1
    sheet.merge_range(0, 0, 0, last, f"Phụ lục {roman(number)}", fmt["annex"])
    sheet.merge_range(1, 0, 1, last, title, fmt["title"])
    sheet.set_row(1, 36)
    sheet.merge_range(
        2,
        0,
        2,
        last,
        f"(Kèm theo Quyết định số        /QĐ-UBND ngày     tháng     năm {data.year + 1} "
        f"của {_authority(data)})",
        fmt["subtitle"],
    )
    row = 3
    if data.provenance.synthetic:
        sheet.merge_range(
            row,
            0,
            row,
            last,
            "DỮ LIỆU MÔ PHỎNG – không phải kết quả thật",
            fmt["warning"],
        )
        row += 1
    notice = illustrative_notice(data.illustrative)
    if notice:
        sheet.merge_range(row, 0, row, last, notice["banner"], fmt["assumed"])
        sheet.set_row(row, 48)
        row += 1
    for level in levels:
        if level.assumed is None or not level.assumed.any_assumed:
            continue
        lines = [level.assumed.banner] + ([level.acceptance.text] if level.acceptance else [])
        for line in lines:
            sheet.merge_range(row, 0, row, last, line, fmt["assumed"])
            sheet.set_row(row, 48)
            row += 1
    return row + 1


def _level_title(level: LevelData, year: int) -> str:
    return (
        f"KẾT QUẢ ĐÁNH GIÁ, XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM {year} "
        f"CỦA CÁC {LEVEL_UNITS.get(level.level, 'đơn vị').upper()}"
    )


def _as_of(data: YearData) -> str:
    moment = data.provenance.data_as_of
    return vn_time(moment) if moment else "không xác định"
