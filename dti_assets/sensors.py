"""The inbox sensor: scores follow updates.

Every ``minimum_interval_seconds`` the sensor looks at ``DtiSettings.inbox_dir()``
(``<inbox>/<year>/…``, every file the ingest answers). For each file that is new or whose
content changed it asks for one run of the annual job on that file's year partition, with
``run_key = "<year>:<sha256>"`` (the same bytes never trigger twice; the ingest would count them
as unchanged anyway). The cursor remembers,
per file, its modification time, size and hash, so unchanged files are not hashed again. Files in
a year that is not a partition yet (the current year: partitions are completed years) are left
out of the cursor and trigger once the year becomes a partition.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from dti_assets.jobs import annual_job
from dti_assets.partitions import yearly_partitions
from dti_assets.resources import DtiSettings
from pipelines.ingest import file_sha256, submission_files

CURSOR_VERSION = 1


def _load_cursor(text: str | None) -> dict[str, list]:
    if not text:
        return {}
    data = json.loads(text)
    return data.get("files", {}) if data.get("version") == CURSOR_VERSION else {}


def scan_inbox(inbox: Path, cursor: dict[str, list], years: set[str]):
    """``(run requests, new cursor state, files left for later)`` for the inbox's current state."""
    requests: list[dg.RunRequest] = []
    state: dict[str, list] = {}
    later: list[str] = []
    folders = sorted(p for p in inbox.iterdir() if p.is_dir()) if inbox.is_dir() else []
    for folder in folders:
        if not folder.name.isdigit():
            continue
        for path in submission_files(inbox, int(folder.name)):
            rel = path.relative_to(inbox).as_posix()
            if folder.name not in years:
                later.append(rel)
                continue
            stat = path.stat()
            known = cursor.get(rel)
            if known and known[0] == stat.st_mtime_ns and known[1] == stat.st_size:
                state[rel] = known
                continue
            digest = file_sha256(path)
            state[rel] = [stat.st_mtime_ns, stat.st_size, digest]
            if known and known[2] == digest:
                continue  # touched, same content
            requests.append(
                dg.RunRequest(
                    run_key=f"{folder.name}:{digest}",
                    partition_key=folder.name,
                    tags={"dti/file": rel, "dti/sha256": digest},
                )
            )
    return requests, state, later


@dg.sensor(
    job=annual_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A new or changed file in the inbox re-materialises its year (annual job).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: DtiSettings) -> dg.SensorResult:
    years = set(yearly_partitions.get_partition_keys())
    requests, state, later = scan_inbox(settings.inbox_dir(), _load_cursor(context.cursor), years)
    if later:
        context.log.info(f"{len(later)} file(s) wait for their year to become a partition")
    cursor = json.dumps({"version": CURSOR_VERSION, "files": state}, sort_keys=True)
    if not requests:
        return dg.SensorResult(skip_reason="no new or changed file in the inbox", cursor=cursor)
    return dg.SensorResult(run_requests=requests, cursor=cursor)
