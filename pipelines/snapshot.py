"""Immutable yearly snapshots: what was scored, how, from which data, by which code.

A snapshot's id is the hash of everything that determines its content (year, level, method and
parameters, framework hash, input hash, code version). Taking a snapshot twice with the same
inputs finds the existing one and adds nothing; different inputs give a new snapshot version,
and the old one stays. A published snapshot is never modified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.preset import Preset
from pipelines.scoring.methods import MethodSpec
from pipelines.version import code_version
from pipelines.warehouse import insert_frame, transaction

SNAPSHOT_SCORE_COLUMNS = [
    "group_id",
    "unit_id",
    "node_id",
    "node_level",
    "points",
    "max_points",
    "ratio",
    "z",
    "rank",
    "class_label",
    "n_missing",
]


class SnapshotIntegrityError(RuntimeError):
    """The same inputs produced different scores: the computation is not deterministic."""


class PublishedSnapshotError(RuntimeError):
    """An attempt to change a published snapshot."""


@dataclass(frozen=True)
class SnapshotRecord:
    snapshot_id: str
    year: int
    level: str
    method: str
    n_units: int
    created: bool  # False when an identical snapshot already existed


def frame_hash(frame: pl.DataFrame, sort_by: list[str]) -> str:
    """A stable hash of a frame's content (rows sorted, floats at 9 decimals)."""
    stable = frame.sort(sort_by).with_columns(pl.col(pl.Float64).round(9))
    digest = hashlib.sha256()
    digest.update(json.dumps(stable.columns).encode())
    for row in stable.iter_rows():
        digest.update(json.dumps(row, default=str, ensure_ascii=False).encode())
    return digest.hexdigest()


def _input_hash(con: duckdb.DuckDBPyConnection, year: int, level: str, units: pl.DataFrame) -> str:
    observations = con.execute(
        "SELECT unit_id, indicator_id, value FROM observations WHERE year = ? AND level = ?",
        [year, level],
    ).pl()
    return hashlib.sha256(
        (
            frame_hash(observations, ["unit_id", "indicator_id"])
            + frame_hash(units.select("unit_id", "group_id"), ["unit_id"])
        ).encode()
    ).hexdigest()


def take_snapshots(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int
) -> list[SnapshotRecord]:
    """Snapshot every level and method of ``year`` from the current scores."""
    from pipelines.scoring.stages import scored_units

    records = []
    for level in preset.levels:
        framework = preset.framework(level)
        units = scored_units(preset, level, year)
        input_hash = _input_hash(con, year, level, units)
        for method in preset.methods:
            params = {
                **MethodSpec(method).params(),
                "preset": preset.id,
                "comparison_group": preset.levels[level].comparison_group,
            }
            identity = {
                "year": year,
                "level": level,
                "method": method,
                "params": params,
                "framework_hash": framework.content_hash(),
                "input_hash": input_hash,
                "code_version": code_version(),
            }
            snapshot_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[
                :24
            ]
            rows = con.execute(
                f"SELECT {', '.join(SNAPSHOT_SCORE_COLUMNS)} FROM scores "
                "WHERE year = ? AND level = ? AND method = ?",
                [year, level, method],
            ).pl()
            content_hash = frame_hash(rows, ["unit_id", "node_id"])
            existing = con.execute(
                "SELECT content_hash FROM snapshots WHERE snapshot_id = ?", [snapshot_id]
            ).fetchone()
            if existing is not None:
                if existing[0] != content_hash:
                    raise SnapshotIntegrityError(
                        f"snapshot {snapshot_id} ({year} {level} {method}): the same inputs now "
                        "give different scores"
                    )
                records.append(
                    SnapshotRecord(snapshot_id, year, level, method, units.height, created=False)
                )
                continue
            header = pl.DataFrame(
                [
                    {
                        **{
                            k: identity[k]
                            for k in (
                                "year",
                                "level",
                                "method",
                                "framework_hash",
                                "input_hash",
                                "code_version",
                            )
                        },
                        "snapshot_id": snapshot_id,
                        "params_json": json.dumps(params, sort_keys=True),
                        "framework_id": framework.id,
                        "framework_version": framework.version,
                        "content_hash": content_hash,
                        "n_units": units.height,
                        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    }
                ]
            )
            with transaction(con):
                insert_frame(con, "snapshots", header)
                insert_frame(
                    con,
                    "snapshot_scores",
                    rows.with_columns(pl.lit(snapshot_id).alias("snapshot_id")),
                )
            records.append(SnapshotRecord(snapshot_id, year, level, method, units.height, True))
    return records


def publish_snapshot(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> None:
    """Mark a snapshot as published (once); publishing again is refused."""
    row = con.execute(
        "SELECT published_at FROM snapshots WHERE snapshot_id = ?", [snapshot_id]
    ).fetchone()
    if row is None:
        raise KeyError(f"no snapshot {snapshot_id}")
    if row[0] is not None:
        raise PublishedSnapshotError(f"snapshot {snapshot_id} was already published at {row[0]}")
    con.execute(
        "UPDATE snapshots SET published_at = ? WHERE snapshot_id = ?",
        [dt.datetime.now(dt.UTC).replace(tzinfo=None), snapshot_id],
    )
