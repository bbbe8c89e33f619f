"""What the public reads says only what the decision says, in Vietnamese: built for one small
year from Đắk Lắk's real frameworks (the decision sets no classes) and Sơn La's (it sets four),
both on the tiny registry, through the annual Dagster job like ``tests/support/tiny_site.py``."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from support.tiny_site import TinySite, build_site

from pipelines.framework.load import framework_document
from pipelines.framework.preset import load_preset
from pipelines.publish.annex import HEADER_FIRST, POINTS, RATIO
from pipelines.text.labels import vn_number, vn_time

PRESETS = Path(__file__).parent / "fixtures" / "presets"
YEAR = "2024"
ZONE = "(giờ Việt Nam, UTC+7)"
# Words of an English sentence; none is a Vietnamese word.
ENGLISH = re.compile(
    r"\b(the|and|of|is|are|sets|used|placeholder|decision|assumed|taken|from|with|these|"
    r"subscribe|newsletter)\b",
    re.I,
)
CLASS_LABELS = ("Tốt", "Khá", "Trung bình", "Yếu", "Không xếp loại")


def _build(factory: pytest.TempPathFactory, preset: Path) -> TinySite:
    return build_site(factory.mktemp(preset.stem), str(preset), (YEAR,))


@pytest.fixture(scope="module")
def daklak(tmp_path_factory: pytest.TempPathFactory) -> TinySite:
    return _build(tmp_path_factory, PRESETS / "tiny-daklak.yaml")


@pytest.fixture(scope="module")
def sonla(tmp_path_factory: pytest.TempPathFactory) -> TinySite:
    return _build(tmp_path_factory, PRESETS / "tiny-sonla.yaml")


class _Text(HTMLParser):
    """The text a reader sees (no script, no style), and every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.links += [v for k, v in attrs if k in ("src", "href") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _read(page: Path) -> _Text:
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _visible(page: Path) -> str:
    return " ".join(" ".join(_read(page).parts).split())


def _report_pages(built: TinySite) -> list[Path]:
    """The report's own pages (GX's Data Docs pages are checked for what they load)."""
    return sorted(p for p in built.out.rglob("*.html") if "/gx/" not in p.as_posix())


def _annex(built: TinySite) -> openpyxl.Workbook:
    return openpyxl.load_workbook(built.out / YEAR / f"phu-luc-DTI-{YEAR}.xlsx")


def _strings(book: openpyxl.Workbook) -> list[tuple[str, str]]:
    return [
        (sheet.title, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def _totals(built: TinySite) -> pl.DataFrame:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT l.level, l.method, s.unit_id, s.points, s.max_points, s.ratio, s.rank, "
            "s.class_label FROM latest_snapshots l JOIN snapshot_scores s USING (snapshot_id) "
            "WHERE l.year = ? AND s.node_level = 'index'",
            [int(YEAR)],
        ).pl()
    finally:
        con.close()


def _level_table(sheet) -> tuple[list[str], list[dict[str, object]]]:
    """A level sheet's header (first header row) and its unit rows keyed by that header."""
    top = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == HEADER_FIRST)
    header = [sheet.cell(top, c).value or f"({c})" for c in range(1, sheet.max_column + 1)]
    rows = [
        {name: sheet.cell(r, c).value for c, name in enumerate(header, start=1)}
        for r in range(top + 3, sheet.max_row + 1)
        if isinstance(sheet.cell(r, 1).value, int | float)
    ]
    return header, rows


# ---- no English ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["daklak", "sonla"])
def test_no_english_sentence_on_any_page_or_annex_sheet(name: str, request):
    built = request.getfixturevalue(name)
    pages = _report_pages(built)
    assert len(pages) > 5
    for page in pages:
        words = ENGLISH.findall(_visible(page))
        assert not words, f"{page.relative_to(built.out)}: {sorted(set(words))}"
    for sheet, text in _strings(_annex(built)):
        assert not ENGLISH.findall(text), f"{sheet}: {text!r}"


def test_developer_notes_stay_in_the_framework_files(daklak: TinySite):
    """The English notes of Đắk Lắk's framework exist, and none of them is published."""
    document = framework_document(
        Path(__file__).parents[1] / "data" / "frameworks" / "daklak-2534" / "department.yaml"
    )
    notes = document["framework"]["notes"]
    assert any("taken from the decision's text" in n for n in notes)
    method = _visible(daklak.out / YEAR / "phuong-phap.html")
    sheets = " ".join(text for _, text in _strings(_annex(daklak)))
    for note in notes:
        assert note[:40] not in method
        assert note[:40] not in sheets


# ---- classes: only where the decision sets them -------------------------------------------------


def test_presets_without_classes_in_their_decision_define_none():
    for name in ("daklak", "thanhhoa", "ninhthuan", "national-922", "national-1726"):
        preset = load_preset(name)
        for level in preset.levels:
            assert preset.framework(level).classification is None, (name, level)
    for name, labels in (
        ("sonla", ["Tốt", "Khá", "Trung bình", "Yếu"]),
        ("hue", ["Mức I", "Mức II", "Mức III", "Mức IV"]),
    ):
        preset = load_preset(name)
        for level in preset.levels:
            classes = preset.framework(level).classification
            assert classes.source == "decision"
            assert [b.label for b in classes.bands] == labels
            public = framework_document(preset.levels[level].framework_path)["framework"]
            assert not ENGLISH.findall(public["classification"]["public_note"])


def test_daklak_shows_ranks_and_no_class(daklak: TinySite):
    totals = _totals(daklak)
    assert totals.height > 0
    assert totals["class_label"].null_count() == totals.height  # none computed, none stored
    for page in _report_pages(daklak):
        html = page.read_text(encoding="utf-8")
        assert 'class="chip"' not in html, page.name
        assert "<th>Xếp loại" not in html and '<th rowspan="2">Xếp loại' not in html, page.name
        text = _visible(page)
        for label in CLASS_LABELS:
            assert not re.search(rf"(?<![\w]){label}(?![\w])", text), (page.name, label)
    method = _visible(daklak.out / YEAR / "phuong-phap.html")
    assert "Quyết định không quy định xếp loại" in method
    book = _annex(daklak)
    for title in ("Cấp sở", "Cấp xã"):
        header, rows = _level_table(book[title])
        assert "Xếp loại" not in header
        assert header[-1] == "Mã đơn vị"
        assert rows
    assert not any(text in CLASS_LABELS for _, text in _strings(book))


def test_sonla_shows_its_decisions_classes(sonla: TinySite):
    totals = _totals(sonla).filter(pl.col("method") == "points")
    expected = {
        row["unit_id"]: "Tốt"
        if row["ratio"] >= 0.85
        else "Khá"
        if row["ratio"] >= 0.70
        else "Trung bình"
        if row["ratio"] >= 0.50
        else "Yếu"
        for row in totals.iter_rows(named=True)
    }
    assert dict(zip(totals["unit_id"], totals["class_label"], strict=True)) == expected
    ranking = (sonla.out / YEAR / "nhom-so.html").read_text(encoding="utf-8")
    assert '<th rowspan="2">Xếp loại</th>' in ranking
    for label in set(expected.values()):
        assert f">{label}</span>" in ranking
    method = _visible(sonla.out / YEAR / "phuong-phap.html")
    assert "Quy định xếp loại: Tốt ≥ 85; Khá 70 đến dưới 85" in method
    _, rows = _level_table(_annex(sonla)["Cấp sở"])
    shown = {row["Mã đơn vị"]: row["Xếp loại"] for row in rows}
    assert shown == expected


# ---- one measure per column; the annex holds what it shows ---------------------------------------


def test_index_table_has_one_measure_per_column(daklak: TinySite):
    html = (daklak.out / "index.html").read_text(encoding="utf-8")
    table = html[html.index("<table") : html.index("</table>")]
    headers = [
        " ".join(re.sub(r"<[^>]+>", " ", h).split())
        for h in re.findall(r"<th>(.*?)</th>", table, re.S)
    ]
    assert headers == [
        "Năm",
        "Cấp",
        "Số đơn vị",
        "Điểm tối đa",
        "Điểm trung bình (điểm)",
        "Chỉ số DTI trung bình (tỷ lệ)",
        "Đơn vị cao nhất",
        "Điểm cao nhất (điểm)",
        "Chỉ số DTI cao nhất (tỷ lệ)",
        "Tài liệu",
    ]
    totals = _totals(daklak).filter(pl.col("method") == "minmax")
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S)
    assert len(rows) == 2  # departments and communes of 2024
    for k, row in enumerate(rows):
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if k == 0:  # the year and the documents span the year's rows
            assert cells[0].startswith(YEAR)
            cells = cells[1:-1]
        level = {"Cấp sở (sở, ban, ngành)": "department", "Cấp xã": "commune"}[cells[0]]
        part = totals.filter(pl.col("level") == level)
        best = part.sort("points", descending=True).row(0, named=True)
        assert cells[1:] == [
            str(part.height),
            vn_number(1000, 0),
            vn_number(float(part["points"].mean())),
            vn_number(float(part["ratio"].mean()), 4),
            cells[5],
            vn_number(best["points"]),
            vn_number(best["ratio"], 4),
        ]
        assert not re.search(r"\d", cells[5])  # the best unit's name, no number beside it


