"""The inbox sensor: scores follow updates.

Every ``minimum_interval_seconds`` the sensor looks at ``DtiSettings.inbox_dir()``
(``<inbox>/<year>/…``, every file the ingest answers). Everything new or changed in a year since
the last tick becomes ONE run of the annual job on that year's partition: on deadline day two
hundred workbooks arriving together are one annual run, not two hundred. The run key is
``"<year>:<sha256 of the sorted file digests>"`` (the same batch of bytes never triggers twice;
the ingest would skip them anyway) and the run's tags say how many files it covers
(``dti/files``). The cursor remembers, per file, its modification time, size and hash, so
unchanged files are not hashed again. Files in a year that is not a partition yet (the current
year: partitions are completed years) are left out of the cursor and trigger once the year
becomes a partition.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from dti_assets.jobs import annual_job
from dti_assets.partitions import yearly_partitions
from dti_assets.resources import DtiSettings
from pipelines.intake.ingest import file_sha256
from pipelines.intake.received_files import submission_files

CURSOR_VERSION = 1


def _load_cursor(text: str | None) -> dict[str, list]:
    if not text:
        return {}
    data = json.loads(text)
    return data.get("files", {}) if data.get("version") == CURSOR_VERSION else {}


def batch_key(year: str, digests: list[str]) -> str:
    """The run key of a year's batch: the year and one hash over its files' sorted digests."""
    joined = "\n".join(sorted(digests)).encode("ascii")
    return f"{year}:{hashlib.sha256(joined).hexdigest()}"


def year_request(year: str, changed: dict[str, str]) -> dg.RunRequest:
    """One annual run of ``year`` for its new or changed files (relative path → sha256)."""
    tags = {"dti/files": str(len(changed))}
    if len(changed) == 1:
        [(rel, digest)] = changed.items()
        tags |= {"dti/file": rel, "dti/sha256": digest}
    return dg.RunRequest(
        run_key=batch_key(year, list(changed.values())), partition_key=year, tags=tags
    )


def scan_inbox(inbox: Path, cursor: dict[str, list], years: set[str]):
    """``(run requests, new cursor state, files left for later)`` for the inbox's current state:
    at most one request per year."""
    requests: list[dg.RunRequest] = []
    state: dict[str, list] = {}
    later: list[str] = []
    folders = sorted(p for p in inbox.iterdir() if p.is_dir()) if inbox.is_dir() else []
    for folder in folders:
        if not folder.name.isdigit():
            continue
        changed: dict[str, str] = {}
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
            changed[rel] = digest
        if changed:
            requests.append(year_request(folder.name, changed))
    return requests, state, later


@dg.sensor(
    job=annual_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New or changed files in the inbox re-materialise their year: one annual run per "
    "year per tick, whatever the number of files.",
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
