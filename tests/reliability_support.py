"""Helpers of the reliability tests: run the yearly stages without Dagster, check a
warehouse's consistency, and a child-process entry point the crash tests kill.

``python tests/reliability_support.py score WAREHOUSE PRESET YEAR`` runs the scoring stages
(component → pillar → rank → snapshot) of YEAR in its own process and prints ``done``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import polars as pl

HERE = Path(__file__).resolve().parent
TINY6 = HERE / "fixtures_scale" / "presets" / "tiny6.yaml"
# The assets of the annual job, in their order (the reliability tests materialise these)
ANNUAL_ASSETS = (
    "reference_data",
    "raw_submissions",
    "validated_observations",
    "component_scores",
    "pillar_scores",
    "unit_ranks",
    "year_snapshot",
    "update_periods",
)


def intake_year(con: duckdb.DuckDBPyConnection, preset, year: int, inbox: Path, archive: Path):
    """Reference data, ingest and validation of a year (the stages before scoring)."""
    from pipelines.intake.ingest import ingest_year
    from pipelines.store.reference import store_reference
    from pipelines.validate.observations import build_observations

    store_reference(con, preset, year)
    ingest_year(con, preset, year, inbox, archive)
    build_observations(con, preset, year)


def score_year(con: duckdb.DuckDBPyConnection, preset, year: int) -> list:
    """The scoring stages and the snapshot of a year, as the annual job runs them."""
    from pipelines.evaluate.stages import compute_leaf_scores, compute_node_scores, compute_ranks
    from pipelines.publish.snapshot import take_snapshots

    compute_leaf_scores(con, preset, year)
    compute_node_scores(con, preset, year)
    compute_ranks(con, preset, year)
    return take_snapshots(con, preset, year)


def scored_once(home: Path, preset, year: int) -> tuple[Path, Path, Path, list]:
    """A warehouse ``home/base.duckdb`` with ``year`` of ``preset``'s demo ingested, validated and
    scored once; returns it (closed), the inbox, the archive and the snapshot records."""
    from pipelines.intake.demo import write_demo_submissions
    from pipelines.store.warehouse import connect

    inbox, archive = home / "inbox", home / "archive"
    write_demo_submissions(preset, inbox, [year])
    path = home / "base.duckdb"
    con = connect(path)
    try:
        intake_year(con, preset, year, inbox, archive)
        records = score_year(con, preset, year)
    finally:
        con.close()
    return path, inbox, archive, records


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (for before/after comparisons)."""
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in base_tables(con)}


def duplicated_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Tables holding a row more than once (identical in every column): table → extra rows."""
    found = {}
    for table in base_tables(con):
        total, distinct = con.execute(
            f"SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM "
            f"(SELECT DISTINCT * FROM {table}))"
        ).fetchone()
        if total != distinct:
            found[table] = total - distinct
    return found


def _expected(preset, year: int) -> dict[str, dict[tuple[str, str], int]]:
    from pipelines.evaluate.stages import scored_units

    leaves, nodes = {}, {}
    for level in preset.levels:
        framework = preset.framework(level)
        n_units = scored_units(preset, level, year).height
        for method in preset.methods:
            leaves[(level, method)] = n_units * len(framework.leaves())
            nodes[(level, method)] = n_units * len(framework.nodes)
    return {"leaf_scores": leaves, "node_scores": nodes, "ranks": nodes}


def problems(
    con: duckdb.DuckDBPyConnection, preset, year: int, levels_change_together: bool = True
) -> list[str]:
    """What a crash could have left half done in ``year``; empty when nothing:

    - a snapshot whose rows are missing or do not give its content hash (half a snapshot), or
      rows without their snapshot;
    - a scoring whose snapshots are only partly written (some methods of a level, not all; with
      ``levels_change_together``, some levels and not the others);
    - a stage table holding part of a year (not every unit × node × method of every level).
    """
    from pipelines.publish.snapshot import verify_snapshots

    found = []
    bad = verify_snapshots(con)
    if bad:
        found.append(f"snapshots whose rows do not match their content hash: {bad}")
    orphans = con.execute(
        "SELECT count(*) FROM snapshot_scores WHERE snapshot_id NOT IN "
        "(SELECT snapshot_id FROM snapshots)"
    ).fetchone()[0]
    if orphans:
        found.append(f"{orphans} snapshot rows without their snapshot")
    empty = con.execute(
        "SELECT snapshot_id FROM snapshots WHERE snapshot_id NOT IN "
        "(SELECT snapshot_id FROM snapshot_scores)"
    ).fetchall()
    if empty:
        found.append(f"snapshots without rows: {[r[0] for r in empty]}")
    # every scoring of a level (one input hash, one code version) has all its method snapshots
    scorings = con.execute(
        "SELECT level, input_hash, code_version, count(*) FROM snapshots WHERE year = ? "
        "GROUP BY ALL",
        [year],
    ).fetchall()
    for level, _, _, count in scorings:
        if count != len(preset.methods):
            found.append(f"{year} {level}: {count} of {len(preset.methods)} method snapshots")
    # all levels of a scoring pass are written together: as many scorings per level
    per_level = {}
    for level, *_ in scorings:
        per_level[level] = per_level.get(level, 0) + 1
    if levels_change_together and len(set(per_level.values())) > 1:
        found.append(f"{year}: levels snapshotted unevenly {per_level} (half a year)")
    for table, wanted in _expected(preset, year).items():
        got = dict(
            ((level, method), n)
            for level, method, n in con.execute(
                f"SELECT level, method, count(*) FROM {table} WHERE year = ? GROUP BY ALL",
                [year],
            ).fetchall()
        )
        if got and got != wanted:
            found.append(f"{table} {year}: partial year {got} (expected {wanted})")
    return found


def latest_snapshot_rows(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    return con.execute(
        "SELECT snapshot_id, level, method, content_hash, input_hash FROM snapshots "
        "WHERE year = ? ORDER BY ALL",
        [year],
    ).pl()


def _main(argv: list[str]) -> int:
    command, warehouse, preset_path, year = argv[0], argv[1], argv[2], int(argv[3])
    from pipelines.framework.preset import load_preset
    from pipelines.store.warehouse import session

    preset = load_preset(preset_path)
    if command != "score":
        raise SystemExit(f"unknown command {command}")
    with session(warehouse) as con:
        score_year(con, preset, year)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
