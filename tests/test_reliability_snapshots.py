"""Published snapshots: a published snapshot cannot be overwritten — every write path
refuses, trying again gives a clear error —, rescoring a published year writes a new version
beside it, and publishing that one is a republication (published version 2)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
import reliability_support as support
from click.testing import CliRunner

from dti_cli.main import cli
from pipelines.framework.preset import load_preset
from pipelines.intake.demo import write_demo_submissions
from pipelines.publish.snapshot import (
    PublishedSnapshotError,
    frame_hash,
    latest_snapshot_ids,
    publish_snapshot,
    verify_snapshots,
)
from pipelines.store.warehouse import connect, delete_rows, insert_frame, replace_rows

YEAR = 2024


def test_the_content_hash_is_sha256_of_the_sorted_rows_as_json() -> None:
    """Stored snapshots are verified against this definition (``dti verify-snapshots``), so it
    must not drift: the column names, then each row sorted by the key, floats at 9 decimals, as JSON
    (UTF-8, not escaped), one after another."""
    frame = pl.DataFrame(
        {
            "unit_id": ["b", "a"],
            "name": ["Xã Ea Tam", None],
            "points": [2.0000000004, 1 / 3],
            "rank": [2, 1],
        }
    )
    by_hand = (
        '["unit_id", "name", "points", "rank"]["a", null, 0.333333333, 1]["b", "Xã Ea Tam", 2.0, 2]'
    )
    assert frame_hash(frame, ["unit_id"]) == hashlib.sha256(by_hand.encode()).hexdigest()


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A closed warehouse with 2024 of the six-year tiny preset scored once; its inbox."""
    home = tmp_path_factory.mktemp("published")
    path, inbox, archive, _ = support.scored_once(home, load_preset(support.TINY6), YEAR)
    return path, inbox, archive


@pytest.fixture
def warehouse(scored, tmp_path: Path):
    base, inbox, _archive = scored
    path = tmp_path / "w.duckdb"
    shutil.copyfile(base, path)
    home_inbox = tmp_path / "inbox"
    shutil.copytree(inbox, home_inbox)
    con = connect(path)
    yield con, path, home_inbox, tmp_path / "archive"
    con.close()


def _snapshot_rows(con, snapshot_id: str) -> list[tuple]:
    return con.execute(
        "SELECT * FROM snapshot_scores WHERE snapshot_id = ? ORDER BY ALL", [snapshot_id]
    ).fetchall()


def _resubmit(preset, inbox: Path, tmp: Path) -> None:
    """Every unit sends its workbook again with other values (later arrival)."""
    resent = dataclasses.replace(preset, demo={**preset.demo, "seed": 99})
    write_demo_submissions(resent, tmp / "resent", [YEAR])
    target = inbox / str(YEAR) / "resent"
    shutil.copytree(tmp / "resent" / str(YEAR), target)
    for file in target.rglob("*.xlsx"):
        os.utime(file, (time.time() + 60, time.time() + 60))


def test_publishing_twice_is_refused_with_a_clear_error(warehouse):
    con, *_ = warehouse
    [snapshot_id] = latest_snapshot_ids(con, YEAR, "commune", ["minmax"])
    first = publish_snapshot(con, snapshot_id)
    assert (first.version, first.published_version) == (1, 1)
    with pytest.raises(PublishedSnapshotError) as refused:
        publish_snapshot(con, snapshot_id)
    message = str(refused.value)
    assert snapshot_id in message and "already published" in message
    assert "cannot be published again or overwritten" in message and "new version" in message
    published_at = con.execute(
        "SELECT published_at FROM snapshots WHERE snapshot_id = ?", [snapshot_id]
    ).fetchone()[0]
    assert published_at == first.published_at  # the refusal changed nothing


