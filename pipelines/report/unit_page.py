"""The scorecard of one unit (``<out>/<year>/don-vi/<unit_id>.html``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.report import unit_charts
from pipelines.report.contents import LevelData, YearData
from pipelines.report.derived_figures import component_gaps, group_means, split_strengths
from pipelines.report.pages import Site, page_context, write_site_page
from pipelines.text.labels import METHOD_SHORT_NAMES
from pipelines.text.rows import Row, rows_by


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
        "radar": unit_charts.radar(
            total["unit_name"],
            [p["name"] for p in pillars],
            [p["ratio"] for p in pillars],
            [p["group_mean"] for p in pillars],
            group_label,
        ),
        "chenh-lech": unit_charts.component_gaps(total["unit_name"], components),
        "lich-su": unit_charts.unit_history(total["unit_name"], history),
    }
    return write_site_page(
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
