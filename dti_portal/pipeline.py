"""Everything the portal takes from the intake side of ``pipelines``, in one place: the preset and
its registry, the template writer, the cell rules, the reader and the receipt (run on an
in-memory database, never the warehouse), and landing a file in the inbox.

There is one intake path: a workbook sent through the portal is written by the template writer,
read by the inbox's reader in a dry run, and answered with the receipt the ingest would give; then
it is put in ``inbox/<year>/`` where the ingest reads it again like any dropped file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.framework.model import Framework, Node
from pipelines.framework.preset import Preset, load_preset
from pipelines.framework.registry import units_in_year
from pipelines.intake.ingest import Evaluation, evaluation_frames, read_file, store_batch, utc_now
from pipelines.intake.receipts import receipt_markdown
from pipelines.paths import dti_home, inbox_dir
from pipelines.store.reference import store_reference
from pipelines.store.warehouse import migrate
from pipelines.text.labels import LEVEL_NAMES, METHOD_NAMES
from pipelines.text.safe_text import neutralise_formula, write_text_cell
from pipelines.workbook.cells import read_number
from pipelines.workbook.read import check_value
from pipelines.workbook.structure import MAX_ARCHIVE_MEMBERS, MAX_UNPACKED_BYTES, archive_problem
from pipelines.workbook.write import unit_label, write_appraisal_workbook, write_unit_workbook

__all__ = [
    "LEVEL_NAMES",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_UNPACKED_BYTES",
    "METHOD_NAMES",
    "DryRun",
    "Framework",
    "Node",
    "Preset",
    "appraisal_workbook_bytes",
    "archive_problem",
    "check_value",
    "dry_run",
    "dti_home",
    "inbox_dir",
    "land_in_inbox",
    "load_preset",
    "neutralise_formula",
    "pillars",
    "read_number",
    "received_now",
    "template_bytes",
    "unit_label",
    "units_of_year",
    "write_text_cell",
]


def units_of_year(preset: Preset, year: int) -> list[dict]:
    """Every unit of the registry existing in ``year``, level by level (id, level, name, parent)."""
    found = []
    for level in preset.levels:
        found.extend(units_in_year(preset.registry, level, year).iter_rows(named=True))
    return found


def pillars(framework: Framework) -> list[tuple[Node, list[Node]]]:
    """The framework's pillars (the root's children), each with its leaves in document order."""
    root = framework.nodes[framework.root_id]
    by_top: dict[str, list[Node]] = {child: [] for child in root.children}
    for leaf in framework.leaves():
        chain = [leaf.id, *framework.ancestors(leaf.id)]
        top = next((node for node in chain if node in by_top), None)
        if top is not None:
            by_top[top].append(leaf)
    return [(framework.nodes[top], leaves) for top, leaves in by_top.items() if leaves]


def template_bytes(
    preset: Preset,
    unit: dict,
    year: int,
    values: dict[str, float | None] | None = None,
    self_points: dict[str, float | None] | None = None,
    evidence: dict[str, str] | None = None,
) -> bytes:
    """The unit's workbook as the template writer makes it (blank, or filled with the values);
    evidence text is neutralised so that no cell becomes a formula."""
    framework = preset.framework(unit["level"])
    safe_evidence = {k: neutralise_formula(v) for k, v in (evidence or {}).items() if v}
    with tempfile.TemporaryDirectory(prefix="dti-portal-") as folder:
        path = write_unit_workbook(
            Path(folder) / "unit.xlsx",
            framework,
            unit,
            year,
            values=values,
            self_points=self_points,
            evidence=safe_evidence,
        )
        return path.read_bytes()


def appraisal_workbook_bytes(preset: Preset, level: str, year: int, rows: list[dict]) -> bytes:
    """The appraisal workbook the intake reads (the pipeline's writer), reasons neutralised."""
    framework = preset.framework(level)
    safe_rows = [
        {k: neutralise_formula(v) if isinstance(v, str) else v for k, v in row.items()}
        for row in rows
    ]
    with tempfile.TemporaryDirectory(prefix="dti-portal-") as folder:
        path = write_appraisal_workbook(
            Path(folder) / "appraisal.xlsx", framework, level, year, safe_rows
        )
        return path.read_bytes()


@dataclass
class DryRun:
    """What the ingest would make of one file: identification, outcome and the receipt."""

    status: str  # accepted | partially_accepted | refused
    kind: str | None
    year: int | None
    level: str | None
    unit_id: str | None
    receipt: str
    refusals: list[dict] = field(default_factory=list)  # indicator_id, column_name, message, rule


class _ReceiptDatabase:
    """An in-memory database holding the reference data of one preset and year, where a file's
    frames are stored just long enough to render its receipt with the ingest's own function."""

    def __init__(self, preset: Preset, year: int) -> None:
        self.con = duckdb.connect(":memory:")
        migrate(self.con)
        store_reference(self.con, preset, year)
        self.lock = threading.Lock()


_DATABASES: dict[tuple[str, int], _ReceiptDatabase] = {}
_DATABASES_LOCK = threading.Lock()


def _database(preset: Preset, year: int) -> _ReceiptDatabase:
    key = (str(preset.origin), year)
    with _DATABASES_LOCK:
        if key not in _DATABASES:
            _DATABASES[key] = _ReceiptDatabase(preset, year)
        return _DATABASES[key]


def received_now() -> dt.datetime:
    """Now in UTC to the second, without a zone: when the portal received a file, as the ingest
    will read it back from the landed file's modification time (:func:`land_in_inbox`)."""
    return utc_now().replace(microsecond=0)


def dry_run(
    preset: Preset,
    path: Path,
    year: int,
    display_name: str,
    sha256: str,
    received_at: dt.datetime | None = None,
    received_seq: int = 1,
) -> DryRun:
    """Read ``path`` as the ingest reads a file of ``inbox/<year>/`` and give its receipt, without
    touching the warehouse or the inbox. The receipt's id is the file's sha256, as the ingest's;
    ``received_at`` and ``received_seq`` are the time and arrival number it shows (default now,
    1)."""
    name = unicodedata.normalize("NFC", display_name)
    parsed = read_file(preset, path, year, name)
    received = received_at or received_now()
    evaluation = Evaluation(sha256, sha256, 1, received_seq, received, utc_now(), path, year)
    frames = evaluation_frames(parsed, evaluation)
    database = _database(preset, year)
    with database.lock:
        con = database.con
        store_batch(con, [frames])
        try:
            receipt = receipt_markdown(con, sha256)
        finally:
            for table in frames:
                con.execute(f"DELETE FROM {table} WHERE submission_id = ?", [sha256])
    submission = frames["submissions"].row(0, named=True)
    refusals = (
        frames["rejected_rows"].select("indicator_id", "column_name", "message", "rule").to_dicts()
    )
    return DryRun(
        status=submission["status"],
        kind=parsed.kind,
        year=parsed.year,
        level=parsed.level,
        unit_id=parsed.unit_id,
        receipt=receipt,
        refusals=refusals,
    )


def land_in_inbox(
    content: bytes, year: int, folder: str, name: str, received_at: dt.datetime | None = None
) -> Path:
    """Put ``content`` in ``inbox/<year>/<folder>/<name>`` atomically: written to a hidden
    temporary file of the same folder (the ingest and the sensor skip hidden files), flushed,
    then renamed. ``folder`` and ``name`` are chosen by the portal, never by the client. The
    file's modification time is ``received_at`` (naive UTC), which the ingest records as the
    time the file was received, so its receipt says what the dry run's said."""
    target_dir = inbox_dir() / str(year) / folder
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    handle, temp = tempfile.mkstemp(dir=target_dir, prefix=".portal-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o640)
        if received_at is not None:
            stamp = int(received_at.replace(tzinfo=dt.UTC).timestamp()) * 1_000_000_000
            os.utime(temp, ns=(stamp, stamp))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def zip_budget_problem(archive: zipfile.ZipFile) -> tuple[str, str] | None:
    """The intake's own size budget for a workbook archive (rule, message), or None."""
    return archive_problem(archive)
