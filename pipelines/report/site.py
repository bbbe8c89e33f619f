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

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.framework.assumed import acceptance_of, assumed_components, illustrative_notice
from pipelines.report import charts
from pipelines.report.data import (
    LEVEL_UNITS,
    UNCLASSIFIED_COLOUR,
    UNCLASSIFIED_LABEL,
    LevelData,
    Provenance,
    YearData,
    component_gaps,
    group_means,
    latest_snapshot,
    provenance,
    snapshot_years,
    spearman,
    split_strengths,
)
from pipelines.report.html import write_assets, write_page
from pipelines.report.readings import reading_differences
from pipelines.scoring.choices import METHODS
from pipelines.text.labels import (
    LEVEL_NAMES,
    METHOD_NAMES,
    METHOD_SHORT_NAMES,
    PARAM_LABELS,
    PARAM_VALUES,
    RULE_NAMES,
    vn_time,
)
from pipelines.text.rows import Row, rows_by

ANNEX_NAME = "phu-luc-DTI-{year}.xlsx"
# Where a unit's flags come from (units.flags_source), as the method page says it.
SOURCE_VALUES = {
    "assumed": "giả định",
    "decision": "quyết định",
    "real": "danh mục đơn vị",
    "generated": "dữ liệu mô phỏng",
}
SOURCE_NAMES = {"decision": "Quyết định", "date": "Ngày ban hành", "document": "Văn bản"}


def _source_rows(source: dict[str, Any]) -> list[tuple[str, str]]:
    """The framework's ``source`` block as (Vietnamese label, value), dates as dd/mm/yyyy."""
    rows = []
    for key, value in source.items():
        shown = str(value)
        if key == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", shown):
            shown = vn_time(dt.date.fromisoformat(shown))
        rows.append((SOURCE_NAMES.get(key, key), shown))
    return rows


@dataclass
class Site:
    """What is shared by every page of the site."""

    out: Path
    preset_name: str
    written: list[Path] = field(default_factory=list)


def synthetic_text(p: Provenance) -> str | None:
    if not p.synthetic:
        return None
    return (
        f"{p.n_synthetic}/{p.n_checked} tệp số liệu của năm ghi synthetic=true trong trang "
        "nhận dạng (_meta): số liệu do chương trình tạo để trình diễn."
    )


def _footer(data: YearData) -> list[str]:
    lines = [
        f"Nguồn: kho dữ liệu DTI, snapshot mới nhất của năm {data.year} theo phương pháp "
        f"{METHOD_NAMES.get(data.method, data.method)}."
    ]
    for level in data.levels:
        snap = level.snapshot
        lines.append(
            f"{level.label}: snapshot {snap['snapshot_id']} · bộ chỉ số {snap['framework_id']} "
            f"({level.framework.version}) · mã băm đầu vào {snap['input_hash'][:12]}…"
        )
    p = data.provenance
    lines.append(
        f"Dữ liệu tính đến: {vn_time(p.data_as_of)} (lượt nộp cuối cùng được tiếp nhận: "
        f"{p.last_file or '–'})."
    )
    return lines


def _nav_levels(data: YearData) -> list[dict[str, str]]:
    out = []
    for level in data.levels:
        href = (
            f"nhom-{level.groups[0].slug}.html"
            if len(level.groups) == 1
            else f"index.html#cap-{level.level}"
        )
        out.append({"level": level.level, "label": level.label, "href": href})
    return out


def assumed_notices(levels: list[LevelData]) -> list[dict[str, str | None]]:
    """The banner of every level whose scored components include assumed ones, with the
    officer's acceptance when the snapshot was published anyway."""
    return [
        {
            "banner": level.assumed.banner,
            "accepted": level.acceptance.text if level.acceptance else None,
        }
        for level in levels
        if level.assumed is not None and level.assumed.any_assumed
    ]