def test_every_write_path_refuses_to_touch_a_published_snapshot(warehouse):
    con, *_ = warehouse
    [snapshot_id] = latest_snapshot_ids(con, YEAR, "department", ["points"])
    publish_snapshot(con, snapshot_id)
    rows = _snapshot_rows(con, snapshot_id)
    header = con.execute("SELECT * FROM snapshots WHERE snapshot_id = ?", [snapshot_id]).fetchall()
    stored = con.execute("SELECT * FROM snapshot_scores WHERE snapshot_id = ?", [snapshot_id]).pl()
    changed = stored.with_columns(pl.col("points") + 1)
    attempts = {
        "replace rows": lambda: replace_rows(
            con, "snapshot_scores", changed, {"snapshot_id": snapshot_id}
        ),
        "delete rows": lambda: delete_rows(con, "snapshot_scores", {"snapshot_id": snapshot_id}),
        "delete header": lambda: delete_rows(con, "snapshots", {"snapshot_id": snapshot_id}),
        "delete the year": lambda: delete_rows(con, "snapshots", {"year": YEAR}),
        "add rows": lambda: insert_frame(con, "snapshot_scores", changed.head(1)),
    }
    for name, attempt in attempts.items():
        with pytest.raises(PublishedSnapshotError, match="published snapshot"):
            attempt()
        assert _snapshot_rows(con, snapshot_id) == rows, name
        assert (
            con.execute("SELECT * FROM snapshots WHERE snapshot_id = ?", [snapshot_id]).fetchall()
            == header
        ), name
    assert verify_snapshots(con, published_only=True) == []
    # an unpublished snapshot is still an ordinary row set
    [other] = latest_snapshot_ids(con, YEAR, "department", ["minmax"])
    delete_rows(con, "snapshot_scores", {"snapshot_id": other, "unit_id": "S-A"})


def test_rescoring_a_published_year_creates_a_new_version(warehouse):
    con, path, inbox, archive = warehouse
    preset = load_preset(support.TINY6)
    published = {}
    for level in preset.levels:
        for snapshot_id in latest_snapshot_ids(con, YEAR, level):
            publish_snapshot(con, snapshot_id)
            published[snapshot_id] = _snapshot_rows(con, snapshot_id)
    headers = con.execute(
        "SELECT * FROM snapshots WHERE published_at IS NOT NULL ORDER BY ALL"
    ).fetchall()

    # same inputs: nothing new, nothing changed
    again = support.score_year(con, preset, YEAR)
    assert not any(r.created for r in again)
    assert {r.snapshot_id for r in again} == set(published)

    # corrected inputs: a new version of every snapshot; the published ones untouched
    _resubmit(preset, inbox, path.parent)
    support.intake_year(con, preset, YEAR, inbox, archive)
    rescored = support.score_year(con, preset, YEAR)
    assert all(r.created for r in rescored)
    assert not {r.snapshot_id for r in rescored} & set(published)
    for snapshot_id, rows in published.items():
        assert _snapshot_rows(con, snapshot_id) == rows
    assert (
        con.execute(
            "SELECT * FROM snapshots WHERE published_at IS NOT NULL ORDER BY ALL"
        ).fetchall()
        == headers
    )
    versions = con.execute(
        "SELECT snapshot_id, version, published_version FROM snapshot_versions "
        "WHERE year = ? ORDER BY ALL",
        [YEAR],
    ).fetchall()
    assert {v for _, v, _ in versions} == {1, 2}
    assert {sid for sid, v, p in versions if v == 1 and p == 1} == set(published)

    # republishing: the new version becomes published version 2, the first stays published
    [new_id] = latest_snapshot_ids(con, YEAR, "commune", ["minmax"])
    republished = publish_snapshot(con, new_id)
    assert (republished.version, republished.published_version) == (2, 2)
    assert (
        con.execute(
            "SELECT count(*) FROM snapshots WHERE year = ? AND level = 'commune' "
            "AND method = 'minmax' AND published_at IS NOT NULL",
            [YEAR],
        ).fetchone()[0]
        == 2
    )
    assert verify_snapshots(con) == []


def test_tampering_outside_the_write_paths_is_detected(warehouse):
    con, *_ = warehouse
    [snapshot_id] = latest_snapshot_ids(con, YEAR, "commune", ["points"])
    publish_snapshot(con, snapshot_id)
    con.execute(
        "UPDATE snapshot_scores SET points = points + 1 WHERE snapshot_id = ? AND unit_id = 'X-1'",
        [snapshot_id],
    )
    assert verify_snapshots(con, published_only=True) == [snapshot_id]


def test_dti_publish_command(warehouse, monkeypatch: pytest.MonkeyPatch):
    con, path, *_ = warehouse
    con.close()
    monkeypatch.setenv("DTI_WAREHOUSE", str(path))
    runner = CliRunner()
    first = runner.invoke(cli, ["publish", str(YEAR), "--level", "commune"])
    assert first.exit_code == 0, first.output
    for method in ("points", "minmax", "zscore"):
        assert method in first.output
    second = runner.invoke(cli, ["publish", str(YEAR), "--level", "commune"])
    assert second.exit_code == 2
    assert "already published" in second.output + (second.stderr or "")
    missing = runner.invoke(cli, ["publish", "2019", "--level", "commune"])
    assert missing.exit_code == 2
    verified = runner.invoke(cli, ["verify-snapshots"])
    assert verified.exit_code == 0, verified.output
    assert "every content hash matches" in verified.output
