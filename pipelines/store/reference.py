"""Reference data into the warehouse: the unit registry and the framework versions in use."""

from __future__ import annotations

import json

import duckdb
import polars as pl

from pipelines.framework.model import Framework
from pipelines.framework.preset import Preset
from pipelines.store.warehouse import insert_missing, replace_rows


def store_units(con: duckdb.DuckDBPyConnection, preset: Preset) -> int:
    """Replace the registry's units (the CSV is the source of truth)."""
    return replace_rows(con, "units", preset.registry, {"registry": preset.id})


def store_framework(con: duckdb.DuckDBPyConnection, framework: Framework) -> str:
    """Record a framework version and its nodes once, keyed by its content hash."""
    digest = framework.content_hash()
    version = pl.DataFrame(
        [
            {
                "framework_hash": digest,
                "framework_id": framework.id,
                "version": framework.version,
                "name": framework.name,
                "level": framework.level,
                "scale": framework.scale,
                "valid_from": framework.valid_from,
                "valid_to": framework.valid_to,
                "source_json": json.dumps(framework.source, ensure_ascii=False, default=str),
                "findings_json": json.dumps(framework.findings, ensure_ascii=False),
                "notes_json": json.dumps(framework.notes, ensure_ascii=False),
                "origin": framework.origin,
            }
        ]
    )
    insert_missing(con, "framework_versions", version, ["framework_hash"])
    nodes = framework.nodes_frame().with_columns(pl.lit(digest).alias("framework_hash"))
    insert_missing(con, "framework_nodes", nodes, ["framework_hash", "node_id"])
    return digest


def store_reference(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> dict[str, str]:
    """Units, and the framework version each level uses in ``year``; returns level → hash."""
    store_units(con, preset)
    hashes = {}
    for level in preset.levels:
        framework = preset.framework(level)
        if not framework.valid_for(year):
            raise ValueError(
                f"{framework.origin}: framework {framework.id} is valid for "
                f"{framework.valid_from}–{framework.valid_to}, not for {year}"
            )
        hashes[level] = store_framework(con, framework)
    used = pl.DataFrame(
        [{"year": year, "level": level, "framework_hash": h} for level, h in hashes.items()]
    )
    replace_rows(con, "year_frameworks", used, {"year": year})
    return hashes
