"""Backfill: recompute every year with one framework, as new snapshot versions.

Frameworks change between years, so a trend over several years may compare different rulers.
:func:`backfill` scores each year's validated ``observations`` of a level with **one chosen
framework** (a YAML file or COINr iMeta, typically the current year's) under the preset's
methods and settings — per-unit rules, the appraiser's points under ``points``, pooled or
reference-year bounds read from the warehouse as the yearly stages read them — and writes the
result as **new snapshots** (``snapshots`` + ``snapshot_scores``), exactly as
``pipelines.publish.snapshot.take_snapshots`` identifies them: the id hashes year, level, method,
parameters, framework hash, input hash and code version.

Guarantees:

* nothing is ever updated or deleted: a snapshot whose id already exists (e.g. the year was
  scored with that very framework, or the backfill ran before) is left alone and reported as not
  created — **published snapshots (``published_at`` not null) are never touched**;
* the live tables (``leaf_scores``, ``node_scores``, ``ranks``) and ``year_frameworks`` (which
  framework each year *was* scored with) are not modified; the chosen framework's version is
  recorded in ``framework_versions``/``framework_nodes`` if new (insert only);
* every snapshot written is listed in ``backfill_runs`` with the framework file, how many of the
  framework's indicators the year's observations lack, and how many observed indicators the
  framework does not have (those are ignored, which the row says).

A backfilled snapshot is newer than the year's own, so ``latest_snapshots`` (and a report
built from it) shows it; ``dti trends --framework-hash`` reads exactly the snapshots of one
framework.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.evaluate.recipe import LevelRecipe, score_level
from pipelines.framework.model import Framework
from pipelines.framework.preset import Preset
from pipelines.publish.snapshot import (
    SNAPSHOT_SCORE_COLUMNS,
    _input_hash,
    frame_hash,
    run_params,
    snapshot_header,
    store_snapshots,
)
from pipelines.publish.version import code_version
from pipelines.scoring.normalise import reads_other_years
from pipelines.scoring.rank import effective_reading
from pipelines.store.warehouse import insert_frame


@dataclass(frozen=True)
class BackfillRecord:
    snapshot_id: str
    year: int
    level: str
    method: str
    framework_id: str
    framework_version: str
    framework_hash: str
    framework_origin: str
    n_units: int
    absent_leaves: int  # the framework's indicators without any observation that year
    unmatched_indicators: int  # observed indicators the framework does not have (ignored)
    created: bool  # False: an identical snapshot existed (maybe published): left untouched
    published: bool  # the existing snapshot with this id is published


def years_of_level(con: duckdb.DuckDBPyConnection, level: str) -> list[int]:
    return [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT year FROM observations WHERE level = ? ORDER BY year", [level]
        ).fetchall()
    ]


def score_year(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    framework: Framework,
    year: int,
    level: str,
    method: str,
) -> pl.DataFrame:
    """The year and level scored with ``framework`` under the preset's settings of ``method``:
    the snapshot's score rows (``SNAPSHOT_SCORE_COLUMNS``)."""
    from pipelines.evaluate.appraisal import points_overrides
    from pipelines.evaluate.stages import history_values, scored_units

    spec = preset.method_spec(method)
    values = con.execute(
        "SELECT unit_id, year, indicator_id AS node_id, value FROM observations "
        "WHERE year = ? AND level = ?",
        [year, level],
    ).pl()
    units = scored_units(preset, level, year)
    history = history_values(con, preset, level, year, spec, framework)
    recipe = LevelRecipe.of(preset, level, framework)
    overrides = points_overrides(con, year, level)
    ((_, scores),) = score_level(values, units, recipe, {method: spec}, overrides, history)
    return scores.select(SNAPSHOT_SCORE_COLUMNS)


