"""Immutable yearly snapshots: what was scored, how, from which data, by which code.

A snapshot's id is the hash of everything that determines its content (year, level, method and
parameters, framework hash, input hash, code version). Taking a snapshot twice with the same
inputs finds the existing one and adds nothing; different inputs give a new snapshot version,
and the old one stays. Versions are numbered per year, level and method in creation order
(view ``snapshot_versions``).

Publication (``dti publish YEAR --level L``) marks a version as the published result, once: its
content hash is verified first, publishing it again is refused with
:class:`PublishedSnapshotError`, and its rows can never be deleted or added to (the warehouse's
write paths refuse, :mod:`pipelines.store.warehouse`). Rescoring a published year writes a new
version
beside it; publishing that one is a republication (``published_version`` 2, 3, …).
All snapshots of a year are written in one transaction: a killed run leaves none of them half
written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.framework.model import Framework
from pipelines.framework.preset import Preset
from pipelines.publish.version import code_version
from pipelines.scoring.normalise import reads_other_years
from pipelines.scoring.rank import effective_reading
from pipelines.store.warehouse import PublishedSnapshotError, insert_frame, transaction

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
    # one encoder for every row (json.dumps with options builds one per call), fed to the digest
    # 10,000 rows at a time: the same digest as row by row, in bounded memory
    encoded = map(json.JSONEncoder(default=str, ensure_ascii=False).encode, stable.iter_rows())
    while chunk := "".join(itertools.islice(encoded, 10_000)):
        digest.update(chunk.encode())
    return digest.hexdigest()


def _input_hash(
    con: duckdb.DuckDBPyConnection,
    year: int,
    level: str,
    units: pl.DataFrame,
    all_years: bool = False,
) -> str:
    """Hash of the observations scored (every year of the level when the bounds pool years) and
    of the units with their comparison group and the registry flags the rules read."""
    if all_years:
        observations = con.execute(
            "SELECT year, unit_id, indicator_id, value, appraised_points FROM observations "
            "WHERE level = ?",
            [level],
        ).pl()
        keys = ["year", "unit_id", "indicator_id"]
    else:
        observations = con.execute(
            "SELECT unit_id, indicator_id, value, appraised_points FROM observations "
            "WHERE year = ? AND level = ?",
            [year, level],
        ).pl()
        keys = ["unit_id", "indicator_id"]
    unit_columns = [
        c
        for c in ("unit_id", "group_id", "has_subordinates", "has_dvctt", "is_special")
        if c in units.columns
    ]
    return hashlib.sha256(
        (
            frame_hash(observations, keys) + frame_hash(units.select(unit_columns), ["unit_id"])
        ).encode()
    ).hexdigest()


def _lineage_params(preset: Preset) -> dict | None:
    if preset.lineage_path is None:
        return None
    return {
        "file": preset.lineage_path.name,
        "sha256": hashlib.sha256(preset.lineage_path.read_bytes()).hexdigest(),
    }


def run_params(preset: Preset, level: str, method: str) -> dict:
    """Everything about how a level and method were scored (``snapshots.params_json``): the
    method settings (missing-data rule, bounds, z-score mode …), the per-unit rules, the
    classification reading actually used, the lineage file, the comparison grouping, and the
    normalisation each node of the framework declares for the leaves below it (node id →
    ``{method, goalposts}``; empty when every leaf follows the run's method)."""
    return {
        **preset.method_spec(method).params(),
        "node_normalisation": preset.framework(level).normalisation_params(),
        "preset": preset.id,
        "comparison_group": preset.levels[level].comparison_group,
        "rules": preset.rules.params(),
        "classification_reading": effective_reading(
            preset.framework(level), preset.classification_reading
        ),
        "lineage": _lineage_params(preset),
    }


def take_snapshots(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int
) -> list[SnapshotRecord]:
    """Snapshot every level and method of ``year`` from the current scores (of the levels
    scored: a level no file was accepted for yet has none)."""
    from pipelines.evaluate.stages import scored_units
    from pipelines.validate.observations import scorable_levels

    records = []
    pending: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    for level in scorable_levels(con, preset, year) or list(preset.levels):
        framework = preset.framework(level)
        units = scored_units(preset, level, year)
        pooled = any(reads_other_years(preset.method_spec(m), framework) for m in preset.methods)
        input_hash = _input_hash(con, year, level, units, all_years=pooled)
        for method in preset.methods:
            params = run_params(preset, level, method)
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
            header = snapshot_header(
                identity, snapshot_id, params, framework, content_hash, units.height
            )
            pending.append((header, rows.with_columns(pl.lit(snapshot_id).alias("snapshot_id"))))
            records.append(SnapshotRecord(snapshot_id, year, level, method, units.height, True))
    store_snapshots(con, pending)
    return records


IDENTITY_COLUMNS = ("year", "level", "method", "framework_hash", "input_hash", "code_version")


def snapshot_header(
    identity: dict,
    snapshot_id: str,
    params: dict,
    framework: Framework,
    content_hash: str,
    n_units: int,
) -> pl.DataFrame:
    """The ``snapshots`` row of a new snapshot."""
    return pl.DataFrame(
        [
            {
                **{k: identity[k] for k in IDENTITY_COLUMNS},
                "snapshot_id": snapshot_id,
                "params_json": json.dumps(params, sort_keys=True),
                "framework_id": framework.id,
                "framework_version": framework.version,
                "content_hash": content_hash,
                "n_units": n_units,
                "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            }
        ]
    )


def store_snapshots(
    con: duckdb.DuckDBPyConnection, pending: list[tuple[pl.DataFrame, pl.DataFrame]]
) -> None:
    """New snapshots (header, rows with their ``snapshot_id``), all in one commit: a run stopped
    half-way leaves none of them."""
    if not pending:
        return
    with transaction(con, label="snapshots"):
        for header, rows in pending:
            insert_frame(con, "snapshots", header)
            insert_frame(con, "snapshot_scores", rows)


def snapshot_content_hash(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> str:
    """The content hash of a snapshot's stored rows (as computed when it was taken)."""
    rows = con.execute(
        f"SELECT {', '.join(SNAPSHOT_SCORE_COLUMNS)} FROM snapshot_scores WHERE snapshot_id = ?",
        [snapshot_id],
    ).pl()
    return frame_hash(rows, ["unit_id", "node_id"])


def verify_snapshots(
    con: duckdb.DuckDBPyConnection, snapshot_ids: list[str] | None = None, published_only=False
) -> list[str]:
    """Snapshots whose stored rows no longer give their recorded content hash (empty: intact)."""
    query = "SELECT snapshot_id, content_hash FROM snapshots"
    if published_only:
        query += " WHERE published_at IS NOT NULL"
    wanted = None if snapshot_ids is None else set(snapshot_ids)
    return [
        sid
        for sid, recorded in con.execute(query + " ORDER BY snapshot_id").fetchall()
        if (wanted is None or sid in wanted) and snapshot_content_hash(con, sid) != recorded
    ]


@dataclass(frozen=True)
class Publication:
    snapshot_id: str
    year: int
    level: str
    method: str
    version: int  # the snapshot's version among those of its year, level and method
    published_version: int  # 1 for the first publication, 2 for a republication …
    published_at: dt.datetime


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: str,
    accepted_by: str | None = None,
    reason: str | None = None,
) -> Publication:
    """Mark a snapshot as published (once), after checking its rows against its content hash;
    publishing a published snapshot again is refused. A snapshot whose framework has assumed
    components (not from the decision) is published only with an officer's acceptance
    (``accepted_by`` and ``reason``), recorded in ``assumed_acceptances`` with the publication;
    without one :class:`~pipelines.framework.assumed.AssumedNotAcceptedError` is raised."""
    from pipelines.framework.assumed import (
        AssumedNotAcceptedError,
        record_acceptance,
        refusal_text,
        snapshot_assumed,
    )

    row = con.execute(
        "SELECT published_at, year, level, method FROM snapshots WHERE snapshot_id = ?",
        [snapshot_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"no snapshot {snapshot_id}")
    if row[0] is not None:
        version = _versions(con, snapshot_id)
        raise PublishedSnapshotError(
            f"snapshot {snapshot_id} ({row[1]} {row[2]} {row[3]}, version {version[0]}) was "
            f"already published at {row[0]:%Y-%m-%d %H:%M:%S} UTC as published version "
            f"{version[1]}; a published snapshot cannot be published again or overwritten — "
            "rescore the year with the corrected inputs to create a new version, then publish it"
        )
    if verify_snapshots(con, [snapshot_id]):
        raise SnapshotIntegrityError(
            f"snapshot {snapshot_id}: its stored rows do not match its content hash; not published"
        )
    assumed = snapshot_assumed(con, snapshot_id)
    accepted = bool((accepted_by or "").strip() and (reason or "").strip())
    if assumed.any_assumed and not accepted:
        raise AssumedNotAcceptedError(refusal_text(assumed, row[1]))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(con, label="publish"):
        con.execute(
            "UPDATE snapshots SET published_at = ? WHERE snapshot_id = ? AND published_at IS NULL",
            [now, snapshot_id],
        )
        if assumed.any_assumed:
            record_acceptance(con, snapshot_id, assumed, accepted_by or "", reason or "", now)
    version, published = _versions(con, snapshot_id)
    return Publication(snapshot_id, row[1], row[2], row[3], version, published, now)


def _versions(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> tuple[int, int | None]:
    return con.execute(
        "SELECT version, published_version FROM snapshot_versions WHERE snapshot_id = ?",
        [snapshot_id],
    ).fetchone()


def latest_snapshot_ids(
    con: duckdb.DuckDBPyConnection, year: int, level: str, methods: list[str] | None = None
) -> list[str]:
    """The newest snapshot of each method of a year and level."""
    rows = con.execute(
        "SELECT method, snapshot_id FROM snapshot_versions WHERE year = ? AND level = ? "
        "QUALIFY row_number() OVER (PARTITION BY method ORDER BY version DESC) = 1 "
        "ORDER BY method",
        [year, level],
    ).fetchall()
    return [sid for method, sid in rows if methods is None or method in methods]
