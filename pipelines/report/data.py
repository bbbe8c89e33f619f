"""What the public report says, read from the warehouse: the year's latest snapshot per level for
the preset's primary method, and everything needed to say where it came from.

Every number in the report comes from ``snapshots`` + ``snapshot_scores`` (never from the live
``scores`` view), so a page names exactly the snapshot, framework version and input it shows.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import duckdb
import numpy as np
import polars as pl

from pipelines.framework.assumed import (
    acceptance_of,
    assumed_components,
)
from pipelines.report.contents import (
    BAND_COLOURS,
    LEVEL_SLUGS,
    Band,
    FrameworkInfo,
    Group,
    LevelData,
    YearData,
    nfc,
)
from pipelines.report.framework_info import framework_info, framework_nodes, node_pillars
from pipelines.report.provenance import provenance
from pipelines.report.rule_audit import rule_audit
from pipelines.scoring.rank import NOISE_ONLY, RankPrecision, class_labels
from pipelines.store.warehouse import run_query
from pipelines.text.labels import LEVEL_NAMES


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
    )


def snapshot_years(con: duckdb.DuckDBPyConnection, method: str) -> list[int]:
    """Years with at least one snapshot for ``method``."""
    rows = con.execute(
        "SELECT DISTINCT year FROM snapshots WHERE method = ? ORDER BY year", [method]
    ).fetchall()
    return [r[0] for r in rows]


def latest_snapshot(
    con: duckdb.DuckDBPyConnection, year: int, level: str, method: str
) -> dict[str, Any] | None:
    frame = con.execute(
        "SELECT * FROM latest_snapshots WHERE year = ? AND level = ? AND method = ?",
        [year, level, method],
    ).pl()
    return frame.row(0, named=True) if frame.height else None


def _scores(con: duckdb.DuckDBPyConnection, snapshot_id: str, node_level: str) -> pl.DataFrame:
    return con.execute(
        "SELECT group_id, unit_id, node_id, points, max_points, ratio, z, rank, class_label, "
        "n_missing FROM snapshot_scores WHERE snapshot_id = ? AND node_level = ?",
        [snapshot_id, node_level],
    ).pl()


def _unit_names(con: duckdb.DuckDBPyConnection, registry: str) -> pl.DataFrame:
    frame = con.execute(
        "SELECT unit_id, name AS unit_name, short_name, parent_id, level AS unit_level, "
        "has_dvctt, has_subordinates, is_special, flags_source, name_source "
        "FROM units WHERE registry = ?",
        [registry],
    ).pl()
    return frame.with_columns(pl.col("unit_name").map_elements(nfc, return_dtype=pl.String))


def _group_name(group_id: str, level: str, names: dict[str, str]) -> str:
    if group_id == level:
        return f"{LEVEL_NAMES.get(level, level)}"
    return names.get(group_id, group_id)


def _group_slug(group_id: str, level: str) -> str:
    base = LEVEL_SLUGS.get(level, level)
    if group_id == level:
        return base
    safe = "".join(ch if ch.isalnum() else "-" for ch in group_id.lower()).strip("-")
    return f"{base}-{safe}"


def classify(
    ratio: float | None,
    pillar_ratios: list[float | None],
    bands: list[Band],
    reading: str | None,
    precision: RankPrecision = NOISE_ONLY,
) -> str | None:
    """The band a unit falls in, None below every band: the scoring's own classifier
    (:func:`pipelines.scoring.rank.class_labels`) on the total ratio and the weakest pillar
    ratio (pillars without a ratio do not count). Bands without a ratio (stored labels only)
    and the bands after them classify nobody."""
    if ratio is None:
        return None
    known = []
    for band in bands:
        if band.min_ratio is None:
            break
        known.append((band.label, band.min_ratio))
    pillars = [r for r in pillar_ratios if r is not None]
    weakest = min(pillars) if pillars else math.nan
    return class_labels(np.array([ratio]), np.array([weakest]), known, reading, precision)[0]


def _checked_bands(
    fw: FrameworkInfo,
    totals: pl.DataFrame,
    pillars: pl.DataFrame,
    reading: str | None,
    precision: RankPrecision = NOISE_ONLY,
) -> FrameworkInfo:
    """Bands from a framework file that changed after the snapshot are used only if they give
    every unit the class the snapshot stored; otherwise only the stored labels are shown."""
    fw = replace(
        fw,
        reading=reading
        or ("total_and_pillars" if fw.pillar_minimum else "total_only" if fw.bands else None),
    )
    if fw.bands and not fw.hash_matches:
        by_unit = {
            u: part["ratio"].to_list()
            for (u,), part in pillars.partition_by("unit_id", as_dict=True).items()
        }
        agree = all(
            classify(r["ratio"], by_unit.get(r["unit_id"], []), fw.bands, fw.reading, precision)
            == r["class_label"]
            for r in totals.iter_rows(named=True)
        )
        if agree:
            return replace(
                fw,
                bands_status=fw.bands_status + f"; ngưỡng cho đúng xếp loại đã lưu của cả "
                f"{totals.height} đơn vị",
            )
        fw = replace(
            fw,
            bands=[],
            bands_status=fw.bands_status + ": ngưỡng trong tệp không khớp xếp loại đã lưu, "
            "chỉ hiển thị nhãn đã lưu",
        )
    if not fw.bands:
        labels = (
            totals.filter(pl.col("class_label").is_not_null())
            .group_by("class_label")
            .agg(pl.col("ratio").mean())
            .sort("ratio", descending=True)["class_label"]
            .to_list()
        )
        fw = replace(
            fw,
            bands=[
                Band(label, None, BAND_COLOURS[i % len(BAND_COLOURS)])
                for i, label in enumerate(labels)
            ],
        )
    return fw


def level_data(
    con: duckdb.DuckDBPyConnection,
    year: int,
    level: str,
    method: str,
    registry: str,
    methods: tuple[str, ...],
    units: pl.DataFrame | None = None,
) -> LevelData | None:
    """Everything the report shows for one level of one year (None: no snapshot).

    ``units``: the registry's units (``_unit_names``) when the caller has read them already."""
    snapshot = latest_snapshot(con, year, level, method)
    if snapshot is None:
        return None
    sid = snapshot["snapshot_id"]
    framework = framework_info(con, snapshot["framework_hash"])
    units = _unit_names(con, registry) if units is None else units
    names = dict(zip(units["unit_id"], units["unit_name"], strict=True))
    nodes = framework_nodes(con, snapshot["framework_hash"])
    pillar_of = node_pillars(nodes)
    node_names = nodes.select("node_id", pl.col("name").map_elements(nfc, return_dtype=pl.String))

    index_scores = _scores(con, sid, "index")
    totals = (
        index_scores.join(units.select("unit_id", "unit_name"), on="unit_id", how="left")
        .with_columns(pl.col("unit_name").fill_null(pl.col("unit_id")))
        .sort("group_id", "rank", "unit_name")
    )
    pillar_nodes = nodes.filter(pl.col("node_level") == "pillar").select(
        "node_id", pl.col("name").map_elements(nfc, return_dtype=pl.String), "max_points", "ordinal"
    )
    pillars = (
        _scores(con, sid, "pillar")
        .join(node_names, on="node_id", how="left")
        .join(pillar_nodes.select("node_id", "ordinal"), on="node_id", how="left")
        .sort("unit_id", "ordinal")
    )
    component_nodes = (
        nodes.filter(pl.col("node_level") == "component")
        .with_columns(
            pl.col("node_id").replace_strict(pillar_of, default=None).alias("pillar_id"),
            pl.col("name").map_elements(nfc, return_dtype=pl.String),
        )
        .select("node_id", "name", "pillar_id", "max_points", "ordinal", "source")
    )
    components = (
        _scores(con, sid, "component")
        .join(component_nodes.select("node_id", "name", "pillar_id", "ordinal"), on="node_id")
        .sort("unit_id", "ordinal")
    )

    # The same year and level under every method, each from its own latest snapshot.
    method_frames, method_snapshots = [], {}
    for other in methods:
        # The primary method's snapshot and totals are those read above.
        snap = snapshot if other == method else latest_snapshot(con, year, level, other)
        if snap is None:
            continue
        method_snapshots[other] = snap["snapshot_id"]
        method_frames.append(
            (index_scores if other == method else _scores(con, snap["snapshot_id"], "index"))
            .select("unit_id", "group_id", "points", "ratio", "rank")
            .with_columns(pl.lit(other).alias("method"))
        )
    method_table = pl.concat(method_frames) if method_frames else pl.DataFrame()

    uncertainty = None
    if table_exists(con, "rank_uncertainty"):
        found = con.execute(
            "SELECT unit_id, nominal_rank, median_rank, p05_rank, p95_rank "
            "FROM rank_uncertainty WHERE year = ? AND level = ?",
            [year, level],
        ).pl()
        uncertainty = found if found.height else None

    adjustments = run_query(con, "appraisal_adjustments", year=year, level=level)
    scored = set(totals["unit_id"])
    flagged = units.filter(
        pl.col("unit_id").is_in(list(scored))
        & (~pl.col("has_dvctt") | ~pl.col("has_subordinates") | pl.col("is_special"))
    ).sort("unit_id")
    override = con.execute(
        "SELECT granted_by || ': ' || reason FROM validation_overrides "
        "WHERE year = ? AND level = ?",
        [year, level],
    ).fetchone()

    params = json.loads(snapshot["params_json"])
    framework = _checked_bands(
        framework,
        totals,
        pillars,
        params.get("classification_reading"),
        RankPrecision.from_mapping(params.get("rank_precision")),
    )
    audit = rule_audit(con, year, level, method, totals)
    sizes = totals.group_by("group_id").len()
    groups = [
        Group(
            group_id=g,
            level=level,
            name=_group_name(g, level, names),
            slug=_group_slug(g, level),
            n_units=n,
        )
        for g, n in sizes.sort("group_id").iter_rows()
    ]
    groups.sort(key=lambda g: g.name)
    return LevelData(
        level=level,
        label=LEVEL_NAMES.get(level, level),
        snapshot=snapshot,
        params=params,
        framework=framework,
        groups=groups,
        totals=totals,
        pillars=pillars,
        components=components,
        pillar_nodes=pillar_nodes,
        component_nodes=component_nodes,
        methods=method_table,
        method_snapshots=method_snapshots,
        uncertainty=uncertainty,
        adjustments=adjustments,
        flagged_units=flagged,
        override=override[0] if override else None,
        audit=audit,
    )