def page_context(site: Site, data: YearData, root: str, here: str) -> dict[str, Any]:
    """What every page of a year shares; a level's page warns about that level's assumed
    components, the other pages about every level's."""
    shown = [level for level in data.levels if level.level == here] or data.levels
    illustrative = illustrative_notice(data.illustrative)
    return {
        "assumed": ([illustrative] if illustrative else []) + assumed_notices(shown),
        "site": site,
        "year": data.year,
        "root": root,
        "here": here,
        "nav_levels": _nav_levels(data),
        "annex_name": ANNEX_NAME.format(year=data.year),
        "synthetic": synthetic_text(data.provenance),
        "footer": _footer(data),
        "method_name": METHOD_NAMES.get(data.method, data.method),
    }


# ---- rows for tables ----------------------------------------------------------------------------


def _ranking_rows(level: LevelData, group_id: str) -> list[dict[str, Any]]:
    totals = level.totals.filter(pl.col("group_id") == group_id).sort("rank", "unit_name")
    pillar_ids = level.pillar_nodes["node_id"].to_list()
    # Only the group's units: a level's communes are ranked in a dozen groups.
    mine = level.pillars.filter(pl.col("unit_id").is_in(totals["unit_id"].to_list()))
    points = {(u, n): p for u, n, p in mine.select("unit_id", "node_id", "points").iter_rows()}
    return [
        {
            **row,
            "pillar_points": [points.get((row["unit_id"], n)) for n in pillar_ids],
            "colour": level.framework.colour_of(row["class_label"]),
        }
        for row in totals.iter_rows(named=True)
    ]


def _class_counts(level: LevelData, totals: pl.DataFrame) -> list[dict[str, Any]]:
    counts = dict(totals.group_by("class_label").len().iter_rows())
    rows = [
        {"label": b.label, "colour": b.colour, "n": counts.get(b.label, 0)}
        for b in level.framework.bands
    ]
    known = {b.label for b in level.framework.bands}
    for label, n in counts.items():
        if label not in known:
            rows.append(
                {"label": label or UNCLASSIFIED_LABEL, "colour": UNCLASSIFIED_COLOUR, "n": n}
            )
    return rows


def _level_summary(data: YearData, level: LevelData) -> dict[str, Any]:
    totals = level.totals
    best = totals.sort("points", descending=True).row(0, named=True)
    worst = totals.sort("points").row(0, named=True)
    mean = float(totals["points"].mean())
    previous = data.history.filter(
        (pl.col("year") == data.year - 1) & (pl.col("level") == level.level)
    )
    return {
        "level": level.level,
        "label": level.label,
        "units_noun": LEVEL_UNITS.get(level.level, "đơn vị"),
        "n_units": totals.height,
        "n_groups": len(level.groups),
        "scale": level.framework.scale,
        "best": {**best, "colour": level.framework.colour_of(best["class_label"])},
        "worst": {**worst, "colour": level.framework.colour_of(worst["class_label"])},
        "mean": mean,
        "mean_ratio": float(totals["ratio"].mean()),
        "previous_mean": float(previous["points"].mean()) if previous.height else None,
        "classes": _class_counts(level, totals),
        "classified": level.framework.classified,
        "n_missing_units": int((totals["n_missing"] > 0).sum()),
        "snapshot_id": level.snapshot["snapshot_id"],
    }


def _group_rows(level: LevelData) -> list[dict[str, Any]]:
    rows = []
    for group in level.groups:
        part = level.totals.filter(pl.col("group_id") == group.group_id)
        best = part.sort("points", descending=True).row(0, named=True)
        rows.append(
            {
                "group": group,
                "n": part.height,
                "best": best,
                "mean": float(part["points"].mean()),
                "classes": _class_counts(level, part),
            }
        )
    return rows


# ---- pages --------------------------------------------------------------------------------------