def test_annex_numbers_are_the_rounded_values_shown(daklak: TinySite):
    book = _annex(daklak)
    checked = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if not isinstance(cell.value, float):
                    continue
                if cell.number_format == POINTS:
                    assert cell.value == round(cell.value, 2), (sheet.title, cell.coordinate)
                    checked += 1
                elif cell.number_format == RATIO:
                    assert cell.value == round(cell.value, 4), (sheet.title, cell.coordinate)
                    checked += 1
    assert checked > 50
    # the departments' totals and DTI values: the warehouse's, rounded as shown
    totals = _totals(daklak).filter(
        (pl.col("method") == "minmax") & (pl.col("level") == "department")
    )
    header, rows = _level_table(book["Cấp sở"])
    total = next(h for h in header if h.startswith("Tổng điểm"))
    seen = {row["Mã đơn vị"]: (row[total], row["Chỉ số DTI"]) for row in rows}
    assert seen == {
        u: (round(p, 2), round(r, 4))
        for u, p, r in totals.select("unit_id", "points", "ratio").iter_rows()
    }
    notes = [text for _, text in _strings(book) if text.startswith("Ghi chú:")]
    assert any("có thể không bằng đúng tổng điểm" in n for n in notes)
    method = _visible(daklak.out / YEAR / "phuong-phap.html")
    assert "có thể không bằng đúng tổng điểm" in method


