"""Trends: year-over-year change of totals, pillars and ranks, and compound annual growth.

Input: a *series* — one row per year, unit and node (``year, level, group_id, unit_id, node_id,
node_level, points, max_points, ratio, rank``) — and the framework version of each year and level
(``year, level, framework_id, framework_version, framework_hash``). From the warehouse
(:func:`series_from_warehouse`) the series is each year's **latest snapshot** (optionally only the
snapshots of one framework, e.g. those a backfill wrote); from files (:func:`series_from_files`)
each year of a panel is scored by the engine.

**Nodes.** By default every aggregate node of the tree — the index, the groups (COINr's
sub-indices, e.g. ASEM's ``Conn`` and ``Sust``), the pillars — and the views and composites
(``DEFAULT_NODE_LEVELS``); ``nodes`` picks any nodes instead, components and indicators included
(an id the series does not have is refused, naming the ones it has).

* ``changes`` — for each unit and node, between each pair of
  consecutive years available: points, ratio and rank before and after; ``ratio_change``,
  ``points_change``, ``rank_change`` (previous rank − rank: **positive = moved up**);
  ``framework_changed`` when the framework version differs between the two years — the change
  then compares different frameworks, and ``warnings`` says so for every such pair;
* ``growth`` — compound annual growth of the ratio from the unit's first to its last year:
  ``(last / first) ^ (1 / (last_year − first_year)) − 1`` (null when the first ratio is ≤ 0 or
  there is one year); ``framework_changed`` when the framework changed in between;
* **mergers** (``pipelines.framework.lineage``): a unit that does not exist yet in a year but whose
  predecessors do takes, for that year, its score in the *successor grouping* (its value of each
  leaf = the unweighted mean of its predecessors', scored among the successors — table
  ``lineage_scores``), marked ``via_lineage``; a unit that ends (merged into a successor) is
  named in ``warnings``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import polars as pl

SERIES_COLUMNS = [
    "year",
    "level",
    "group_id",
    "unit_id",
    "node_id",
    "node_level",
    "points",
    "max_points",
    "ratio",
    "rank",
]
VERSION_COLUMNS = ["year", "level", "framework_id", "framework_version", "framework_hash"]
DEFAULT_NODE_LEVELS = ("index", "group", "pillar", "view", "composite")


@dataclass
class Trends:
    changes: pl.DataFrame
    growth: pl.DataFrame
    warnings: pl.DataFrame


def cagr(first: float | None, last: float | None, years: int) -> float | None:
    """Compound annual growth rate; None when undefined (first ≤ 0, no span)."""
    if first is None or last is None or years <= 0 or first <= 0 or last < 0:
        return None
    return (last / first) ** (1.0 / years) - 1.0


def _extended(series: pl.DataFrame, successors: pl.DataFrame | None) -> pl.DataFrame:
    """Own rows, plus successor-grouping rows for (unit, year) the unit has no own row for."""
    own = series.select(SERIES_COLUMNS).with_columns(pl.lit(False).alias("via_lineage"))
    if successors is None or successors.is_empty():
        return own
    extra = successors.select(SERIES_COLUMNS).join(
        own.select("year", "level", "unit_id").unique(),
        on=["year", "level", "unit_id"],
        how="anti",
    )
    return pl.concat([own, extra.with_columns(pl.lit(True).alias("via_lineage"))])


def trends(
    series: pl.DataFrame,
    versions: pl.DataFrame,
    successors: pl.DataFrame | None = None,
    lineage: pl.DataFrame | None = None,
    node_levels: tuple[str, ...] = DEFAULT_NODE_LEVELS,
    nodes: list[str] | None = None,
) -> Trends:
    """Changes, growth and warnings (module docstring) of the nodes of ``node_levels``, or of
    ``nodes`` when given."""
    data = _extended(series, successors)
    if nodes:
        known = set(data["node_id"].unique().to_list())
        unknown = [n for n in nodes if n not in known]
        if unknown:
            raise ValueError(
                f"node {', '.join(unknown)} not in the series; nodes: {', '.join(sorted(known))}"
            )
        data = data.filter(pl.col("node_id").is_in(nodes))
    else:
        data = data.filter(pl.col("node_level").is_in(node_levels))
    versions = versions.select(VERSION_COLUMNS).unique(subset=["year", "level"], keep="last")
    change_frames, warnings = [], []
    for (level,), part in data.group_by(["level"], maintain_order=True):
        years = sorted(part["year"].unique().to_list())
        hashes = {
            row["year"]: row
            for row in versions.filter(pl.col("level") == level).iter_rows(named=True)
        }
        for before, after in itertools.pairwise(years):
            old, new = hashes.get(before), hashes.get(after)
            changed = bool(old and new and old["framework_hash"] != new["framework_hash"])
            if changed:
                warnings.append(
                    {
                        "level": level,
                        "year_from": before,
                        "year_to": after,
                        "kind": "framework_changed",
                        "message": (
                            f"{level}: framework {old['framework_id']} "
                            f"({old['framework_version']}) in {before} but "
                            f"{new['framework_id']} ({new['framework_version']}) "
                            f"in {after} — changes between these years compare different "
                            "frameworks"
                        ),
                    }
                )
            if after - before > 1:
                warnings.append(
                    {
                        "level": level,
                        "year_from": before,
                        "year_to": after,
                        "kind": "gap",
                        "message": f"{level}: no data between {before} and {after}; the change "
                        f"spans {after - before} years",
                    }
                )
            prev = part.filter(pl.col("year") == before)
            curr = part.filter(pl.col("year") == after)
            joined = curr.join(
                prev.select(
                    "unit_id",
                    "node_id",
                    pl.col("group_id").alias("group_id_before"),
                    pl.col("points").alias("points_before"),
                    pl.col("ratio").alias("ratio_before"),
                    pl.col("rank").alias("rank_before"),
                    pl.col("via_lineage").alias("before_via_lineage"),
                ),
                on=["unit_id", "node_id"],
                how="left",
            )
            change_frames.append(
                joined.with_columns(
                    pl.lit(before, dtype=pl.Int32).alias("year_from"),
                    (pl.col("points") - pl.col("points_before")).alias("points_change"),
                    (pl.col("ratio") - pl.col("ratio_before")).alias("ratio_change"),
                    (pl.col("rank_before").cast(pl.Int32) - pl.col("rank").cast(pl.Int32)).alias(
                        "rank_change"
                    ),
                    pl.lit(changed).alias("framework_changed"),
                    pl.col("before_via_lineage").fill_null(False).alias("via_lineage"),
                )
            )
            ended = set(prev.filter(~pl.col("via_lineage"))["unit_id"]) - set(curr["unit_id"])
            for unit in sorted(ended):
                successors_of = []
                if lineage is not None and not lineage.is_empty():
                    successors_of = lineage.filter(pl.col("predecessor_id") == unit)[
                        "successor_id"
                    ].to_list()
                warnings.append(
                    {
                        "level": level,
                        "year_from": before,
                        "year_to": after,
                        "kind": "merged" if successors_of else "ended",
                        "message": (
                            f"{unit} ({before}) merged into {', '.join(successors_of)} in {after}"
                            if successors_of
                            else f"{unit} has results in {before} but not in {after}"
                        ),
                    }
                )
    changes = (
        pl.concat(change_frames, how="diagonal_relaxed")
        .select(
            "level",
            "year_from",
            pl.col("year").alias("year_to"),
            "group_id",
            "unit_id",
            "node_id",
            "node_level",
            "points_before",
            "points",
            "points_change",
            "ratio_before",
            "ratio",
            "ratio_change",
            "rank_before",
            "rank",
            "rank_change",
            "framework_changed",
            "via_lineage",
        )
        .sort("level", "year_to", "group_id", "unit_id", "node_id")
        if change_frames
        else pl.DataFrame(schema=CHANGE_SCHEMA)
    )
    return Trends(changes, _growth(data, versions), pl.DataFrame(warnings, schema=WARNING_SCHEMA))


def _growth(data: pl.DataFrame, versions: pl.DataFrame) -> pl.DataFrame:
    rows = []
    hashes = {(r["year"], r["level"]): r["framework_hash"] for r in versions.iter_rows(named=True)}
    ordered = data.filter(pl.col("ratio").is_not_null()).sort("year")
    for (level, unit, node), part in ordered.group_by(
        ["level", "unit_id", "node_id"], maintain_order=True
    ):
        first, last = part.row(0, named=True), part.row(-1, named=True)
        span = int(last["year"]) - int(first["year"])
        seen = {hashes.get((y, level)) for y in part["year"].to_list()} - {None}
        rows.append(
            {
                "level": level,
                "unit_id": unit,
                "node_id": node,
                "node_level": first["node_level"],
                "first_year": first["year"],
                "last_year": last["year"],
                "n_years": part.height,
                "first_ratio": first["ratio"],
                "last_ratio": last["ratio"],
                "cagr": cagr(first["ratio"], last["ratio"], span),
                "first_rank": first["rank"],
                "last_rank": last["rank"],
                "framework_changed": len(seen) > 1,
                "via_lineage": bool(part["via_lineage"].any()),
            }
        )
    return pl.DataFrame(rows, schema=GROWTH_SCHEMA).sort("level", "unit_id", "node_id")


CHANGE_SCHEMA = {
    "level": pl.String,
    "year_from": pl.Int32,
    "year_to": pl.Int32,
    "group_id": pl.String,
    "unit_id": pl.String,
    "node_id": pl.String,
    "node_level": pl.String,
    "points_before": pl.Float64,
    "points": pl.Float64,
    "points_change": pl.Float64,
    "ratio_before": pl.Float64,
    "ratio": pl.Float64,
    "ratio_change": pl.Float64,
    "rank_before": pl.Int32,
    "rank": pl.Int32,
    "rank_change": pl.Int32,
    "framework_changed": pl.Boolean,
    "via_lineage": pl.Boolean,
}
GROWTH_SCHEMA = {
    "level": pl.String,
    "unit_id": pl.String,
    "node_id": pl.String,
    "node_level": pl.String,
    "first_year": pl.Int32,
    "last_year": pl.Int32,
    "n_years": pl.Int32,
    "first_ratio": pl.Float64,
    "last_ratio": pl.Float64,
    "cagr": pl.Float64,
    "first_rank": pl.Int32,
    "last_rank": pl.Int32,
    "framework_changed": pl.Boolean,
    "via_lineage": pl.Boolean,
}
WARNING_SCHEMA = {
    "level": pl.String,
    "year_from": pl.Int32,
    "year_to": pl.Int32,
    "kind": pl.String,
    "message": pl.String,
}
