"""The page of one comparison group (``<out>/<year>/nhom-<group>.html``): its ranking, how the
methods compare and how far the ranks spread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from pipelines.report import group_charts, trend_charts
from pipelines.report.contents import LevelData, YearData
from pipelines.report.derived_figures import spearman
from pipelines.report.pages import Site, page_context, write_site_page
from pipelines.report.table_rows import class_counts, ranking_rows
from pipelines.scoring.choices import METHODS
from pipelines.text.labels import METHOD_SHORT_NAMES


def _method_table(level: LevelData, group_id: str, primary: str) -> dict[str, Any]:
    part = level.methods.filter(pl.col("group_id") == group_id)
    of_method = {m: rows for (m,), rows in part.partition_by("method", as_dict=True).items()}
    methods = [m for m in METHODS if m in of_method]
    by_method = {
        m: dict(zip(of_method[m]["unit_id"], of_method[m]["points"], strict=True)) for m in methods
    }
    units = sorted(by_method.get(primary, {}))
    pairs = []
    for i, a in enumerate(methods):
        for b in methods[i + 1 :]:
            rho = spearman([by_method[a][u] for u in units], [by_method[b][u] for u in units])
            pairs.append({"a": METHOD_SHORT_NAMES[a], "b": METHOD_SHORT_NAMES[b], "rho": rho})
    ranks = {
        m: dict(zip(of_method[m]["unit_id"], of_method[m]["rank"], strict=True)) for m in methods
    }
    return {"methods": methods, "pairs": pairs, "ranks": ranks, "n_units": len(units)}


def _rank_spread_rows(level: LevelData, group_id: str, primary: str) -> tuple[pl.DataFrame, bool]:
    """(rows, is_monte_carlo): the simulated interval when ``rank_uncertainty`` has the year,
    else the range of the unit's rank across the three methods."""
    units = level.totals.filter(pl.col("group_id") == group_id)["unit_id"]
    if level.uncertainty is not None:
        part = level.uncertainty.filter(pl.col("unit_id").is_in(units.to_list()))
        if part.height:
            return (
                part.select(
                    "unit_id",
                    pl.col("nominal_rank").cast(pl.Float64),
                    pl.col("p05_rank").cast(pl.Float64).alias("low"),
                    pl.col("p95_rank").cast(pl.Float64).alias("high"),
                    pl.col("median_rank").cast(pl.Float64).alias("middle"),
                ),
                True,
            )
    part = level.methods.filter(pl.col("group_id") == group_id)
    spread = part.group_by("unit_id").agg(
        pl.col("rank").min().cast(pl.Float64).alias("low"),
        pl.col("rank").max().cast(pl.Float64).alias("high"),
        pl.col("rank").median().cast(pl.Float64).alias("middle"),
    )
    nominal = part.filter(pl.col("method") == primary).select(
        "unit_id", pl.col("rank").cast(pl.Float64).alias("nominal_rank")
    )
    return nominal.join(spread, on="unit_id"), False


def write_group_page(site: Site, data: YearData, level: LevelData, group_id: str) -> Path:
    group = level.group(group_id)
    totals = level.totals.filter(pl.col("group_id") == group_id)
    names = dict(zip(totals["unit_id"], totals["unit_name"], strict=True))
    pillars = level.pillars.filter(pl.col("group_id") == group_id)
    components = level.components.filter(pl.col("group_id") == group_id)
    label = f"{level.label} – {group.name}" if group.group_id != level.level else level.label
    history = data.history.filter(
        (pl.col("level") == level.level) & pl.col("unit_id").is_in(totals["unit_id"].to_list())
    )
    spread, monte_carlo = _rank_spread_rows(level, group_id, data.method)
    figures = {
        "tong-diem": group_charts.bar_totals(totals, level.framework, f"Tổng điểm – {label}"),
        "chi-so-chinh": group_charts.stacked_pillars(
            level, pillars, totals, "Tổng điểm theo các chỉ số chính"
        ),
        "ban-do-nhiet": group_charts.heatmap_components(
            level, components, totals, "Tỷ lệ đạt từng chỉ số thành phần (đơn vị × chỉ số)"
        ),
        "xu-huong": trend_charts.group_trends(history, "Tổng điểm của các đơn vị qua các năm"),
        "phuong-phap": group_charts.method_ranks(
            level.methods.filter(pl.col("group_id") == group_id),
            names,
            data.method,
            "Thứ hạng của từng đơn vị theo 3 phương pháp chấm điểm",
        ),
        "bat-dinh": group_charts.rank_spread(
            spread,
            names,
            "Độ bất định của thứ hạng – mô phỏng Monte Carlo (khoảng 5%–95%)"
            if monte_carlo
            else "Độ phân tán thứ hạng giữa 3 phương pháp (không phải mô phỏng Monte Carlo)",
            "Hạng",
            "Khoảng 5%–95%" if monte_carlo else "Hạng thấp nhất – cao nhất theo 3 phương pháp",
        ),
    }
    best = totals.sort("points", descending=True).row(0, named=True)
    worst = totals.sort("points").row(0, named=True)
    return write_site_page(
        site,
        site.out / str(data.year) / f"nhom-{group.slug}.html",
        "group.html",
        **page_context(site, data, "../", level.level),
        title=f"{label} – DTI {data.year}",
        data=data,
        level=level,
        group=group,
        label=label,
        rows=ranking_rows(level, group_id),
        pillars=level.pillar_nodes.to_dicts(),
        classes=class_counts(level, totals),
        best=best,
        worst=worst,
        mean=float(totals["points"].mean()),
        methods=_method_table(level, group_id, data.method),
        monte_carlo=monte_carlo,
        method_names=METHOD_SHORT_NAMES,
        n_years=history["year"].n_unique(),
        figures=figures,
    )
