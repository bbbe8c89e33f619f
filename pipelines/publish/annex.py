"""The Excel annex to the decision approving a year's DTI results (``phu-luc-DTI-<year>.xlsx``).

One sheet per level, laid out as the annex of a Vietnamese decision ("Phụ lục I … (Kèm theo
Quyết định số …/QĐ-UBND …)"): title rows, a header with merged cells and numbered columns, then
rank, unit, pillar points, total, DTI value and, where the framework sets classes, the class.
Levels ranked as one group (departments,
districts) are one table; communes, ranked within their district, are one table with a Roman
numbered section per district, the way provincial annexes group sub-lists, so the whole level
prints and is signed as one table instead of fifteen small sheets. A last sheet, "Chi tiết chỉ số
thành phần", gives every unit's points on every component.

Every number is the snapshot's value (never a re-summed figure) rounded to the precision shown:
2 decimals for points, 4 for the DTI value, so that what a reader copies is what they see. Cells
are formatted with the same decimals, which Excel shows in the reader's locale (1.234,56 in
Vietnamese); a note under each table says that rounded parts may not add up to the rounded total.
xlsxwriter writes a number with 16 significant digits, which is enough for the cell to hold
exactly the rounded double: a double nearest to a decimal of at most 15 significant digits is
also the nearest to its own 16-digit form.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

from pipelines.publish.annex_layout import (
    CODE_HEADER,
    DETAIL_SHEET,
    HEADER_FIRST,
    POINTS,
    RATIO,
    RATIO_DECIMALS,
    ROUNDING_NOTE,
    _as_of,
    _formats,
    _level_title,
    _points,
    _title_rows,
    roman,
)
from pipelines.report.contents import LevelData, YearData
from pipelines.text.labels import LEVEL_SHORT_NAMES, METHOD_NAMES, vn_number, vn_value
from pipelines.text.safe_text import write_text_cell

__all__ = ["CODE_HEADER", "DETAIL_SHEET", "HEADER_FIRST", "POINTS", "RATIO", "write_annex"]


def _level_sheet(book, fmt, data: YearData, level: LevelData, number: int) -> None:
    sheet = book.add_worksheet(LEVEL_SHORT_NAMES.get(level.level, level.level)[:31])
    pillars = level.pillar_nodes.to_dicts()
    n_p = len(pillars)
    classified = level.framework.classified
    # columns: rank | unit | pillars… | total | DTI value | class (if any) | unit code
    c_total, c_ratio = 2 + n_p, 3 + n_p
    c_class = 4 + n_p if classified else None
    c_code = 5 + n_p if classified else 4 + n_p
    width = c_code + 1
    row = _title_rows(sheet, fmt, data, number, _level_title(level, data.year), width, [level])
    snap = level.snapshot
    sheet.merge_range(
        row - 1,
        0,
        row - 1,
        width - 1,
        f"Phương pháp: {METHOD_NAMES.get(snap['method'], snap['method'])}; bộ chỉ số "
        f"{level.framework.version}; snapshot {snap['snapshot_id']}",
        fmt["note"],
    )
    top = row
    scale = level.framework.scale
    sheet.merge_range(top, 0, top + 1, 0, HEADER_FIRST, fmt["header"])
    sheet.merge_range(top, 1, top + 1, 1, "Tên đơn vị", fmt["header"])
    if n_p > 1:
        sheet.merge_range(top, 2, top, 1 + n_p, "Điểm các chỉ số chính", fmt["header"])
    elif n_p == 1:
        sheet.write(top, 2, "Điểm các chỉ số chính", fmt["header"])
    for i, p in enumerate(pillars):
        header = f"{p['name']} (tối đa {vn_value(p['max_points'])})"
        sheet.write(top + 1, 2 + i, header, fmt["header"])
    sheet.merge_range(
        top,
        c_total,
        top + 1,
        c_total,
        f"Tổng điểm (tối đa {vn_number(scale, 0)})",
        fmt["header"],
    )
    sheet.merge_range(top, c_ratio, top + 1, c_ratio, "Chỉ số DTI", fmt["header"])
    if c_class is not None:
        sheet.merge_range(top, c_class, top + 1, c_class, "Xếp loại", fmt["header"])
    sheet.merge_range(top, c_code, top + 1, c_code, CODE_HEADER, fmt["header"])
    sheet.set_row(top + 1, 64)
    for col in range(width):
        sheet.write(top + 2, col, f"({col + 1})", fmt["colno"])
    row = top + 3

    points = {
        (u, n): p for u, n, p in level.pillars.select("unit_id", "node_id", "points").iter_rows()
    }
    multi = len(level.groups) > 1
    for k, group in enumerate(level.groups, start=1):
        part = level.totals.filter(pl.col("group_id") == group.group_id).sort("rank", "unit_name")
        if multi:
            sheet.merge_range(
                row,
                0,
                row,
                width - 1,
                f"{roman(k)}. {group.name} ({part.height} đơn vị)",
                fmt["section"],
            )
            row += 1
        for unit in part.iter_rows(named=True):
            sheet.write_number(row, 0, unit["rank"], fmt["center"])
            write_text_cell(sheet, row, 1, unit["unit_name"], fmt["text"])
            for i, p in enumerate(pillars):
                value = points.get((unit["unit_id"], p["node_id"]))
                if value is None:
                    sheet.write_blank(row, 2 + i, None, fmt["points"])
                else:
                    sheet.write_number(row, 2 + i, _points(value), fmt["points"])
            sheet.write_number(row, c_total, _points(unit["points"]), fmt["points_bold"])
            sheet.write_number(row, c_ratio, round(unit["ratio"], RATIO_DECIMALS), fmt["ratio"])
            if c_class is not None:
                sheet.write_string(row, c_class, unit["class_label"] or "", fmt["center"])
            write_text_cell(sheet, row, c_code, unit["unit_id"], fmt["code"])
            row += 1
    row += 1
    notes = [
        f"Xếp hạng trong nhóm so sánh; đồng điểm thì cùng hạng. Thang điểm {vn_number(scale, 0)}; "
        "chỉ số DTI = tổng điểm ÷ điểm tối đa.",
        ROUNDING_NOTE,
        f"Số liệu tính đến: {_as_of(data)}.",
    ]
    if multi:
        notes.insert(
            0,
            "Cấp xã được đánh giá, xếp hạng trong phạm vi từng huyện (mỗi mục I, II, … "
            "là một nhóm so sánh).",
        )
    if not classified:
        notes.append("Quyết định không quy định xếp loại: các đơn vị chỉ được xếp hạng.")
    elif level.framework.bands_source == "assumed":
        notes.append("Ngưỡng xếp loại là giả định: không có trong văn bản quyết định.")
    for note in notes:
        sheet.merge_range(row, 0, row, width - 1, "Ghi chú: " + note, fmt["note"])
        row += 1

    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 1 + n_p, 13)
    sheet.set_column(c_total, c_total, 13)
    sheet.set_column(c_ratio, c_ratio, 10)
    if c_class is not None:
        sheet.set_column(c_class, c_class, 12)
    sheet.set_column(c_code, c_code, 13)
    sheet.freeze_panes(top + 3, 2)
    sheet.repeat_rows(top, top + 2)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)


def _detail_sheet(book, fmt, data: YearData, number: int) -> None:
    sheet = book.add_worksheet(DETAIL_SHEET)
    widest = max(len(level.component_nodes) for level in data.levels) + 4
    row = _title_rows(
        sheet,
        fmt,
        data,
        number,
        f"ĐIỂM CÁC CHỈ SỐ THÀNH PHẦN NĂM {data.year}",
        min(widest, 20),
        data.levels,
    )
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 34)
    sheet.set_column(2, 2, 22)
    sheet.set_column(3, widest, 9)
    letters = "ABCDEFGHIJ"
    for b, level in enumerate(data.levels):
        comps = level.component_nodes.to_dicts()
        pillars = level.pillar_nodes.to_dicts()
        c_total = 3 + len(comps)
        c_code = c_total + 1
        sheet.merge_range(
            row,
            0,
            row,
            min(c_code, 19),
            f"{letters[b]}. {level.label.upper()} – snapshot {level.snapshot['snapshot_id']}",
            fmt["section"],
        )
        row += 1
        top = row
        sheet.merge_range(top, 0, top + 2, 0, "TT", fmt["header"])
        sheet.merge_range(top, 1, top + 2, 1, "Tên đơn vị", fmt["header"])
        sheet.merge_range(top, 2, top + 2, 2, "Nhóm so sánh", fmt["header"])
        col = 3
        for p in pillars:
            span = [c for c in comps if c["pillar_id"] == p["node_id"]]
            if not span:
                continue
            if len(span) > 1:
                sheet.merge_range(top, col, top, col + len(span) - 1, p["name"], fmt["header"])
            else:
                sheet.write(top, col, p["name"], fmt["header"])
            col += len(span)
        ordered = [c for p in pillars for c in comps if c["pillar_id"] == p["node_id"]]
        ordered += [c for c in comps if c not in ordered]
        for i, c in enumerate(ordered):
            sheet.write(top + 1, 3 + i, c["node_id"], fmt["header"])
            sheet.write(top + 2, 3 + i, f"({vn_value(c['max_points'])})", fmt["colno"])
        sheet.merge_range(top, c_total, top + 2, c_total, "Tổng điểm", fmt["header"])
        sheet.merge_range(top, c_code, top + 2, c_code, CODE_HEADER, fmt["header"])
        sheet.set_row(top, 48)
        row = top + 3
        lookup = {
            (u, n): p
            for u, n, p in level.components.select("unit_id", "node_id", "points").iter_rows()
        }
        group_names = {g.group_id: g.name for g in level.groups}
        order = {g.group_id: i for i, g in enumerate(level.groups)}
        units = level.totals.with_columns(
            pl.col("group_id").replace_strict(order).alias("_g")
        ).sort("_g", "rank", "unit_name")
        for n, unit in enumerate(units.iter_rows(named=True), start=1):
            sheet.write_number(row, 0, n, fmt["center"])
            write_text_cell(sheet, row, 1, unit["unit_name"], fmt["text"])
            write_text_cell(sheet, row, 2, group_names[unit["group_id"]], fmt["text"])
            for i, c in enumerate(ordered):
                value = lookup.get((unit["unit_id"], c["node_id"]))
                if value is None:
                    sheet.write_blank(row, 3 + i, None, fmt["points"])
                else:
                    sheet.write_number(row, 3 + i, _points(value), fmt["points"])
            sheet.write_number(row, c_total, _points(unit["points"]), fmt["points_bold"])
            write_text_cell(sheet, row, c_code, unit["unit_id"], fmt["code"])
            row += 1
        row += 1
        sheet.merge_range(row, 0, row, min(c_code, 12), "Ghi chú: " + ROUNDING_NOTE, fmt["note"])
        row += 2
        sheet.write(row, 1, "Danh mục chỉ số thành phần", fmt["annex"])
        row += 1
        for c in ordered:
            assumed = " (giả định)" if c["source"] == "assumed" else ""
            write_text_cell(sheet, row, 0, c["node_id"], fmt["code"])
            sheet.merge_range(
                row,
                1,
                row,
                min(c_code, 12),
                f"{c['name']} – tối đa {vn_value(c['max_points'])} điểm{assumed}",
                fmt["text"],
            )
            row += 1
        row += 2
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


def write_annex(data: YearData, path: Path) -> Path:
    """Write the annex of ``data``'s year to ``path`` (replaced if present)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".xlsx.part")
    book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False})
    created = min(
        (lv.snapshot["created_at"] for lv in data.levels), default=dt.datetime(data.year, 12, 31)
    )
    book.set_properties(
        {
            "title": f"Phụ lục kết quả DTI năm {data.year}",
            "subject": "Kết quả đánh giá, xếp hạng chỉ số chuyển đổi số",
            "author": "dti",
            "company": data.preset_name,
            "created": created,
            "comments": "Snapshot: " + ", ".join(data.snapshot_ids),
        }
    )
    fmt = _formats(book)
    number = 0
    for number, level in enumerate(data.levels, start=1):
        _level_sheet(book, fmt, data, level, number)
    _detail_sheet(book, fmt, data, number + 1)
    book.close()
    tmp.replace(path)
    return path
