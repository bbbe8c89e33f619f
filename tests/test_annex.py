"""The Excel annex of the approving decision, read back with openpyxl and compared with the
warehouse's snapshots to the last digit (bit for bit: the cell holds the warehouse's double)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
import xlsxwriter
from conftest import DemoYear
from hypothesis import given, settings
from hypothesis import strategies as st
from support.tiny_site import TinySite, build_tiny_site

from pipelines.framework.preset import load_preset
from pipelines.publish.annex import CODE_HEADER, DETAIL_SHEET, HEADER_FIRST, POINTS
from pipelines.text.labels import vn_number

SECTION = re.compile(r"^([IVXL]+)\. (.+) \((\d+) đơn vị\)$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> TinySite:
    return build_tiny_site(tmp_path_factory)


def stored(value: float, decimals: int = 2) -> float:
    """What the annex must hold for a warehouse value: the value at the precision shown."""
    return round(value, decimals)


def latest(warehouse: Path, year: int, node_level: str, method: str = "minmax") -> pl.DataFrame:
    """The latest snapshot's rows of ``node_level`` by ``method`` (the annex shows the preset's
    primary method: min-max for the tiny preset)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT l.level, l.snapshot_id, s.group_id, s.unit_id, s.node_id, s.points, "
            "s.ratio, s.rank, s.class_label FROM latest_snapshots l "
            "JOIN snapshot_scores s USING (snapshot_id) "
            "WHERE l.year = ? AND l.method = ? AND s.node_level = ?",
            [year, method, node_level],
        ).pl()
    finally:
        con.close()


def read_level_sheet(sheet) -> tuple[list[dict], list[str], int]:
    """Rows of a level table: rank, name, pillar points, total, ratio, class, code, section."""
    header = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == HEADER_FIRST)
    width = next(
        c for c in range(1, sheet.max_column + 1) if sheet.cell(header, c).value == CODE_HEADER
    )
    k = 1 if sheet.cell(header, width - 1).value == "Xếp loại" else 0  # a class column
    pillars = [sheet.cell(header + 1, c).value for c in range(3, width - 2 - k)]
    rows, section = [], None
    for r in range(header + 3, sheet.max_row + 1):
        first = sheet.cell(r, 1).value
        if isinstance(first, str) and SECTION.match(first):
            section = SECTION.match(first).group(2)
        elif isinstance(first, int | float):
            values = [sheet.cell(r, c) for c in range(1, width + 1)]
            rows.append(
                {
                    "rank": first,
                    "name": values[1].value,
                    "pillars": [v.value for v in values[2 : width - 3 - k]],
                    "total": values[width - 3 - k],
                    "ratio": values[width - 2 - k].value,
                    "class": values[width - 2].value if k else "",
                    "unit_id": values[width - 1].value,
                    "section": section,
                }
            )
    return rows, pillars, header


def check_level_sheets(book, warehouse: Path, year: int, method: str = "minmax") -> dict[str, int]:
    totals = latest(warehouse, year, "index", method)
    pillars = latest(warehouse, year, "pillar", method)
    counted = {}
    sheets = {"department": "Cấp sở", "district": "Cấp huyện", "commune": "Cấp xã"}
    for level, part in totals.partition_by("level", as_dict=True).items():
        rows, _, _ = read_level_sheet(book[sheets[level[0]]])
        by_unit = {r["unit_id"]: r for r in rows}
        assert len(by_unit) == len(rows) == part.height  # every unit exactly once
        for unit in part.iter_rows(named=True):
            row = by_unit[unit["unit_id"]]
            assert row["rank"] == unit["rank"]
            assert row["total"].value == stored(unit["points"]), unit
            assert row["total"].number_format == POINTS
            assert vn_number(row["total"].value) == vn_number(unit["points"])
            assert row["ratio"] == stored(unit["ratio"], 4)
            assert row["class"] == (unit["class_label"] or "")
            mine = pillars.filter(pl.col("unit_id") == unit["unit_id"]).sort("node_id")
            assert sorted(row["pillars"]) == sorted(stored(p) for p in mine["points"])
        counted[level[0]] = len(rows)
    return counted


def test_annex_sheets_and_official_layout(site: TinySite):
    book = openpyxl.load_workbook(site.out / "2024" / "phu-luc-DTI-2024.xlsx")
    assert book.sheetnames == ["Cấp sở", "Cấp xã", DETAIL_SHEET]
    sheet = book["Cấp sở"]
    assert sheet["A1"].value == "Phụ lục I"
    assert sheet["A2"].value.startswith("KẾT QUẢ ĐÁNH GIÁ, XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM 2024")
    assert "Kèm theo Quyết định số" in sheet["A3"].value
    assert "tỉnh Thử Nghiệm" in sheet["A3"].value
    assert "DỮ LIỆU MÔ PHỎNG" in sheet["A4"].value
    rows, pillars, header = read_level_sheet(sheet)
    assert pillars == ["Nhận thức số (tối đa 40)", "Hoạt động chính quyền số (tối đa 60)"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert f"C{header}:D{header}" in merged  # "Điểm các chỉ số chính" over the pillars
    assert f"A{header}:A{header + 1}" in merged and f"B{header}:B{header + 1}" in merged
    assert sheet.cell(header, 3).value == "Điểm các chỉ số chính"
    assert [sheet.cell(header + 2, c).value for c in range(1, 4)] == ["(1)", "(2)", "(3)"]
    first = header + 3
    assert sheet.cell(first, 5).border.left.style == "thin"
    assert sheet.cell(first, 3).number_format == POINTS
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)


