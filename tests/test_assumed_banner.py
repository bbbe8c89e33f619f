"""Whatever stays assumed is impossible to miss: a year scored with Đắk Lắk's frameworks (every
component ``source: assumed``, decision 2534/QĐ-UBND) on the tiny registry carries the banner on
every page, annex sheet and receipt, with each level's count; a framework whose components are
all from the decision carries none; ``dti publish`` refuses such a year without a recorded
acceptance and the published pages say who accepted it, when and why."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest
import reliability_support as support
import yaml
from click.testing import CliRunner

from dti_cli.main import cli
from pipelines.framework.assumed import AssumedComponents
from pipelines.framework.preset import load_preset
from pipelines.intake.receipts import receipt_markdown
from pipelines.report import build_year_annex, build_year_report
from pipelines.text.labels import vn_time

FIXTURES = Path(__file__).parent / "fixtures"
DAKLAK = FIXTURES / "presets" / "tiny-daklak.yaml"
YEAR = 2024
# Counted by hand in data/frameworks/daklak-2534/*.yaml: every component is source: assumed.
DEPARTMENT_BANNER = (
    "Lưu ý: 41/41 chỉ số thành phần của cấp sở (sở, ban, ngành) không lấy từ Quyết định "
    "2534/QĐ-UBND mà là giả định (minh họa); kết quả không phải kết quả chính thức."
)
COMMUNE_BANNER = (
    "Lưu ý: 55/55 chỉ số thành phần của cấp xã không lấy từ Quyết định 2534/QĐ-UBND mà là giả "
    "định (minh họa); kết quả không phải kết quả chính thức."
)
MARK = "chỉ số thành phần của"  # a piece of every banner


@dataclass(frozen=True)
class Year:
    warehouse: Path
    out: Path


def _score(home: Path, preset_path: Path, out: Path) -> Year:
    preset = load_preset(preset_path)
    warehouse, *_ = support.scored_once(home, preset, YEAR)
    _report(warehouse, preset_path, out)
    return Year(warehouse, out)


def _report(warehouse: Path, preset_path: Path, out: Path) -> None:
    preset = load_preset(preset_path)
    con = duckdb.connect(str(warehouse))
    try:
        build_year_report(con, preset, YEAR, out, data_docs=False)
        build_year_annex(con, preset, YEAR, out)
    finally:
        con.close()


@pytest.fixture(scope="module")
def daklak(tmp_path_factory: pytest.TempPathFactory) -> Year:
    home = tmp_path_factory.mktemp("daklak")
    return _score(home, DAKLAK, home / "report")


@pytest.fixture(scope="module")
def from_decision(tmp_path_factory: pytest.TempPathFactory) -> Year:
    """The tiny preset with a framework whose every component says ``source: decision``."""
    home = tmp_path_factory.mktemp("decision")
    for folder in ("presets", "frameworks", "units"):
        (home / folder).mkdir()
    shutil.copy(FIXTURES / "units" / "tiny.csv", home / "units" / "tiny.csv")
    document = yaml.safe_load((FIXTURES / "frameworks" / "tiny.yaml").read_text(encoding="utf-8"))
    for pillar in document["framework"]["tree"]:
        pillar["source"] = "decision"
        for component in pillar["children"]:
            component["source"] = "decision"
    (home / "frameworks" / "decision.yaml").write_text(
        yaml.safe_dump(document, allow_unicode=True), encoding="utf-8"
    )
    preset = yaml.safe_load((FIXTURES / "presets" / "tiny.yaml").read_text(encoding="utf-8"))
    preset["preset"]["years"] = {"from": YEAR, "to": YEAR}
    for level in preset["preset"]["levels"].values():
        level["framework"] = "frameworks/decision.yaml"
    path = home / "presets" / "decision.yaml"
    path.write_text(yaml.safe_dump(preset, allow_unicode=True), encoding="utf-8")
    return _score(home, path, home / "report")


def _pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def _text(page: Path) -> str:
    return " ".join(page.read_text(encoding="utf-8").split())


def _sheet_strings(sheet) -> list[str]:
    return [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]


def _annex(out: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(out / str(YEAR) / f"phu-luc-DTI-{YEAR}.xlsx")


def _submissions(warehouse: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT submission_id, level FROM submissions WHERE year = ? ORDER BY submission_id",
            [YEAR],
        ).fetchall()
    finally:
        con.close()


def test_the_wording_counts_and_names_the_decision():
    part = AssumedComponents("commune", 12, 3, "922/QĐ-BTTTT")
    assert part.banner == (
        "Lưu ý: 3/12 chỉ số thành phần của cấp xã không lấy từ Quyết định 922/QĐ-BTTTT mà là "
        "giả định (minh họa); kết quả không phải kết quả chính thức."
    )
    assert AssumedComponents("commune", 12, 0, "922/QĐ-BTTTT").banner is None


def test_every_page_kind_carries_its_levels_banner(daklak: Year):
    year = daklak.out / str(YEAR)
    kinds = {
        "site index": [daklak.out / "index.html"],
        "year index": [year / "index.html"],
        "method": [year / "phuong-phap.html"],
        "validation": [year / "data-docs" / "index.html"],
        "group": sorted(year.glob("nhom-*.html")),
        "unit": sorted((year / "don-vi").glob("*.html")),
    }
    for kind, pages in kinds.items():
        assert pages, kind
    for page in kinds["site index"] + kinds["year index"] + kinds["method"]:
        text = _text(page)
        assert DEPARTMENT_BANNER in text and COMMUNE_BANNER in text, page
    # a level's own pages say that level's count
    for page in kinds["group"] + kinds["unit"]:
        text = _text(page)
        assert DEPARTMENT_BANNER in text or COMMUNE_BANNER in text, page
    assert any(DEPARTMENT_BANNER in _text(p) for p in kinds["unit"])
    assert any(COMMUNE_BANNER in _text(p) for p in kinds["unit"])
    every = _pages(daklak.out)
    assert all(MARK in _text(p) for p in every), [p for p in every if MARK not in _text(p)]


def test_every_annex_sheet_carries_the_banner(daklak: Year):
    book = _annex(daklak.out)
    assert len(book.worksheets) == 3
    expected = {
        "Cấp sở": [DEPARTMENT_BANNER],
        "Cấp xã": [COMMUNE_BANNER],
        "Chi tiết chỉ số thành phần": [DEPARTMENT_BANNER, COMMUNE_BANNER],
    }
    for sheet in book.worksheets:
        strings = _sheet_strings(sheet)
        for banner in expected[sheet.title]:
            assert banner in strings, sheet.title
        assert sum(MARK in s and s.startswith("Lưu ý") for s in strings) == len(
            expected[sheet.title]
        ), sheet.title


def test_every_receipt_carries_its_levels_banner(daklak: Year):
    submissions = _submissions(daklak.warehouse)
    assert {level for _, level in submissions} == {"department", "commune"}
    con = duckdb.connect(str(daklak.warehouse), read_only=True)
    try:
        for submission_id, level in submissions:
            text = receipt_markdown(con, submission_id)
            banner = DEPARTMENT_BANNER if level == "department" else COMMUNE_BANNER
            assert f"> **{banner}**" in text, submission_id
    finally:
        con.close()


def test_no_banner_when_every_component_is_from_the_decision(from_decision: Year):
    pages = _pages(from_decision.out)
    assert len(pages) > 5
    for page in pages:
        assert MARK not in _text(page), page
        assert "assumed-banner" not in page.read_text(encoding="utf-8"), page
    for sheet in _annex(from_decision.out).worksheets:
        assert not any(s.startswith("Lưu ý") for s in _sheet_strings(sheet)), sheet.title
    con = duckdb.connect(str(from_decision.warehouse), read_only=True)
    try:
        for submission_id, _ in _submissions(from_decision.warehouse):
            assert "giả định" not in receipt_markdown(con, submission_id)
    finally:
        con.close()


def test_dti_publish_refuses_assumed_components_until_accepted(
    daklak: Year, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(daklak.warehouse, warehouse)
    monkeypatch.setenv("DTI_WAREHOUSE", str(warehouse))
    runner = CliRunner()
    refused = runner.invoke(cli, ["publish", str(YEAR), "--level", "department"])
    assert refused.exit_code == 2, refused.output
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "41/41 chỉ số thành phần là giả định" in lines[0]
    assert "--accept-assumed" in lines[0]
    blank = runner.invoke(
        cli, ["publish", str(YEAR), "--level", "department", "--accept-assumed", "--by", "  "]
    )
    assert blank.exit_code == 2
    assert len(blank.stderr.strip().splitlines()) == 1
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute(
            "SELECT count(*) FROM snapshots WHERE published_at IS NOT NULL"
        ).fetchone() == (0,)
    finally:
        con.close()

    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    accepted = runner.invoke(
        cli,
        [
            "publish",
            str(YEAR),
            "--level",
            "department",
            "--accept-assumed",
            "--by",
            "Nguyễn Văn An",
            "--reason",
            "Chưa có Phụ lục I của quyết định; công bố để tham khảo",
        ],
    )
    assert accepted.exit_code == 0, accepted.output + accepted.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stored = con.execute(
            "SELECT s.method, a.accepted_by, a.reason, a.n_assumed, a.n_components, "
            "a.accepted_at, s.published_at FROM assumed_acceptances a "
            "JOIN snapshots s USING (snapshot_id) ORDER BY s.method"
        ).fetchall()
    finally:
        con.close()
    assert [row[0] for row in stored] == ["minmax", "points", "zscore"]
    for _, by, reason, n_assumed, n_components, accepted_at, published_at in stored:
        assert (by, n_assumed, n_components) == ("Nguyễn Văn An", 41, 41)
        assert reason == "Chưa có Phụ lục I của quyết định; công bố để tham khảo"
        assert accepted_at == published_at and accepted_at >= before

    out = tmp_path / "report"
    _report(warehouse, DAKLAK, out)
    shown = (
        f"Công bố dù có 41/41 chỉ số thành phần giả định: Nguyễn Văn An chấp nhận lúc "
        f"{vn_time(stored[0][5])}, lý do: Chưa có Phụ lục I của quyết định; công bố để tham khảo"
    )
    year = out / str(YEAR)
    department_page = next(
        p for p in sorted(year.glob("nhom-*.html")) if DEPARTMENT_BANNER in _text(p)
    )
    for page in (year / "index.html", department_page, out / "index.html"):
        assert shown in _text(page), page
    commune_page = next(p for p in sorted(year.glob("nhom-*.html")) if COMMUNE_BANNER in _text(p))
    assert "chấp nhận lúc" not in _text(commune_page)  # the communes are not published
    assert shown in _sheet_strings(_annex(out)["Cấp sở"])
