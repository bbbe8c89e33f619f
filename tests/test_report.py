"""The public report: built through Dagster from the tiny preset, checked as files, as numbers
against the warehouse's snapshots, and in a real headless Chromium with networking off."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import duckdb
import plotly.graph_objects as go
import polars as pl
import pytest
from conftest import subprocess_env
from support.browser import Browser
from support.browser import unavailable as browser_unavailable
from support.tiny_site import TinySite, build_tiny_site

from pipelines.framework.preset import load_preset
from pipelines.report import build_year_report, unit_charts
from pipelines.report.derived_figures import spearman, strengths_weaknesses
from pipelines.text.labels import vn_number

ARTIFACTS = Path(__file__).parent / "artifacts"
YEAR = 2024


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> TinySite:
    return build_tiny_site(tmp_path_factory)


def _query(site: TinySite, sql: str, params: list | None = None) -> pl.DataFrame:
    con = duckdb.connect(str(site.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).pl()
    finally:
        con.close()


def _latest(site: TinySite, level: str, node_level: str = "index", year: int = YEAR):
    return _query(
        site,
        "SELECT l.snapshot_id, s.* FROM latest_snapshots l JOIN snapshot_scores s "
        "USING (snapshot_id) WHERE l.year = ? AND l.level = ? AND l.method = 'minmax' "
        "AND s.node_level = ? ORDER BY s.group_id, s.rank, s.unit_id",
        [year, level, node_level],
    )


def _figures(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    found = re.search(
        r'<script type="application/json" id="dti-figures">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1)) if found else {}


def _pages(site: TinySite) -> list[Path]:
    return sorted(p for p in site.out.rglob("*.html") if "/gx/" not in p.as_posix())


# ---- wiring -------------------------------------------------------------------------------------


def test_report_assets_are_publish_assets_downstream_of_the_snapshot():
    import dagster as dg

    from dti_assets.definitions import defs

    job = defs.resolve_job_def("dti_annual")
    in_job = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    for name in ("year_report", "year_annex"):
        asset = defs.resolve_assets_def(name)
        key = dg.AssetKey(name)
        assert asset.group_names_by_key[key] == "publish"
        assert dg.AssetKey("year_snapshot") in asset.asset_deps[key]
        assert asset.partitions_def is not None
        assert asset.backfill_policy == dg.BackfillPolicy.single_run()
        assert name in in_job


def test_the_site_has_the_documented_layout(site: TinySite):
    out = site.out
    for year in ("2023", "2024"):
        for name in (
            "index.html",
            "nhom-so.html",
            "nhom-xa-h-1.html",
            "nhom-xa-h-2.html",
            "phuong-phap.html",
            "data-docs/index.html",
            f"phu-luc-DTI-{year}.xlsx",
        ):
            assert (out / year / name).is_file(), f"{year}/{name}"
        units = {p.stem for p in (out / year / "don-vi").glob("*.html")}
        assert units == {"S-A", "S-B", "S-C", "S-D", "X-1", "X-2", "X-3", "X-4", "X-5"}
    assert (out / "index.html").is_file()
    # plotly.js bundled exactly once for the whole site, referenced relatively
    bundles = [p for p in out.rglob("*.js") if "plotly" in p.name]
    assert [p.relative_to(out).as_posix() for p in bundles] == ["assets/plotly.min.js"]
    unit_page = (out / "2024" / "don-vi" / "X-1.html").read_text(encoding="utf-8")
    assert '<script src="../../assets/plotly.min.js"></script>' in unit_page


def test_no_page_refers_to_the_network(site: TinySite):
    external = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
    for page in site.out.rglob("*.html"):  # report pages and the GX Data Docs
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html, re.I):
            assert not external.search(tag), f"{page}: {tag}"
        assert "cdn." not in html.lower() or "/gx/" in page.as_posix(), page


def test_text_is_nfc_and_vietnamese(site: TinySite):
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        assert text == unicodedata.normalize("NFC", text), page
        assert '<html lang="vi">' in text


def test_every_page_says_the_data_is_synthetic(site: TinySite):
    for page in _pages(site):
        html = page.read_text(encoding="utf-8")
        assert "DỮ LIỆU MÔ PHỎNG" in html, page
        assert "synthetic=true" in html, page


# ---- numbers ------------------------------------------------------------------------------------


def test_ranking_tables_show_the_latest_snapshot_in_vietnamese_format(site: TinySite):
    for level, pages in (
        ("department", ["nhom-so.html"]),
        ("commune", ["nhom-xa-h-1.html", "nhom-xa-h-2.html"]),
    ):
        rows = _latest(site, level)
        html = "".join((site.out / "2024" / p).read_text(encoding="utf-8") for p in pages)
        for row in rows.iter_rows(named=True):
            assert f"<b>{vn_number(row['points'])}</b>" in html, row["unit_id"]
            assert f'href="don-vi/{row["unit_id"]}.html"' in html
        assert rows["snapshot_id"][0] in html


def test_unit_scorecard_totals_ranks_and_history(site: TinySite):
    rows = _latest(site, "commune").filter(pl.col("unit_id") == "X-4").row(0, named=True)
    html = (site.out / "2024" / "don-vi" / "X-4.html").read_text(encoding="utf-8")
    assert f'<div class="v">{vn_number(rows["points"])}</div>' in html
    assert f'<div class="v">{rows["rank"]}/2</div>' in html  # Phường Bốn's district has 2
    assert "Điểm mạnh" in html and "Điểm yếu" in html
    last_year = _latest(site, "commune", year=2023).filter(pl.col("unit_id") == "X-4")
    assert vn_number(last_year["points"][0]) in html  # history shows 2023
    history = _figures(site.out / "2024" / "don-vi" / "X-4.html")["lich-su"]["data"][0]
    assert history["x"] == ["2023", "2024"]


def test_methodology_page_names_its_sources(site: TinySite):
    html = (site.out / "2024" / "phuong-phap.html").read_text(encoding="utf-8")
    snapshots = _query(
        site, "SELECT * FROM latest_snapshots WHERE year = 2024 AND method = 'minmax'"
    )
    for snap in snapshots.iter_rows(named=True):
        for key in ("snapshot_id", "framework_hash", "input_hash", "code_version", "content_hash"):
            assert snap[key] in html, key
    for text in (
        "tiny-2023",
        "TEST/2023",
        "Chuẩn hóa Min-Max",
        "Dữ liệu tính đến",
        "Tốt",
        "Khá",
        "Trung bình",
        "Yếu",
        "params_json",
        "Quy tắc đã áp dụng",
        "DỮ LIỆU MÔ PHỎNG",
    ):
        assert text in html, text
    assert "0,85 trở lên" in html  # the framework's top band, Vietnamese decimals


def test_group_figures_carry_the_data(site: TinySite):
    figures = _figures(site.out / "2024" / "nhom-xa-h-1.html")
    assert set(figures) == {
        "tong-diem",
        "chi-so-chinh",
        "ban-do-nhiet",
        "xu-huong",
        "phuong-phap",
        "bat-dinh",
    }
    rows = _latest(site, "commune").filter(pl.col("group_id") == "H-1")
    bars = figures["tong-diem"]["data"][0]
    assert sorted(bars["x"]) == sorted(rows["points"].to_list())
    assert figures["tong-diem"]["layout"]["separators"] == ",."
    assert len(figures["ban-do-nhiet"]["data"][0]["z"]) == 3  # 3 communes × 4 components
    assert {t["name"].split(" ")[0] for t in figures["phuong-phap"]["data"]} == {
        "Thang",
        "Min-Max",
        "Z-Score",
    }
    spread = figures["bat-dinh"]
    assert "không phải mô phỏng Monte Carlo" in spread["layout"]["title"]["text"]


def test_every_figure_is_a_valid_plotly_figure(site: TinySite):
    kinds = set()
    for page in _pages(site):
        for name, figure in _figures(page).items():
            go.Figure(figure)  # raises on any invalid attribute
            kinds.add(figure["data"][0]["type"] if figure["data"] else name)
    assert {"bar", "heatmap", "scatter", "box"} <= kinds
    # the tiny framework has 2 pillars (grouped bars); with 3 or more it is a radar
    radar = unit_charts.radar(
        "Xã A", ["Một", "Hai", "Ba"], [0.5, 0.2, 1.0], [0.4, 0.4, 0.4], "nhóm"
    )
    go.Figure(radar)
    assert radar["data"][1]["type"] == "scatterpolar"
    assert radar["data"][1]["r"] == [0.5, 0.2, 1.0, 0.5]  # closed polygon
    assert (
        unit_charts.radar("Xã A", ["Một", "Hai"], [0.5, 0.2], [0.4, 0.4], "nhóm")["data"][0]["type"]
        == "bar"
    )


def test_rank_uncertainty_table_is_used_when_present(site: TinySite, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(site.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "CREATE OR REPLACE TABLE rank_uncertainty (year INTEGER, level VARCHAR, "
            "unit_id VARCHAR, nominal_rank INTEGER, median_rank DOUBLE, p05_rank DOUBLE, "
            "p95_rank DOUBLE)"
        )
        con.execute(
            "INSERT INTO rank_uncertainty VALUES (2024, 'commune', 'X-1', 1, 1.5, 1, 3), "
            "(2024, 'commune', 'X-2', 2, 2, 1, 3), (2024, 'commune', 'X-3', 3, 2.5, 2, 3)"
        )
        build_year_report(con, load_preset(site.preset), YEAR, tmp_path / "out", data_docs=False)
    finally:
        con.close()
    page = tmp_path / "out" / "2024" / "nhom-xa-h-1.html"
    spread = _figures(page)["bat-dinh"]
    assert "Monte Carlo (khoảng 5%–95%)" in spread["layout"]["title"]["text"]
    trace = spread["data"][0]
    lows = {name: lo for name, (lo, _, _) in zip(trace["y"], trace["customdata"], strict=True)}
    assert lows == {"Xã Một": 1.0, "Xã Hai": 1.0, "Xã Ba": 2.0}
    assert "mô phỏng Monte Carlo (bảng <code>rank_uncertainty</code>)" in page.read_text("utf-8")


def test_report_follows_the_latest_snapshot_not_the_live_scores(site: TinySite, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(site.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        old = con.execute(
            "SELECT snapshot_id FROM latest_snapshots WHERE year = 2024 AND level = 'department' "
            "AND method = 'minmax'"
        ).fetchone()[0]
        con.execute(
            "INSERT INTO snapshots SELECT 'newer000000000000000000', year, level, method, "
            "params_json, framework_id, framework_version, framework_hash, input_hash, "
            "code_version, content_hash, n_units, created_at + INTERVAL 1 DAY, NULL "
            "FROM snapshots WHERE snapshot_id = ?",
            [old],
        )
        con.execute(
            "INSERT INTO snapshot_scores SELECT 'newer000000000000000000', group_id, unit_id, "
            "node_id, node_level, CASE WHEN node_level = 'index' THEN points + 1 ELSE points END, "
            "max_points, ratio, z, rank, class_label, n_missing FROM snapshot_scores "
            "WHERE snapshot_id = ?",
            [old],
        )
        expected = con.execute(
            "SELECT points FROM snapshot_scores WHERE snapshot_id = 'newer000000000000000000' "
            "AND node_level = 'index'"
        ).fetchall()
        build_year_report(con, load_preset(site.preset), YEAR, tmp_path / "out", data_docs=False)
    finally:
        con.close()
    html = (tmp_path / "out" / "2024" / "nhom-so.html").read_text(encoding="utf-8")
    assert "newer000000000000000000" in html and old not in html
    for (points,) in expected:
        assert f"<b>{vn_number(points)}</b>" in html


def test_strengths_and_weaknesses_by_hand():
    # three units, three components; group means: C1 0.5, C2 0.5, C3 0.6
    comps = pl.DataFrame(
        {
            "unit_id": ["A"] * 3 + ["B"] * 3 + ["C"] * 3,
            "group_id": ["g"] * 9,
            "node_id": ["C1", "C2", "C3"] * 3,
            "name": ["c1", "c2", "c3"] * 3,
            "ordinal": [1, 2, 3] * 3,
            "ratio": [0.9, 0.5, 0.1, 0.3, 0.5, 0.8, 0.3, 0.5, 0.9],
        }
    )
    strengths, weaknesses = strengths_weaknesses(SimpleNamespace(components=comps), "A")
    assert strengths["node_id"].to_list() == ["C1"]  # +0.4; C2 equals the mean
    assert strengths["gap"][0] == pytest.approx(0.4)
    assert weaknesses["node_id"].to_list() == ["C3"]  # 0.1 − 0.6
    assert weaknesses["gap"][0] == pytest.approx(-0.5)


def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)  # 1 − 6·2/(4·15)
    assert spearman([1, 2], [2, 1]) is None  # fewer than 3 units
    assert spearman([1, 1, 1], [1, 2, 3]) is None  # no spread


def test_data_docs_are_great_expectations_pages_linked_from_the_report(site: TinySite):
    docs = site.out / "2024" / "data-docs"
    index = (docs / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(gx/[^"]+)"', index)
    assert any("/validations/" in link for link in links)
    assert any("/expectations/" in link for link in links)
    for link in links:
        assert (docs / link).is_file(), link
    validation = next(docs.glob("gx/validations/observations-commune-2024/**/*.html"))
    text = validation.read_text(encoding="utf-8")
    assert "Great Expectations" in text and "<script" not in text
    assert "Dữ liệu" in (site.out / "2024" / "index.html").read_text(encoding="utf-8")


def _dti_report(
    dti_executable: str, site: TinySite, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess:
    """``dti report`` on the tiny site's warehouse."""
    env = subprocess_env(tmp_path)
    env["DTI_WAREHOUSE"] = str(site.warehouse)
    return subprocess.run(
        [dti_executable, "report", "--preset", site.preset, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_dti_report_command(site: TinySite, dti_executable: str, tmp_path: Path):
    out = tmp_path / "site"
    done = _dti_report(
        dti_executable, site, tmp_path, "--year", "2024", "--out", str(out), "--no-data-docs"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{out / 'index.html'}" in done.stdout.replace("\n", "")
    assert (out / "2024" / "phu-luc-DTI-2024.xlsx").is_file()
    assert not (out / "2023").exists()
    bad = _dti_report(dti_executable, site, tmp_path, "--year", "2019", "--out", str(out))
    assert bad.returncode == 2 and "2019" in bad.stderr and "2023" in bad.stderr


def test_dti_report_over_years_links_every_year_and_annex_in_the_index(
    site: TinySite, dti_executable: str, tmp_path: Path
):
    """Several years in one command: the index across years is written once, after the last
    year's annex, and links every year's report and annex."""
    out = tmp_path / "site"
    done = _dti_report(
        dti_executable, site, tmp_path, "--year", "2023-2024", "--out", str(out), "--no-data-docs"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    for year in (2023, 2024):
        assert f'href="{year}/index.html"' in index
        assert f'href="{year}/phu-luc-DTI-{year}.xlsx"' in index
        assert (out / str(year) / f"phu-luc-DTI-{year}.xlsx").is_file()


# ---- in a real browser ---------------------------------------------------------------------

CHART_STATE = """
Array.from(document.querySelectorAll('[data-chart]')).map(el => ({
  id: el.id,
  drawn: el.classList.contains('js-plotly-plot') && !!el.querySelector('svg.main-svg'),
  traces: (el.data || []).length,
  values: (el.data || []).reduce((n, t) => n + ['x', 'y', 'z', 'r'].reduce((m, k) =>
      m + (Array.isArray(t[k]) ? t[k].flat().filter(v => v !== null && v !== undefined).length
                               : 0), 0), 0),
  svgText: Array.from(el.querySelectorAll('text')).map(t => t.textContent).join(' | '),
}))
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    reason = browser_unavailable()
    if reason is not None:
        message = f"BROWSER TESTS SKIPPED – {reason}"
        print(
            "\n" + "!" * len(message) + "\n" + message + "\n" + "!" * len(message), file=sys.stderr
        )
        pytest.skip(message)
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


RENDERED = (
    "document.documentElement.getAttribute('data-charts-rendered') || "
    "document.documentElement.getAttribute('data-charts-error')"
)


@pytest.mark.system
@pytest.mark.parametrize(
    "relative",
    [
        "index.html",
        "2024/index.html",
        "2024/nhom-so.html",
        "2024/nhom-xa-h-1.html",
        "2024/don-vi/X-1.html",
        "2024/don-vi/S-B.html",
        "2024/phuong-phap.html",
        "2024/data-docs/index.html",
        "2023/index.html",
    ],
)
def test_page_in_headless_chromium(browser: Browser, site: TinySite, relative: str):
    page = site.out / relative
    log = browser.open(page.as_uri(), ready=RENDERED)
    rendered = browser.evaluate(RENDERED)
    assert log.errors == [], log.errors
    assert log.failed == [], log.failed
    assert log.remote_requests == [], log.remote_requests
    assert log.requests, "the browser's network log recorded no request"
    assert all(url.startswith(("file:", "data:")) for url in log.requests), log.requests

    charts = browser.evaluate(CHART_STATE)
    assert rendered == str(len(charts)), (rendered, charts)
    assert len(charts) == len(_figures(page))
    for chart in charts:
        assert chart["drawn"] and chart["traces"] >= 1 and chart["values"] > 0, chart

    text = browser.evaluate("document.body.innerText")
    assert browser.evaluate("document.body.innerText === document.body.innerText.normalize('NFC')")
    assert "Chuyển đổi số" in text and "Cấp xã" in text and "DỮ LIỆU MÔ PHỎNG" in text
    assert "Ã" not in text and "á»" not in text  # no UTF-8 read as Latin-1

    if relative in ("2024/index.html", "2024/nhom-xa-h-1.html", "2024/don-vi/X-1.html"):
        name = relative.replace("/", "-").removesuffix(".html")
        shot = browser.screenshot(ARTIFACTS / f"report-{name}.png")
        assert shot.stat().st_size > 20_000


@pytest.mark.system
def test_charts_render_vietnamese_numbers(browser: Browser, site: TinySite):
    """Plotly draws the bar labels with a decimal comma and a thousands dot."""
    browser.open((site.out / "2024" / "nhom-so.html").as_uri(), ready=RENDERED)
    bars = next(c for c in browser.evaluate(CHART_STATE) if c["id"] == "tong-diem")
    for row in _latest(site, "department").iter_rows(named=True):
        assert vn_number(row["points"]) in bars["svgText"], (row, bars["svgText"])


@pytest.mark.system
def test_great_expectations_pages_work_offline(browser: Browser, site: TinySite):
    docs = site.out / "2024" / "data-docs" / "gx"
    pages = [
        docs / "index.html",
        *sorted(docs.glob("validations/**/*.html"))[:2],
        *sorted(docs.glob("expectations/*.html"))[:1],
    ]
    for page in pages:
        log = browser.open(page.as_uri())
        assert log.errors == [] and log.failed == [] and log.remote_requests == [], page
        text = browser.evaluate("document.body.innerText")
        assert "Great Expectations" in text or "Expectation" in text


@pytest.mark.system
def test_the_browser_log_reports_errors_and_remote_requests(browser: Browser, tmp_path: Path):
    """The checks above can fail: a page with a console error, an uncaught exception and a
    request to the network shows all three in the log."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><title>x</title>"
        "<img src='https://example.invalid/logo.png'>"
        "<script>console.error('lỗi thử'); throw new Error('ngoại lệ');</script>",
        encoding="utf-8",
    )
    log = browser.open(page.as_uri())
    text = "\n".join(log.errors)
    assert "lỗi thử" in text and "ngoại lệ" in text, log.errors
    assert log.remote_requests == ["https://example.invalid/logo.png"], log.requests
    assert log.failed, "the remote request did not fail"


def _meta_workbook(path: Path, synthetic: str) -> None:
    import openpyxl

    from pipelines.workbook.layout import META_SHEET

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = META_SHEET
    sheet.append(["unit_id", "X-BMT-01"])
    sheet.append(["synthetic", synthetic])
    book.save(path)


def test_synthetic_flag_is_read_once_per_version_of_a_file(tmp_path: Path, monkeypatch):
    """A run over several years rebuilds the index (every year's provenance) after each year:
    an archived workbook is opened once, and again only when the file changes."""
    import fastexcel

    from pipelines.report import provenance

    opened: list[str] = []
    real_read = fastexcel.read_excel

    def counting_read(source, *args, **kwargs):
        opened.append(str(source))
        return real_read(source, *args, **kwargs)

    monkeypatch.setattr(fastexcel, "read_excel", counting_read)
    book = tmp_path / "X-BMT-01_2024.xlsx"
    _meta_workbook(book, "true")
    assert provenance._meta_synthetic(book) is True
    assert provenance._meta_synthetic(book) is True
    assert len(opened) == 1
    _meta_workbook(book, "false")  # another version: a different size
    assert provenance._meta_synthetic(book) is False
    assert len(opened) == 2
    assert provenance._meta_synthetic(tmp_path / "missing.xlsx") is None
