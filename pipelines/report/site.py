"""Write the public report: ``<out>/index.html`` across years and, per year, an overview, one page
per comparison group, one scorecard per unit, the methodology page and the validation pages.

Layout (all links relative, plotly.js bundled once in ``<out>/assets``; no network request):

    <out>/index.html
    <out>/assets/{style.css, report.js, plotly.min.js}
    <out>/<year>/index.html
    <out>/<year>/nhom-<group>.html
    <out>/<year>/don-vi/<unit_id>.html
    <out>/<year>/phuong-phap.html
    <out>/<year>/data-docs/index.html (+ gx/: Great Expectations Data Docs)
    <out>/<year>/phu-luc-DTI-<year>.xlsx (pipelines.publish.annex)
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.framework.assumed import acceptance_of, assumed_components, illustrative_notice
from pipelines.report import trend_charts
from pipelines.report.contents import YearData
from pipelines.report.data import latest_snapshot, snapshot_years
from pipelines.report.group_page import write_group_page
from pipelines.report.html import write_assets
from pipelines.report.method_page import write_method_page
from pipelines.report.overview_page import write_year_index
from pipelines.report.pages import ANNEX_NAME, Site, write_site_page
from pipelines.report.provenance import provenance
from pipelines.report.table_rows import level_trend_rows
from pipelines.report.unit_page import UnitPieces, write_unit_page
from pipelines.text.labels import LEVEL_NAMES, METHOD_NAMES


def write_site_index(
    site: Site,
    con: duckdb.DuckDBPyConnection,
    method: str,
    levels: list[str],
    registry: str,
    decision: str | None = None,
    illustrative: str | None = None,
) -> Path:
    """``<out>/index.html``: every year with snapshots; ``decision`` is the preset's, named by
    the banner of a year whose scored components include assumed ones."""
    from pipelines.report.data import history as history_of

    years = snapshot_years(con, method)
    notice = illustrative_notice(illustrative)
    notices = [notice] if notice else []
    for year in years:
        for level in levels:
            snapshot = latest_snapshot(con, year, level, method)
            if snapshot is None:
                continue
            assumed = assumed_components(con, snapshot["framework_hash"], level, decision)
            if assumed.any_assumed:
                acceptance = acceptance_of(con, snapshot["snapshot_id"])
                notices.append(
                    {
                        "banner": f"Năm {year} – {assumed.banner}",
                        "accepted": acceptance.text if acceptance else None,
                    }
                )
    hist = history_of(con, max(years), method, registry) if years else pl.DataFrame()
    rows, synthetic = [], []
    for year in years:
        part = hist.filter(pl.col("year") == year)
        per_level = []
        for level in levels:
            lp = part.filter(pl.col("level") == level)
            if lp.is_empty():
                continue
            best = lp.sort("points", descending=True).row(0, named=True)
            per_level.append(
                {
                    "label": LEVEL_NAMES.get(level, level),
                    "n": lp.height,
                    "scale": float(lp["max_points"].max()),
                    "mean_points": float(lp["points"].mean()),
                    "mean": float(lp["ratio"].mean()),
                    "best": best,
                }
            )
        p = provenance(con, year)
        if p.synthetic:
            synthetic.append(str(year))
        rows.append(
            {
                "year": year,
                "levels": per_level,
                "has_pages": (site.out / str(year) / "index.html").exists(),
                "annex": (site.out / str(year) / ANNEX_NAME.format(year=year)).exists(),
                "synthetic": p.synthetic,
            }
        )
    figures = (
        {
            "xu-huong": trend_charts.level_trends(
                level_trend_rows(hist, levels),
                "Chỉ số DTI trung bình theo cấp qua các năm (vạch: thấp nhất – cao nhất)",
            )
        }
        if years
        else {}
    )
    return write_site_page(
        site,
        site.out / "index.html",
        "index.html",
        site=site,
        year=None,
        root="",
        here="home",
        nav_levels=[],
        annex_name="",
        assumed=notices,
        synthetic=(
            f"Số liệu các năm {', '.join(synthetic)} là dữ liệu mô phỏng (tệp ghi synthetic=true)."
            if synthetic
            else None
        ),
        footer=[f"Phương pháp chính: {METHOD_NAMES.get(method, method)}."],
        title=f"Chỉ số chuyển đổi số – {site.preset_name}",
        years=rows,
        method_name=METHOD_NAMES.get(method, method),
        figures=figures,
    )


def write_year(site: Site, data: YearData) -> list[Path]:
    """Every page of one year (not the data docs, not the annex)."""
    write_assets(site.out)
    start = len(site.written)
    write_year_index(site, data)
    for level in data.levels:
        for group in level.groups:
            write_group_page(site, data, level, group.group_id)
        pieces = UnitPieces.of(data, level)
        for unit_id in level.totals["unit_id"]:
            write_unit_page(site, data, level, unit_id, pieces)
    write_method_page(site, data)
    return site.written[start:]


__all__ = ["write_site_index", "write_year"]