def test_annex_totals_equal_the_warehouse(site: TinySite):
    for year in (2023, 2024):
        book = openpyxl.load_workbook(site.out / str(year) / f"phu-luc-DTI-{year}.xlsx")
        assert check_level_sheets(book, site.warehouse, year) == {"department": 4, "commune": 5}


def test_communes_are_ranked_in_sections_by_district(site: TinySite):
    book = openpyxl.load_workbook(site.out / "2024" / "phu-luc-DTI-2024.xlsx")
    rows, _, _ = read_level_sheet(book["Cấp xã"])
    sections = {}
    for row in rows:
        sections.setdefault(row["section"], []).append(row["rank"])
    assert {name: len(ranks) for name, ranks in sections.items()} == {
        "Huyện Hai": 2,
        "Huyện Một": 3,
    }
    assert list(sections) == ["Huyện Hai", "Huyện Một"]  # sections I, II in name order
    for ranks in sections.values():
        assert ranks == sorted(ranks) and ranks[0] == 1


def test_component_detail_equals_the_warehouse(site: TinySite):
    book = openpyxl.load_workbook(site.out / "2024" / "phu-luc-DTI-2024.xlsx")
    sheet = book[DETAIL_SHEET]
    components = latest(site.warehouse, 2024, "component")
    totals = latest(site.warehouse, 2024, "index")
    expected = {(r["unit_id"], r["node_id"]): r["points"] for r in components.iter_rows(named=True)}
    found: dict[tuple[str, str], float] = {}
    headers = [r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "TT"]
    assert len(headers) == 2  # one block per level
    for top in headers:
        codes, col = [], 4
        while sheet.cell(top + 1, col).value:
            codes.append(sheet.cell(top + 1, col).value)
            col += 1
        assert sheet.cell(top, col).value == "Tổng điểm"
        assert sheet.cell(top, col + 1).value == CODE_HEADER
        assert codes == ["P1.1", "P1.2", "P2.1", "P2.2"]
        r = top + 3
        while isinstance(sheet.cell(r, 1).value, int):
            unit = sheet.cell(r, col + 1).value
            for i, code in enumerate(codes):
                found[(unit, code)] = sheet.cell(r, 4 + i).value
            total = totals.filter(pl.col("unit_id") == unit)["points"][0]
            assert sheet.cell(r, col).value == stored(total)
            r += 1
    assert set(found) == set(expected)
    for key, value in expected.items():
        assert found[key] == stored(value), key


@pytest.mark.system
def test_full_demo_year_annex_and_report(demo_2024: DemoYear):
    """The README's main job for one year: the annex holds all 217 units to the last digit."""
    done, home = demo_2024.run, demo_2024.home
    assert done.returncode == 0, done.stdout + done.stderr
    index = home / "report" / "index.html"
    assert f"Báo cáo công khai (public report): {index}" in done.stdout.replace("\n", "")
    annex = home / "report" / "2024" / "phu-luc-DTI-2024.xlsx"
    book = openpyxl.load_workbook(annex)
    assert book.sheetnames == ["Cấp sở", "Cấp huyện", "Cấp xã", DETAIL_SHEET]
    # Đắk Lắk's annex is by points, the decision's own scale
    counted = check_level_sheets(
        book, demo_2024.warehouse, 2024, load_preset("daklak").primary_method
    )
    assert counted == {"department": 18, "district": 15, "commune": 184}
    rows, _, _ = read_level_sheet(book["Cấp xã"])
    assert len({r["section"] for r in rows}) == 15  # one section per district
    year = home / "report" / "2024"
    assert len(list(year.glob("nhom-xa-*.html"))) == 15
    assert len(list((year / "don-vi").glob("*.html"))) == 217
    assert list((year / "data-docs" / "gx" / "validations").rglob("*.html"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=20),
    st.sampled_from([2, 4]),
)
def test_a_rounded_number_is_stored_exactly(tmp_path_factory, values, decimals):
    """xlsxwriter writes 16 significant digits; a double rounded to the annex's decimals is the
    double nearest to its own 16-digit form, so the cell holds it bit for bit (0.1 + 0.2 itself
    would not survive: it needs 17 digits)."""
    path = tmp_path_factory.mktemp("numbers") / "n.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    rounded = [round(v, decimals) for v in values]
    for row, value in enumerate(rounded):
        sheet.write_number(row, 0, value)
    book.close()
    read = openpyxl.load_workbook(path, read_only=True)
    assert [r[0] for r in read.active.iter_rows(values_only=True)] == rounded
    read.close()
    assert float(f"{0.1 + 0.2:.16g}") != 0.1 + 0.2