def history(
    con: duckdb.DuckDBPyConnection,
    up_to_year: int,
    method: str,
    registry: str,
    units: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every unit's total and rank in each year up to ``up_to_year`` (latest snapshots);
    ``units`` as for :func:`level_data`."""
    frame = run_query(con, "report_history", method=method, up_to_year=up_to_year)
    units = _unit_names(con, registry) if units is None else units
    names = units.select("unit_id", "unit_name")
    return frame.join(names, on="unit_id", how="left")


def validation(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    return con.execute(
        "SELECT level, suite, expectation, success, blocking, description, unexpected_count, "
        "unexpected_examples FROM validation_results WHERE year = ? ORDER BY level, suite, "
        "expectation",
        [year],
    ).pl()


def year_data(
    con: duckdb.DuckDBPyConnection,
    year: int,
    preset_id: str,
    preset_name: str,
    levels: list[str],
    method: str,
    methods: tuple[str, ...],
    decision: str | None = None,
) -> YearData:
    """The report's content for ``year`` (levels in the preset's order; levels without a
    snapshot are left out). ``decision``: the preset's decision, named by the banner of a level
    whose components are assumed."""
    # One read of the registry's units for every level and the history.
    units = _unit_names(con, preset_id)
    found = [level_data(con, year, level, method, preset_id, methods, units) for level in levels]
    present = [x for x in found if x is not None]
    if not present:
        raise LookupError(f"no {method} snapshot for {year}: run the yearly job first")
    for found_level in present:
        found_level.assumed = assumed_components(
            con, found_level.snapshot["framework_hash"], found_level.level, decision
        )
        found_level.acceptance = acceptance_of(con, found_level.snapshot["snapshot_id"])
    return YearData(
        year=year,
        preset_id=preset_id,
        preset_name=nfc(preset_name),
        method=method,
        levels=present,
        history=history(con, year, method, preset_id, units),
        provenance=provenance(con, year),
        validation=validation(con, year),
        years_available=[y for y in snapshot_years(con, method) if y <= year],
    )