def write_year_index(site: Site, data: YearData) -> Path:
    figures: dict[str, Any] = {}
    sections = []
    for level in data.levels:
        summary = _level_summary(data, level)
        key = f"tong-{level.level}"
        if len(level.groups) == 1:
            figures[key] = charts.bar_totals(
                level.totals, level.framework, f"Tổng điểm {level.label.lower()} năm {data.year}"
            )
        else:
            figures[key] = charts.box_by_group(
                level.totals,
                {g.group_id: g.name for g in level.groups},
                f"Phân bố tổng điểm {level.label.lower()} theo nhóm so sánh năm {data.year}",
            )
        sections.append(
            {
                **summary,
                "chart": key,
                "groups": _group_rows(level),
                "ranking": _ranking_rows(level, level.groups[0].group_id)
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
        figures["xep-loai"] = charts.class_distribution(
            class_rows.filter(pl.col("label").is_in(classified)),
            bands,
            f"Số đơn vị theo xếp loại năm {data.year}",
        )
    figures["xu-huong"] = charts.level_trends(
        _level_trend_rows(data.history, [lv.level for lv in data.levels]),
        "Chỉ số DTI trung bình theo cấp qua các năm (vạch: thấp nhất – cao nhất)",
    )
    return _write(
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


def _level_trend_rows(history: pl.DataFrame, levels: list[str]) -> pl.DataFrame:
    rows = (
        history.group_by("year", "level")
        .agg(
            pl.col("ratio").mean().alias("mean_ratio"),
            pl.col("ratio").min().alias("min_ratio"),
            pl.col("ratio").max().alias("max_ratio"),
            pl.len().alias("n_units"),
        )
        .filter(pl.col("level").is_in(levels))
        .with_columns(
            pl.col("level").replace_strict(LEVEL_NAMES, default=pl.col("level")).alias("label"),
            pl.col("level").replace_strict({lv: i for i, lv in enumerate(levels)}).alias("o"),
        )
        .sort("o", "year")
    )
    return rows


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
        "tong-diem": charts.bar_totals(totals, level.framework, f"Tổng điểm – {label}"),
        "chi-so-chinh": charts.stacked_pillars(
            level, pillars, totals, "Tổng điểm theo các chỉ số chính"
        ),
        "ban-do-nhiet": charts.heatmap_components(
            level, components, totals, "Tỷ lệ đạt từng chỉ số thành phần (đơn vị × chỉ số)"
        ),
        "xu-huong": charts.group_trends(history, "Tổng điểm của các đơn vị qua các năm"),
        "phuong-phap": charts.method_ranks(
            level.methods.filter(pl.col("group_id") == group_id),
            names,
            data.method,
            "Thứ hạng của từng đơn vị theo 3 phương pháp chấm điểm",
        ),
        "bat-dinh": charts.rank_spread(
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
    return _write(
        site,
        site.out / str(data.year) / f"nhom-{group.slug}.html",
        "group.html",
        **page_context(site, data, "../", level.level),
        title=f"{label} – DTI {data.year}",
        data=data,
        level=level,
        group=group,
        label=label,
        rows=_ranking_rows(level, group_id),
        pillars=level.pillar_nodes.to_dicts(),
        classes=_class_counts(level, totals),
        best=best,
        worst=worst,
        mean=float(totals["points"].mean()),
        methods=_method_table(level, group_id, data.method),
        monte_carlo=monte_carlo,
        method_names=METHOD_SHORT_NAMES,
        n_years=history["year"].n_unique(),
        figures=figures,
    )


def _rows_by_unit(frame: pl.DataFrame) -> dict[str, list[Row]]:
    """The rows of ``frame`` as dicts, per unit, in the frame's order."""
    return rows_by(frame, "unit_id")


@dataclass
class UnitPieces:
    """One level's per-unit rows for the unit pages, cut once and turned into Python rows once.

    A level has up to hundreds of units: filtering, sorting and converting every frame again for
    each page (a few dozen small polars calls per page) was most of the time of the unit pages,
    more than rendering them."""

    totals: dict[str, Row]
    group_size: dict[str, int]
    group_mean: dict[str, float]
    pillars: dict[str, list[Row]]  # by ordinal, with the group's mean ratio
    components: dict[str, list[Row]]  # by ordinal, with the group's mean ratio and the gap
    strengths: dict[str, list[Row]]  # split_strengths of each unit's components
    weaknesses: dict[str, list[Row]]
    adjustments: dict[str, list[Row]]  # with the indicator's name
    history: dict[str, list[Row]]  # by year
    methods: dict[str, list[Row]]  # by method, with its short name

    @classmethod
    def of(cls, data: YearData, level: LevelData, n_strengths: int = 3) -> UnitPieces:
        groups = level.totals.group_by("group_id").agg(
            pl.len().alias("n"), pl.col("points").mean().alias("mean")
        )
        pillars = level.pillars.join(
            group_means(level.pillars), on=["group_id", "node_id"], how="left"
        )
        gaps = component_gaps(level.components)
        strengths, weaknesses = split_strengths(gaps, n_strengths)
        node_names = dict(
            zip(level.component_nodes["node_id"], level.component_nodes["name"], strict=True)
        )
        adjustments = level.adjustments.with_columns(
            pl.col("indicator_id")
            .replace_strict(node_names, default="", return_dtype=pl.String)
            .alias("name")
        )
        methods = level.methods.sort("method").with_columns(
            pl.col("method")
            .replace_strict(METHOD_SHORT_NAMES, return_dtype=pl.String)
            .alias("name")
        )
        return cls(
            totals={row["unit_id"]: row for row in level.totals.iter_rows(named=True)},
            group_size=dict(zip(groups["group_id"], groups["n"], strict=True)),
            group_mean=dict(zip(groups["group_id"], groups["mean"], strict=True)),
            pillars=_rows_by_unit(pillars.sort("ordinal")),
            components=_rows_by_unit(gaps.sort("ordinal")),
            strengths=_rows_by_unit(strengths),
            weaknesses=_rows_by_unit(weaknesses),
            adjustments=_rows_by_unit(adjustments),
            history=_rows_by_unit(data.history.filter(pl.col("level") == level.level).sort("year")),
            methods=_rows_by_unit(methods),
        )


def write_unit_page(
    site: Site, data: YearData, level: LevelData, unit_id: str, pieces: UnitPieces | None = None
) -> Path:
    """The scorecard of one unit (``pieces``: the level's rows, cut once for all its units)."""
    pieces = pieces or UnitPieces.of(data, level)
    total = pieces.totals[unit_id]
    group = level.group(total["group_id"])
    pillars = pieces.pillars.get(unit_id, [])
    components = pieces.components.get(unit_id, [])
    history = pieces.history.get(unit_id, [])
    group_label = "nhóm" if group.group_id == level.level else f"nhóm {group.name}"
    figures = {
        "radar": charts.radar(
            total["unit_name"],
            [p["name"] for p in pillars],
            [p["ratio"] for p in pillars],
            [p["group_mean"] for p in pillars],
            group_label,
        ),
        "chenh-lech": charts.component_gaps(total["unit_name"], components),
        "lich-su": charts.unit_history(total["unit_name"], history),
    }
    return _write(
        site,
        site.out / str(data.year) / "don-vi" / f"{unit_id}.html",
        "unit.html",
        **page_context(site, data, "../../", level.level),
        title=f"{total['unit_name']} – DTI {data.year}",
        data=data,
        level=level,
        group=group,
        unit=total,
        colour=level.framework.colour_of(total["class_label"]),
        group_size=pieces.group_size[group.group_id],
        group_mean=float(pieces.group_mean[group.group_id]),
        pillars=pillars,
        components=components,
        strengths=pieces.strengths.get(unit_id, []),
        weaknesses=pieces.weaknesses.get(unit_id, []),
        adjustments=pieces.adjustments.get(unit_id, []),
        history=history,
        methods=pieces.methods.get(unit_id, []),
        figures=figures,
    )


def _params_rows(params: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, value in params.items():
        shown = PARAM_VALUES.get((key, str(value)))
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        if key == "rank_precision" and isinstance(value, dict):
            shown = _rank_precision_text(value)
            text = shown
        rows.append(
            {
                "key": key,
                "label": PARAM_LABELS.get(key, key),
                "value": text,
                "meaning": shown or "",
            }
        )
    return rows


def _rank_precision_text(precision: dict[str, Any]) -> str:
    """The rank precision as a reader of the method page says it."""
    if precision.get("decimals") is None:
        return "chỉ coi là bằng nhau khi chênh lệch do sai số làm tròn máy tính"
    of = "tỷ lệ (chỉ số)" if precision.get("of") == "ratio" else "điểm"
    return f"bằng nhau khi làm tròn {precision['decimals']} chữ số thập phân của {of}"


def _rules(level: LevelData) -> list[dict[str, Any]]:
    """Which rules changed whose points, in this snapshot."""
    totals = level.totals
    names = dict(zip(totals["unit_id"], totals["unit_name"], strict=True))
    rules: list[dict[str, Any]] = []
    if level.audit is not None:
        # What the scoring recorded for every leaf (leaf_scores.rule_applied).
        for (rule,), part in sorted(level.audit.partition_by("rule", as_dict=True).items()):
            part = part.sort("n_leaves", "unit_id", descending=[True, False])
            rules.append(
                {
                    "rule": f"{RULE_NAMES.get(rule, 'Quy tắc khác')} ({rule})",
                    "count": part.height,
                    "who": [
                        f"{names.get(r['unit_id'], r['unit_id'])} ({r['n_leaves']} chỉ số)"
                        for r in part.to_dicts()
                    ],
                }
            )
    else:
        missing = totals.filter(pl.col("n_missing") > 0).sort("n_missing", descending=True)
        rules.append(
            {
                "rule": RULE_NAMES.get(f"missing.{level.params.get('missing')}")
                or f"{PARAM_LABELS['missing']}: {level.params.get('missing')}",
                "count": missing.height,
                "who": [f"{r['unit_name']} ({r['n_missing']} chỉ số)" for r in missing.to_dicts()],
            }
        )
    adjusted = (
        level.adjustments.group_by("unit_id").len().sort("len", "unit_id", descending=[True, False])
    )
    rules.append(
        {
            "rule": "Thẩm định điều chỉnh giá trị tự đánh giá (giá trị thẩm định được dùng)",
            "count": adjusted.height,
            "who": [
                f"{names.get(r['unit_id'], r['unit_id'])} ({r['len']} chỉ số)"
                for r in adjusted.to_dicts()
            ],
        }
    )
    if level.override:
        rules.append(
            {
                "rule": "Cho phép chấm điểm dù kiểm tra chặn không đạt (ghi nhận)",
                "count": 1,
                "who": [level.override],
            }
        )
    return rules


def write_method_page(site: Site, data: YearData) -> Path:
    levels = []
    for level in data.levels:
        fw = level.framework
        comps = level.component_nodes
        flagged = [
            {
                "name": r["unit_name"],
                "flags": ", ".join(
                    f
                    for f, on in (
                        ("không có DVCTT", not r["has_dvctt"]),
                        ("không có đơn vị trực thuộc", not r["has_subordinates"]),
                        ("đơn vị đặc thù", r["is_special"]),
                    )
                    if on
                ),
                "source": SOURCE_VALUES.get(r["flags_source"], r["flags_source"]),
            }
            for r in level.flagged_units.to_dicts()
        ]
        levels.append(
            {
                "level": level,
                "fw": fw,
                "source": _source_rows(fw.source),
                "snap": level.snapshot,
                "params": _params_rows(level.params),
                "n_components": comps.height,
                "n_assumed": int((comps["source"] == "assumed").sum()),
                "n_pillars": level.pillar_nodes.height,
                "rules": _rules(level),
                "flagged": flagged,
                "method_snapshots": [
                    {"method": METHOD_NAMES.get(m, m), "id": sid}
                    for m, sid in level.method_snapshots.items()
                ],
                "uncertainty": level.uncertainty is not None,
                "scope_changes": data.scope_changes.get(level.level),
                "dvctt_scope": level.params.get("rules", {}).get("dvctt_scope"),
                "reading_differences": reading_differences(
                    level.totals, level.pillars, fw.bands, fw.reading
                ),
            }
        )
    return _write(
        site,
        site.out / str(data.year) / "phuong-phap.html",
        "method.html",
        **page_context(site, data, "../", "method"),
        title=f"Phương pháp – DTI {data.year}",
        data=data,
        levels=levels,
        provenance=data.provenance,
    )


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
            "xu-huong": charts.level_trends(
                _level_trend_rows(hist, levels),
                "Chỉ số DTI trung bình theo cấp qua các năm (vạch: thấp nhất – cao nhất)",
            )
        }
        if years
        else {}
    )
    return _write(
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


def _write(into: Site, path: Path, template: str, **context: Any) -> Path:
    written = write_page(path, template, **context)
    into.written.append(written)
    return written


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


__all__ = ["ANNEX_NAME", "Site", "write_site_index", "write_year"]
