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
from pathlib import Path

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


# ---------------------------------------------------------------- sources


def series_from_warehouse(
    method: str | None = None,
    levels: list[str] | None = None,
    framework_hash: str | None = None,
    up_to: int | None = None,
    warehouse: str | Path | None = None,
    preset: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(series, versions, successors, lineage)`` from each year's latest snapshot of ``method``
    (default: the preset's primary), or the latest snapshot of each year scored with
    ``framework_hash`` (e.g. written by ``dti backfill``). One read-only connection."""
    from pipelines.analysis.inputs import default_preset
    from pipelines.framework.preset import load_preset
    from pipelines.store.warehouse import session

    loaded = load_preset(preset or default_preset())
    with session(warehouse, read_only=True) as con:
        return series_from_connection(con, loaded, method, levels, framework_hash, up_to)


def series_from_connection(
    con,
    preset,
    method: str | None = None,
    levels: list[str] | None = None,
    framework_hash: str | None = None,
    up_to: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """:func:`series_from_warehouse` on an open connection."""
    method = method or preset.primary_method
    levels = levels or list(preset.levels)
    filters = ["s.method = ?", "list_contains(?, s.level)"]
    params: list = [method, levels]
    if framework_hash:
        filters.append("s.framework_hash = ?")
        params.append(framework_hash)
    if up_to is not None:
        filters.append("s.year <= ?")
        params.append(up_to)
    where = " AND ".join(filters)
    chosen = con.execute(
        "SELECT s.snapshot_id, s.year, s.level, s.framework_id, s.framework_version, "
        f"s.framework_hash FROM snapshots AS s WHERE {where} "
        "QUALIFY row_number() OVER (PARTITION BY s.year, s.level "
        "ORDER BY s.created_at DESC, s.snapshot_id) = 1",
        params,
    ).pl()
    ids = chosen["snapshot_id"].to_list()
    series = con.execute(
        "SELECT s.year, s.level, x.group_id, x.unit_id, x.node_id, x.node_level, x.points, "
        "x.max_points, x.ratio, x.rank FROM snapshot_scores AS x "
        "JOIN snapshots AS s USING (snapshot_id) WHERE list_contains(?, x.snapshot_id)",
        [ids],
    ).pl()
    lineage_query = (
        "SELECT year, level, group_id, unit_id, node_id, node_level, points, max_points, "
        "ratio, rank FROM lineage_scores WHERE method = ? AND list_contains(?, level)"
    )
    lineage_params: list = [method, levels]
    if up_to is not None:
        lineage_query += " AND year <= ?"
        lineage_params.append(up_to)
    successors = con.execute(lineage_query, lineage_params).pl()
    return series, chosen.drop("snapshot_id"), successors, preset.lineage


def series_from_files(
    framework_path: str | Path, data_path: str | Path, spec=None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(series, versions)`` of a panel: each year scored by the engine (one group)."""
    from pipelines.analysis.datafiles import read_framework_file, read_observations
    from pipelines.analysis.inputs import from_files

    framework = read_framework_file(framework_path)
    years = sorted(
        int(y) for y in read_observations(data_path, framework)["year"].drop_nulls().unique()
    )
    if len(years) < 2:
        raise ValueError(f"{data_path}: trends need a panel with several years (Time), got {years}")
    frames = []
    level = framework.level or "all"
    for year in years:
        inp = from_files(framework_path, data_path, year=year, nominal=spec)
        frames.append(inp.score(inp.nominal).with_columns(pl.lit(level).alias("level")))
    series = pl.concat(frames).select(SERIES_COLUMNS)
    versions = pl.DataFrame(
        {
            "year": years,
            "level": [level] * len(years),
            "framework_id": [framework.id] * len(years),
            "framework_version": [framework.version] * len(years),
            "framework_hash": [framework.content_hash()] * len(years),
        }
    )
    return series, versions


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


def store_trends(con, result: Trends, year: int, method: str) -> int:
    """Rewrite the changes ending in ``year``, the growth up to ``year`` and their warnings."""
    from pipelines.store.warehouse import replace_rows

    changes = result.changes.filter(pl.col("year_to") == year).with_columns(
        pl.lit(method).alias("method")
    )
    growth = result.growth.with_columns(
        pl.lit(year, dtype=pl.Int32).alias("up_to_year"), pl.lit(method).alias("method")
    )
    warnings = result.warnings.filter(pl.col("year_to") == year).with_columns(
        pl.lit(method).alias("method")
    )
    keys = {"method": method}
    rows = replace_rows(con, "score_trends", changes, {"year_to": year, **keys})
    replace_rows(con, "score_growth", growth, {"up_to_year": year, **keys})
    replace_rows(con, "trend_warnings", warnings, {"year_to": year, **keys})
    return rows


def trends_year(con, preset, year: int, method: str | None = None) -> dict[str, object]:
    """Trends of every level up to ``year`` from the latest snapshots; stored."""
    method = method or preset.primary_method
    series, versions, successors, lineage = series_from_connection(con, preset, method, up_to=year)
    result = trends(series, versions, successors, lineage)
    rows = store_trends(con, result, year, method)
    return {
        "changes": rows,
        "warnings": result.warnings.filter(pl.col("year_to") == year)["message"].to_list(),
    }