def backfill(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    frameworks: dict[str, Framework],
    years: list[int] | None = None,
    methods: tuple[str, ...] | None = None,
) -> list[BackfillRecord]:
    """Score every year (or ``years``) of each level in ``frameworks`` with that framework and
    write new snapshot versions (module docstring)."""
    from pipelines.evaluate.stages import scored_units
    from pipelines.store.reference import store_framework

    methods = methods or preset.methods
    requested = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    records: list[BackfillRecord] = []
    for level, framework in frameworks.items():
        if level not in preset.levels:
            raise ValueError(f"preset {preset.id} has no level {level!r}")
        framework_hash = store_framework(con, framework)
        leaves = set(framework.leaf_ids())
        available = years_of_level(con, level)
        for year in [y for y in available if years is None or y in years]:
            observed = {
                row[0]
                for row in con.execute(
                    "SELECT DISTINCT indicator_id FROM observations WHERE year = ? AND level = ?",
                    [year, level],
                ).fetchall()
            }
            units = scored_units(preset, level, year)
            pooled = any(reads_other_years(preset.method_spec(m), framework) for m in methods)
            input_hash = _input_hash(con, year, level, units, all_years=pooled)
            for method in methods:
                params = {
                    **run_params(preset, level, method),
                    "classification_reading": effective_reading(
                        framework, preset.classification_reading
                    ),
                    "node_normalisation": framework.normalisation_params(),
                }
                identity = {
                    "year": year,
                    "level": level,
                    "method": method,
                    "params": params,
                    "framework_hash": framework_hash,
                    "input_hash": input_hash,
                    "code_version": code_version(),
                }
                snapshot_id = hashlib.sha256(
                    json.dumps(identity, sort_keys=True).encode()
                ).hexdigest()[:24]
                existing = con.execute(
                    "SELECT published_at FROM snapshots WHERE snapshot_id = ?", [snapshot_id]
                ).fetchone()
                record = BackfillRecord(
                    snapshot_id=snapshot_id,
                    year=year,
                    level=level,
                    method=method,
                    framework_id=framework.id,
                    framework_version=framework.version,
                    framework_hash=framework_hash,
                    framework_origin=str(framework.origin),
                    n_units=units.height,
                    absent_leaves=len(leaves - observed),
                    unmatched_indicators=len(observed - leaves),
                    created=existing is None,
                    published=existing is not None and existing[0] is not None,
                )
                if existing is None:
                    _write_snapshot(
                        con, preset, framework, identity, snapshot_id, params, units.height
                    )
                records.append(record)
                _record(con, record, requested)
    return records


def _write_snapshot(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    framework: Framework,
    identity: dict,
    snapshot_id: str,
    params: dict,
    n_units: int,
) -> None:
    rows = score_year(
        con, preset, framework, identity["year"], identity["level"], identity["method"]
    )
    header = snapshot_header(
        identity,
        snapshot_id,
        params,
        framework,
        frame_hash(rows, ["unit_id", "node_id"]),
        n_units,
    )
    store_snapshots(con, [(header, rows.with_columns(pl.lit(snapshot_id).alias("snapshot_id")))])


def _record(con: duckdb.DuckDBPyConnection, record: BackfillRecord, requested: dt.datetime) -> None:
    row = pl.DataFrame([{**asdict(record), "requested_at": requested}])
    con.execute(
        "DELETE FROM backfill_runs WHERE snapshot_id = ? AND requested_at = ?",
        [record.snapshot_id, requested],
    )
    insert_frame(con, "backfill_runs", row)


def frameworks_from_spec(
    preset: Preset, spec: dict[str, str | Path | None]
) -> dict[str, Framework]:
    """``{level: path or None}`` → frameworks (None: the preset's own for that level)."""
    from pipelines.analysis.datafiles import read_framework_file

    return {
        level: read_framework_file(path) if path else preset.framework(level)
        for level, path in spec.items()
    }


def records_frame(records: list[BackfillRecord]) -> pl.DataFrame:
    if not records:
        return pl.DataFrame(schema={f: pl.String for f in BackfillRecord.__dataclass_fields__})
    return pl.DataFrame([asdict(r) for r in records])


def with_version(framework: Framework, version: str) -> Framework:
    """The same framework under another version label (a new content hash): what a revised
    decision looks like to the backfill when only its label changed (tests, notebook)."""
    from pipelines.framework.from_mapping import framework_from_mapping
    from pipelines.framework.to_mapping import framework_to_mapping

    mapping = framework_to_mapping(framework)
    mapping["version"] = version
    return framework_from_mapping(mapping, origin=f"{framework.origin} (version {version})")
