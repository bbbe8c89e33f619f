"""Rows of the report's tables: a group's ranking, the counts per class, a level's summary, the
groups of a level and the level's totals across years."""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.report.contents import (
    LEVEL_UNITS,
    UNCLASSIFIED_COLOUR,
    UNCLASSIFIED_LABEL,
    LevelData,
    YearData,
)
from pipelines.text.labels import LEVEL_NAMES


def ranking_rows(level: LevelData, group_id: str) -> list[dict[str, Any]]:
    """The group's units by rank, each with its pillars' points and its class colour."""
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


def class_counts(level: LevelData, totals: pl.DataFrame) -> list[dict[str, Any]]:
    """How many of ``totals`` fall in each class of the framework (then any other label)."""
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


def level_summary(data: YearData, level: LevelData) -> dict[str, Any]:
    """A level's figures on the overview: best, worst, mean (and last year's), classes."""
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
        "classes": class_counts(level, totals),
        "classified": level.framework.classified,
        "n_missing_units": int((totals["n_missing"] > 0).sum()),
        "missing_rule": level.missing_rule_name,
        "snapshot_id": level.snapshot["snapshot_id"],
    }


def group_rows(level: LevelData) -> list[dict[str, Any]]:
    """One row per comparison group of the level: size, best unit, mean, classes."""
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
                "classes": class_counts(level, part),
            }
        )
    return rows


def level_trend_rows(history: pl.DataFrame, levels: list[str]) -> pl.DataFrame:
    """Mean, lowest and highest ratio of each level per year, levels in the given order."""
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
