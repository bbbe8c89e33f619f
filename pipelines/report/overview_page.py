"""The overview page of a year (``<out>/<year>/index.html``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from pipelines.report import group_charts, trend_charts
from pipelines.report.contents import YearData
from pipelines.report.pages import Site, page_context, write_site_page
from pipelines.report.table_rows import group_rows, level_summary, level_trend_rows, ranking_rows


def write_year_index(site: Site, data: YearData) -> Path:
    figures: dict[str, Any] = {}
    sections = []
    for level in data.levels:
        summary = level_summary(data, level)
        key = f"tong-{level.level}"
        if len(level.groups) == 1:
            figures[key] = group_charts.bar_totals(
                level.totals, level.framework, f"Tổng điểm {level.label.lower()} năm {data.year}"
            )
        else:
            figures[key] = group_charts.box_by_group(
                level.totals,
                {g.group_id: g.name for g in level.groups},
                f"Phân bố tổng điểm {level.label.lower()} theo nhóm so sánh năm {data.year}",
            )
        sections.append(
            {
                **summary,
                "chart": key,
                "groups": group_rows(level),
                "ranking": ranking_rows(level, level.groups[0].group_id)
                if len(level.groups) == 1
                else [],
                "pillars": level.pillar_nodes.to_dicts(),
                "top": level.totals.sort("points", descending=True).head(3).to_dicts(),
            }
        )
    class_rows = pl.DataFrame(
        [
            {"label": s["label"], "class": c["label"], "n": c["n"]}
            for s in sections
            for c in s["classes"]
        ],
        schema={"label": pl.String, "class": pl.String, "n": pl.Int64},
    )
    classified = [lv.label for lv in data.levels if lv.framework.classified]
    bands = []
    for level in data.levels:
        for band in level.framework.bands:
            if band.label not in [b for b, _ in bands]:
                bands.append((band.label, band.colour))
    if any(level.framework.classified for level in data.levels):
        figures["xep-loai"] = group_charts.class_distribution(
            class_rows.filter(pl.col("label").is_in(classified)),
            bands,
            f"Số đơn vị theo xếp loại năm {data.year}",
        )
    figures["xu-huong"] = trend_charts.level_trends(
        level_trend_rows(data.history, [lv.level for lv in data.levels]),
        "Chỉ số DTI trung bình theo cấp qua các năm (vạch: thấp nhất – cao nhất)",
    )
    return write_site_page(
        site,
        site.out / str(data.year) / "index.html",
        "year.html",
        **page_context(site, data, "../", "year"),
        title=f"DTI {data.year} – {site.preset_name}",
        data=data,
        sections=sections,
        figures=figures,
        bands_assumed=any(lv.framework.bands_source == "assumed" for lv in data.levels),
    )