# ---- Data Docs: offline, nothing from outside ---------------------------------------------------


def test_data_docs_load_nothing_from_outside(daklak: TinySite):
    folder = daklak.out / YEAR / "data-docs"
    pages = sorted(folder.rglob("*.html"))
    assert len(pages) > 3  # our page, GX's index, suites and validation results
    for page in pages:
        parsed = _read(page)
        remote = [link for link in parsed.links if re.match(r"(https?:)?//", link)]
        assert not remote, (page.relative_to(folder), remote)
        html = page.read_text(encoding="utf-8")
        assert "Subscribe" not in html and "newsletter" not in html.lower()
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", html), page
    for sheet in folder.rglob("*.css"):
        assert "http" not in sheet.read_text(encoding="utf-8"), sheet
    gx_page = next(p for p in pages if "/validations/" in p.as_posix())
    styles = [link for link in _read(gx_page).links if link.endswith("style.css")]
    assert styles and (gx_page.parent / styles[0]).resolve() == daklak.out / "assets" / "style.css"


# ---- times: Vietnam's, the zone named ----------------------------------------------------------


def test_time_format_names_the_zone():
    utc = dt.datetime(2026, 12, 7, 3, 15, tzinfo=dt.UTC)
    assert vn_time(utc) == "07/12/2026 10:15 (giờ Việt Nam, UTC+7)"
    assert vn_time(utc.replace(tzinfo=None)) == "07/12/2026 10:15 (giờ Việt Nam, UTC+7)"
    assert vn_time(dt.datetime(2026, 12, 31, 20, 0, 5), seconds=True) == (
        "01/01/2027 03:00:05 (giờ Việt Nam, UTC+7)"
    )
    assert vn_time(dt.date(2022, 11, 11)) == "11/11/2022"
    assert vn_time(None) == "–"


def test_report_annex_and_receipts_show_times_in_vietnam(daklak: TinySite):
    stamp = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}(:\d{2})? " + re.escape(ZONE))
    method = _visible(daklak.out / YEAR / "phuong-phap.html")
    assert stamp.search(method.split("Dữ liệu tính đến", 1)[1])
    assert "UTC)" not in method
    notes = [text for _, text in _strings(_annex(daklak)) if "Số liệu tính đến" in text]
    assert notes and all(stamp.search(n) for n in notes)
    receipts = sorted(daklak.home.rglob("*.receipt.md"))
    assert receipts
    for receipt in receipts:
        line = next(
            ln for ln in receipt.read_text(encoding="utf-8").splitlines() if "Nhận lúc" in ln
        )
        assert stamp.search(line), line
