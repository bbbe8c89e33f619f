"""Where the series :func:`pipelines.analysis.trends.trends` reads comes from: each year's latest
snapshot in the warehouse (or those of one framework), or a panel of files scored by the engine."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.analysis.trends import SERIES_COLUMNS


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
