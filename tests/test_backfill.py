"""Backfill (pipelines/evaluate/backfill.py): every year recomputed with one framework as NEW
snapshot
versions; published snapshots, earlier snapshots and the live tables are never touched."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from analysis_support import TINY, analysis_warehouse, copy_of

from pipelines.analysis.trend_series import series_from_warehouse
from pipelines.analysis.trends import trends
from pipelines.evaluate.backfill import backfill, with_version
from pipelines.framework.preset import load_preset
from pipelines.publish.snapshot import publish_snapshot
from pipelines.store.warehouse import session


@pytest.fixture
def warehouse(tmp_path_factory, tmp_path):
    return copy_of(analysis_warehouse(tmp_path_factory), tmp_path)


def _snapshot_state(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    headers = con.execute("SELECT * FROM snapshots ORDER BY snapshot_id").pl()
    scores = con.execute(
        "SELECT * FROM snapshot_scores ORDER BY snapshot_id, unit_id, node_id"
    ).pl()
    return headers, scores


def test_backfill_writes_new_versions_and_never_touches_published_ones(warehouse):
    preset = load_preset(TINY)
    revised = with_version(preset.framework("department"), "TEST/2025 (revised)")
    with session(warehouse) as con:
        published = con.execute(
            "SELECT snapshot_id FROM snapshots WHERE year = 2023 AND level = 'department' "
            "AND method = 'minmax'"
        ).fetchone()[0]
        publish_snapshot(con, published)
        before_headers, before_scores = _snapshot_state(con)
        live_before = con.execute("SELECT count(*), sum(points) FROM node_scores").fetchone()
        frameworks_before = con.execute("SELECT * FROM year_frameworks ORDER BY ALL").fetchall()

        records = backfill(con, preset, {"department": revised})

        after_headers, after_scores = _snapshot_state(con)
        live_after = con.execute("SELECT count(*), sum(points) FROM node_scores").fetchone()
        frameworks_after = con.execute("SELECT * FROM year_frameworks ORDER BY ALL").fetchall()
        logged = con.execute("SELECT count(*) FROM backfill_runs WHERE created").fetchone()[0]
    assert len(records) == 2 * 3 and all(r.created for r in records)  # 2 years × 3 methods
    assert {r.framework_hash for r in records} == {revised.content_hash()}
    # every snapshot that existed — the published one first of all — is bit for bit the same
    before_ids = before_headers["snapshot_id"].implode()
    kept = after_headers.filter(pl.col("snapshot_id").is_in(before_ids))
    assert kept.equals(before_headers)
    old_scores = after_scores.filter(pl.col("snapshot_id").is_in(before_ids))
    assert old_scores.equals(before_scores)
    assert kept.filter(pl.col("snapshot_id") == published)["published_at"][0] is not None
    assert after_headers.height == before_headers.height + 6
    # live scores and the record of which framework each year was scored with: untouched
    assert live_after == live_before and frameworks_after == frameworks_before
    assert logged == 6


def test_the_same_framework_adds_nothing_and_reports_the_published_snapshot(warehouse):
    preset = load_preset(TINY)
    with session(warehouse) as con:
        published = con.execute(
            "SELECT snapshot_id FROM snapshots WHERE year = 2024 AND level = 'commune' "
            "AND method = 'points'"
        ).fetchone()[0]
        publish_snapshot(con, published)
        count = con.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        records = backfill(con, preset, {"commune": preset.framework("commune")})
        assert con.execute("SELECT count(*) FROM snapshots").fetchone()[0] == count
    # the ids are take_snapshots' own: same framework, same inputs → the existing snapshots
    assert not any(r.created for r in records)
    assert [r.snapshot_id for r in records if r.published] == [published]


def test_backfilled_scores_equal_the_original_when_only_the_label_changed(warehouse):
    preset = load_preset(TINY)
    revised = with_version(preset.framework("commune"), "relabelled")
    with session(warehouse) as con:
        records = backfill(con, preset, {"commune": revised}, years=[2024])
        rows = con.execute(
            "SELECT s.method, s.framework_hash = ? AS backfilled, s.content_hash "
            "FROM snapshots AS s WHERE s.year = 2024 AND s.level = 'commune'",
            [revised.content_hash()],
        ).pl()
    assert {r.year for r in records} == {2024}
    for method in ("points", "minmax", "zscore"):
        part = rows.filter(pl.col("method") == method)
        assert part.height == 2 and part["content_hash"].n_unique() == 1


def test_trends_warn_where_the_latest_snapshots_use_different_frameworks(warehouse):
    preset = load_preset(TINY)
    revised = with_version(preset.framework("department"), "TEST/2024 (revised)")
    with session(warehouse) as con:
        backfill(con, preset, {"department": revised}, years=[2024])
    result = trends(*series_from_warehouse(warehouse=warehouse, preset=TINY))
    warned = result.warnings.filter(pl.col("kind") == "framework_changed")
    assert warned.select("level", "year_from", "year_to").rows() == [("department", 2023, 2024)]
    assert result.changes.filter(pl.col("level") == "department")["framework_changed"].all()
    # reading only the revised framework's snapshots: one year, no mixed rulers
    one = series_from_warehouse(
        levels=["department"],
        framework_hash=revised.content_hash(),
        warehouse=warehouse,
        preset=TINY,
    )
    assert one[0]["year"].unique().to_list() == [2024]
