"""The inbox sensor: new or changed files ask for one annual run of their year, once."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from dti_assets.definitions import defs
from dti_assets.resources import DtiSettings
from dti_assets.sensors import inbox_sensor


def _evaluate(inbox: Path, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor, resources={"settings": DtiSettings(inbox=str(inbox))}
    )
    return inbox_sensor(context)


def _batch(year: str, *digests: str) -> str:
    """The run key by hand: the year and the sha256 of the sorted digests, one per line."""
    return f"{year}:{hashlib.sha256(chr(10).join(sorted(digests)).encode()).hexdigest()}"


def _write(path: Path, content: bytes, mtime: int = 1_709_625_600) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


def test_sensor_is_registered_for_the_annual_job() -> None:
    sensor = defs.resolve_sensor_def("inbox_sensor")
    assert sensor.job_name == "dti_annual"
    assert sensor.minimum_interval_seconds == 30


def test_empty_or_missing_inbox_requests_nothing(inbox: Path) -> None:
    result = _evaluate(inbox)
    assert result.run_requests == []
    assert result.skip_reason.skip_message == "no new or changed file in the inbox"
    assert json.loads(result.cursor) == {"version": 1, "files": {}}


def test_new_file_requests_its_year_once_changed_content_again(inbox: Path) -> None:
    sha = _write(inbox / "2024" / "commune" / "DTI_2024_X-BMT-01.xlsx", b"lan 1")
    first = _evaluate(inbox)
    [request] = first.run_requests
    assert request.partition_key == "2024"
    assert request.run_key == _batch("2024", sha)
    assert request.tags["dti/files"] == "1"
    assert request.tags["dti/file"] == "2024/commune/DTI_2024_X-BMT-01.xlsx"
    assert request.tags["dti/sha256"] == sha
    assert json.loads(first.cursor)["files"] == {
        "2024/commune/DTI_2024_X-BMT-01.xlsx": [1_709_625_600 * 10**9, 5, sha]
    }

    # next tick, nothing changed: nothing requested
    second = _evaluate(inbox, first.cursor)
    assert second.run_requests == []
    assert second.cursor == first.cursor

    # touched (saved again without a change): same content, no run; the cursor follows the time
    _write(inbox / "2024" / "commune" / "DTI_2024_X-BMT-01.xlsx", b"lan 1", mtime=1_709_625_700)
    touched = _evaluate(inbox, second.cursor)
    assert touched.run_requests == []
    assert json.loads(touched.cursor)["files"]["2024/commune/DTI_2024_X-BMT-01.xlsx"][0] == (
        1_709_625_700 * 10**9
    )

    # the unit sends a corrected file under the same name: a new run for 2024
    new_sha = _write(
        inbox / "2024" / "commune" / "DTI_2024_X-BMT-01.xlsx", b"lan 2 da sua", mtime=1_709_625_800
    )
    changed = _evaluate(inbox, touched.cursor)
    assert [(r.partition_key, r.run_key) for r in changed.run_requests] == [
        ("2024", _batch("2024", new_sha))
    ]


def test_one_request_per_year_with_new_files(inbox: Path) -> None:
    a = _write(inbox / "2023" / "department" / "a.xlsx", b"a")
    b = _write(inbox / "2024" / "department" / "b.csv", b"b")
    c = _write(inbox / "2024" / "commune" / "c.xlsx", b"c", mtime=1_709_625_000)
    result = _evaluate(inbox)
    assert sorted(
        (r.partition_key, r.run_key, r.tags["dti/files"]) for r in result.run_requests
    ) == [("2023", _batch("2023", a), "1"), ("2024", _batch("2024", b, c), "2")]


def test_a_burst_of_files_in_one_year_is_one_run(inbox: Path) -> None:
    # deadline day: five units send their workbooks between two ticks
    digests = [
        _write(inbox / "2024" / "commune" / f"DTI_2024_X-BMT-0{i}.xlsx", f"xa {i}".encode())
        for i in range(1, 6)
    ]
    [request] = _evaluate(inbox).run_requests
    assert request.partition_key == "2024"
    assert request.tags["dti/files"] == "5"
    assert "dti/file" not in request.tags
    # the key does not depend on the order the files were found in
    assert request.run_key == _batch("2024", *reversed(digests))
    assert request.run_key.startswith("2024:") and len(request.run_key) == len("2024:") + 64


def test_after_a_burst_only_the_changed_files_make_the_next_run(inbox: Path) -> None:
    for i in range(1, 4):
        _write(inbox / "2024" / f"DTI_2024_X-{i}.xlsx", f"lan 1 {i}".encode())
    first = _evaluate(inbox)
    assert [r.tags["dti/files"] for r in first.run_requests] == ["3"]
    fixed = [
        _write(inbox / "2024" / f"DTI_2024_X-{i}.xlsx", f"lan 2 {i}".encode(), mtime=1_709_700_000)
        for i in (1, 3)
    ]
    [request] = _evaluate(inbox, first.cursor).run_requests
    assert request.tags["dti/files"] == "2"
    assert request.run_key == _batch("2024", *fixed)


def test_files_the_ingest_would_not_read_are_ignored(inbox: Path) -> None:
    _write(inbox / "2024" / "~$DTI_2024_X-BMT-01.xlsx", b"excel lock file")
    _write(inbox / "2024" / ".DS_Store", b"finder")
    _write(inbox / "cu" / "DTI.xlsx", b"not under a year folder")
    assert _evaluate(inbox).run_requests == []


def test_a_file_of_another_type_triggers_a_run_that_answers_it(inbox: Path) -> None:
    # the ingest refuses it with a receipt saying what to send instead
    note = _write(inbox / "2024" / "ghi_chu.txt", b"not a submission")
    assert [r.run_key for r in _evaluate(inbox).run_requests] == [_batch("2024", note)]


def test_a_year_not_yet_a_partition_waits(inbox: Path) -> None:
    _write(inbox / "2099" / "DTI_2099_X.xlsx", b"future")
    result = _evaluate(inbox)
    assert result.run_requests == []
    # left out of the cursor, so it triggers once the year becomes a partition
    assert json.loads(result.cursor)["files"] == {}
