"""Intake: archive every received file under its content hash, identify it, read it, and store
what was taken and what was refused (DOMAIN.md, yearly cycle steps 2–4). See docs/intake.md.

- **Nothing received is lost.** Each file is copied to ``archive/<sha[:2]>/<sha><ext>`` before it
  is read; a file refused as a whole is stored as a submission with status ``refused``, with as
  much of its identification as could be read, and one located refusal.
- **Order of resubmissions.** Files are numbered (``received_seq``) in the order they are picked
  up: across ingest passes, a later pass comes later; within one pass, by file modification time
  (oldest first), then by path. For each unit the counted self-assessment is the one with the
  highest ``received_seq`` among its files that had something accepted; the earlier ones stay.
- **Re-evaluation.** A file is evaluated once per content; :mod:`pipelines.intake.reingest`
evaluates
  archived files again (after the registry or the framework changed) and stores a new evaluation
  beside the old one when the outcome differs.
- **Reading.** :mod:`pipelines.intake.submission_read` identifies and reads one file.
- **Receipts.** After each pass a Vietnamese receipt per new submission is written beside the
  archive (``receipts/<year>/…receipt.md``, see :mod:`pipelines.intake.receipts`); ``dti receipt``
  prints it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.framework.preset import Preset
from pipelines.intake.submission_read import (
    ParsedFile,
    parse_file,
    read_plain_workbooks,
    refused_file,
)
from pipelines.store.warehouse import insert_frame, query_text, transaction

SUBMISSION_COLUMNS = {
    "submission_id": pl.String,
    "received_seq": pl.Int64,
    "kind": pl.String,
    "file_name": pl.String,
    "archived_path": pl.String,
    "year": pl.Int32,
    "level": pl.String,
    "unit_id": pl.String,
    "framework_id": pl.String,
    "framework_version": pl.String,
    "n_accepted": pl.Int32,
    "n_rejected": pl.Int32,
    "status": pl.String,
    "file_sha256": pl.String,
    "evaluation": pl.Int32,
    "replaces_submission_id": pl.String,
    "received_at": pl.Datetime("us"),
    "evaluated_at": pl.Datetime("us"),
    "source_format": pl.String,
    "inbox_year": pl.Int32,
}
RAW_COLUMNS = {
    "submission_id": pl.String,
    "file_name": pl.String,
    "sheet": pl.String,
    "row_number": pl.Int32,
    "column_name": pl.String,
    "year": pl.Int32,
    "level": pl.String,
    "unit_id": pl.String,
    "indicator_id": pl.String,
    "kind": pl.String,
    "raw_text": pl.String,
    "value": pl.Float64,
    "reason": pl.String,
    "evidence": pl.String,
    "self_points": pl.Float64,
}
REJECTED_COLUMNS = {
    "submission_id": pl.String,
    "file_name": pl.String,
    "sheet": pl.String,
    "row_number": pl.Int32,
    "column_name": pl.String,
    "year": pl.Int32,
    "unit_id": pl.String,
    "indicator_id": pl.String,
    "raw_text": pl.String,
    "rule": pl.String,
    "message": pl.String,
}
POINTS_COLUMNS = {
    "submission_id": pl.String,
    "file_name": pl.String,
    "sheet": pl.String,
    "row_number": pl.Int32,
    "column_name": pl.String,
    "year": pl.Int32,
    "level": pl.String,
    "unit_id": pl.String,
    "indicator_id": pl.String,
    "raw_text": pl.String,
    "points": pl.Float64,
    "reason": pl.String,
}
MISSING_COLUMNS = {"submission_id": pl.String, "unit_id": pl.String, "indicator_id": pl.String}
TABLES = ("submissions", "raw_values", "rejected_rows", "appraised_points", "missing_indicators")


@dataclass
class IngestSummary:
    """What one ingest pass did, for progress output and Dagster metadata: every file seen is
    new (received now) or unchanged (the same bytes were received before); new files refused as
    a whole are named in ``files_refused``, their receipts in ``refused_receipts``."""

    files_seen: int = 0
    files_new: int = 0
    files_unchanged: int = 0
    values_accepted: int = 0
    values_rejected: int = 0
    files_refused: list[str] = field(default_factory=list)
    # "<new file> thay tệp <earlier file> (đơn vị <unit>)": a self-assessment counted instead of
    # the unit's earlier file sent under another name
    replaced_other_name: list[str] = field(default_factory=list)
    submission_ids: list[str] = field(default_factory=list, repr=False)
    receipts: list[Path] = field(default_factory=list, repr=False)
    refused_receipts: list[Path] = field(default_factory=list, repr=False)
    receipt_failures: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict:
        """Plain counts and names (JSON), as the ``raw_submissions`` asset records them."""
        return {
            "files_seen": self.files_seen,
            "files_new": self.files_new,
            "files_unchanged": self.files_unchanged,
            "files_refused": len(self.files_refused),
            "refused_names": self.files_refused[:50],
            "refused_receipts": sorted({str(p.parent) for p in self.refused_receipts}),
            "replaced_other_name": self.replaced_other_name[:50],
            "receipt_failures": self.receipt_failures[:50],
            "values_accepted": self.values_accepted,
            "values_rejected": self.values_rejected,
        }


def file_sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def archive_suffix(path: Path) -> str:
    """The archived copy's extension: the file's own, lower-case, when it is a short plain one
    (``.xlsx``, ``.csv``, ``.pdf``); none otherwise (a name is no place for 200 bytes of it)."""
    suffix = unicodedata.normalize("NFC", path.suffix.lower())
    if 1 < len(suffix) <= MAX_ARCHIVE_SUFFIX and suffix[1:].isascii() and suffix[1:].isalnum():
        return suffix
    return ""


def archive_file(path: Path, archive: Path, digest: str) -> Path:
    """Copy the file, untouched, to ``archive/<sha[:2]>/<sha><suffix>`` (kept forever)."""
    target = archive / digest[:2] / f"{digest}{archive_suffix(path)}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    return target


def arrival_key(path: Path) -> tuple[int, str]:
    """The order files of one pass are numbered in: modification time, then path (a file whose
    time cannot be read comes first; it is refused when it is read)."""
    return (_mtime_ns(path), str(path))


def is_submission_candidate(path: Path) -> bool:
    """Every file under the inbox is answered, whatever its type (a type the intake does not
    read is refused, :mod:`pipelines.intake.submission_types`), except what the operating system or
    Excel leave beside the files: hidden files (``.DS_Store``), Excel's lock files (``~$…``),
    ``Thumbs.db`` and ``desktop.ini``."""
    name = path.name
    return not (name.startswith((".", "~$")) or name.lower() in SYSTEM_FILES)


def submission_files(inbox: Path, year: int) -> list[Path]:
    """The files for ``year``: everything under ``inbox/<year>/`` (:func:`is_submission_candidate`),
    in arrival order (:func:`arrival_key`)."""
    folder = inbox / str(year)
    if not folder.exists():
        return []
    found = [p for p in folder.rglob("*") if p.is_file() and is_submission_candidate(p)]
    return sorted(found, key=arrival_key)


def ingest_year(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    year: int,
    inbox: Path,
    archive: Path,
    on_file: Callable[[Path], None] | None = None,
) -> IngestSummary:
    """Ingest every new file of ``inbox/<year>``; a file received before (same bytes) is counted
    as unchanged and not read again. Receipts of the year's earlier submissions that are missing
    (a pass that could not write them) are written again."""
    from pipelines.intake.receipts import missing_receipts, write_receipts

    summary = ingest_files(con, preset, submission_files(inbox, year), archive, year, on_file)
    again = missing_receipts(con, year)
    if again:
        summary.receipts.extend(write_receipts(con, again, summary.receipt_failures))
    return summary


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    files: Iterable[Path],
    archive: Path,
    expected_year: int | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> IngestSummary:
    """Archive, identify and read each file not received before, then store all of them in one
    transaction: an interrupted ingest leaves nothing half-stored and is simply run again.
    Files are numbered in arrival order (:func:`arrival_key`), whatever order they are given in.
    Whatever goes wrong with one file (it cannot be read, a reader fails on it) is that file's
    refusal, stored with the reason: it never stops the others."""
    summary = IngestSummary()
    known = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT coalesce(file_sha256, submission_id) FROM submissions"
        ).fetchall()
    }
    next_seq = con.execute("SELECT coalesce(max(received_seq), 0) FROM submissions").fetchone()[0]
    now = utc_now()
    batch: list[dict[str, pl.DataFrame]] = []
    arrived = [(path, _digest(path)) for path in sorted(files, key=arrival_key)]
    fresh = {}
    for path, digest in arrived:  # the first copy of each content not received before
        if digest not in known and digest not in fresh and not digest.startswith(UNREADABLE):
            fresh[digest] = path
    books = dict(zip(fresh, read_plain_workbooks(list(fresh.values())), strict=True))
    for path, digest in arrived:
        summary.files_seen += 1
        if digest in known:
            summary.files_unchanged += 1
        else:
            next_seq += 1
            batch.append(
                _receive(
                    preset,
                    path,
                    digest,
                    archive,
                    expected_year,
                    books.pop(digest, None),
                    next_seq,
                    now,
                    summary,
                )
            )
            known.add(digest)
            summary.files_new += 1
            summary.submission_ids.append(digest)
        if on_file is not None:
            on_file(path)
    store_batch(con, batch)
    write_new_receipts(con, summary)
    summary.replaced_other_name += replaced_under_other_name(con, summary.submission_ids)
    return summary


UNREADABLE = "unreadable-"
MAX_ARCHIVE_SUFFIX = 10
SYSTEM_FILES = ("thumbs.db", "desktop.ini")


def _digest(path: Path) -> str:
    """The file's SHA-256, or, when it cannot even be read, an id made from its path and time
    (``unreadable-…``) under which its refusal is stored."""
    try:
        return file_sha256(path)
    except OSError:
        stamp = f"{path}|{_mtime_ns(path)}".encode("utf-8", "surrogateescape")
        return UNREADABLE + hashlib.sha256(stamp).hexdigest()[: 64 - len(UNREADABLE)]


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def display_name(path: Path) -> str:
    """The file's name as messages and the warehouse give it: NFC (a Mac sends NFD names), and
    valid text even when the name's bytes are not UTF-8."""
    name = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return unicodedata.normalize("NFC", name)


def _receive(
    preset: Preset,
    path: Path,
    digest: str,
    archive: Path,
    expected_year: int | None,
    book,
    seq: int,
    now: dt.datetime,
    summary: IngestSummary,
) -> dict[str, pl.DataFrame]:
    """Archive and read one new file; a failure on the way is the file's refusal."""
    name = display_name(path)
    archived = path
    try:
        if digest.startswith(UNREADABLE):
            path.open("rb").close()  # raises the reason the file could not be read
        archived = archive_file(path, archive, digest)
    except Exception as exc:  # one file's failure is its refusal, never the year's
        if book is not None:
            book.close()
        parsed = failure_refusal(name, "không lưu trữ được tệp", exc, expected_year, path)
    else:
        parsed = read_file(preset, path, expected_year, name, book)
    mtime = _mtime_ns(path)
    evaluation = Evaluation(
        submission_id=digest,
        file_sha256=digest,
        evaluation=1,
        received_seq=seq,
        received_at=dt.datetime.fromtimestamp(mtime / 1e9, dt.UTC).replace(tzinfo=None)
        if mtime
        else None,
        evaluated_at=now,
        archived=archived,
        inbox_year=expected_year,
    )
    return evaluation_frames(parsed, evaluation, summary)


MAX_ERROR_TEXT = 300  # characters of an unexpected error's text kept in a refusal


def failure_refusal(
    name: str, what: str, exc: Exception, expected_year: int | None, path: Path
) -> ParsedFile:
    """The refusal of a file something unexpected failed on (``what``: in the officer's words,
    what could not be done), naming the error."""
    detail = " ".join(str(exc).split())  # one line
    if len(detail) > MAX_ERROR_TEXT:
        detail = detail[:MAX_ERROR_TEXT] + "…"
    return refused_file(
        name,
        "unreadable_file",
        f"{what} ({type(exc).__name__}: {detail})",
        expected_year,
        archive_suffix(path).lstrip(".") or "unknown",
    )


def read_file(
    preset: Preset, path: Path, expected_year: int | None, name: str, book=None
) -> ParsedFile:
    """:func:`parse_file`, where any failure of a reader is the file's refusal."""
    try:
        return parse_file(preset, path, expected_year, display_name=name, book=book)
    except Exception as exc:  # one file's failure is its refusal, never the year's
        if book is not None:
            book.close()
        return failure_refusal(name, "không xử lý được tệp", exc, expected_year, path)


def evaluation_frames(
    parsed: ParsedFile, evaluation: Evaluation, summary: IngestSummary | None = None
) -> dict[str, pl.DataFrame]:
    """:func:`submission_frames`, where what the warehouse cannot hold (a year beyond its
    column type, …) makes the file a refusal instead of an error."""
    try:
        return submission_frames(parsed, evaluation, summary)
    except Exception as exc:  # one file's failure is its refusal, never the year's
        name = parsed.workbook.file_name
        refusal = failure_refusal(
            name, "không lưu được nội dung tệp", exc, evaluation.inbox_year, evaluation.archived
        )
        return submission_frames(refusal, evaluation, summary)


# --- storing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Where and when one evaluation of a received file happened."""

    submission_id: str
    file_sha256: str
    evaluation: int
    received_seq: int
    received_at: dt.datetime | None
    evaluated_at: dt.datetime
    archived: Path
    inbox_year: int | None
    replaces: str | None = None


def utc_now() -> dt.datetime:
    """Now in UTC, without a zone (how ``submissions`` stores received_at and evaluated_at)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def store_batch(con: duckdb.DuckDBPyConnection, batch: list[dict[str, pl.DataFrame]]) -> None:
    """Every evaluation's frames (:func:`submission_frames`) in one transaction."""
    if not batch:
        return
    with transaction(con):
        for table in TABLES:
            insert_frame(con, table, pl.concat([b[table] for b in batch]))


def write_new_receipts(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> None:
    """Receipts are derived from what was stored (after the commit): failing to write one loses
    nothing (the others are written; ``dti receipt`` writes it again) and is named in
    ``summary.receipt_failures``."""
    from pipelines.intake.receipts import receipt_path, write_receipts

    if not summary.submission_ids:
        return
    refused = {
        row[0]
        for row in con.execute(
            "SELECT submission_id FROM submissions WHERE status = 'refused' "
            "AND submission_id IN (SELECT unnest($ids::VARCHAR[]))",
            {"ids": summary.submission_ids},
        ).fetchall()
    }
    summary.receipts.extend(write_receipts(con, summary.submission_ids, summary.receipt_failures))
    summary.refused_receipts.extend(
        receipt_path(con, sid) for sid in summary.submission_ids if sid in refused
    )


def replaced_under_other_name(con: duckdb.DuckDBPyConnection, ids: list[str]) -> list[str]:
    """For the given submissions, each self-assessment now counted instead of the unit's
    earlier counted file sent under another name: ``"<new> thay tệp <earlier> (đơn vị <unit>)"``
    (a file that names the wrong unit in its hidden identification shows up here)."""
    if not ids:
        return []
    return [
        f"{new} thay tệp {old} (đơn vị {unit})"
        for _, unit, new, old in con.execute(query_text("replaced_files"), {"ids": ids}).fetchall()
    ]


def submission_frames(
    parsed: ParsedFile, evaluation: Evaluation, summary: IngestSummary | None = None
) -> dict[str, pl.DataFrame]:
    """The submission row, its accepted values, refused cells, points and missing indicators."""
    book = parsed.workbook
    accepted, rejected = len(book.accepted) + len(book.adjusted_points), len(book.rejected)
    status = "refused" if parsed.refused else "partially_accepted" if rejected else "accepted"
    digest = evaluation.submission_id
    submission = pl.DataFrame(
        [
            {
                "submission_id": digest,
                "received_seq": evaluation.received_seq,
                "kind": parsed.kind or "unknown",
                "file_name": book.file_name,
                "archived_path": str(evaluation.archived),
                "year": parsed.year,
                "level": parsed.level,
                "unit_id": parsed.unit_id,
                "framework_id": parsed.framework_id,
                "framework_version": parsed.framework_version,
                "n_accepted": accepted,
                "n_rejected": rejected,
                "status": status,
                "file_sha256": evaluation.file_sha256,
                "evaluation": evaluation.evaluation,
                "replaces_submission_id": evaluation.replaces,
                "received_at": evaluation.received_at,
                "evaluated_at": evaluation.evaluated_at,
                "source_format": parsed.source_format,
                "inbox_year": evaluation.inbox_year,
            }
        ],
        schema=SUBMISSION_COLUMNS,
    )

    def located(row: dict, columns: dict) -> dict:
        out = {k: row.get(k) for k in columns}
        out.update(
            submission_id=digest,
            file_name=book.file_name,
            year=row.get("year", parsed.year),
            unit_id=row.get("unit_id", parsed.unit_id),
        )
        if "level" in columns:
            out["level"] = row.get("level", parsed.level)
        return out

    raw = pl.DataFrame([located(r, RAW_COLUMNS) for r in book.accepted], schema=RAW_COLUMNS)
    refused = pl.DataFrame(
        [located(r, REJECTED_COLUMNS) for r in book.rejected], schema=REJECTED_COLUMNS
    )
    points = pl.DataFrame(
        [located(r, POINTS_COLUMNS) for r in book.adjusted_points], schema=POINTS_COLUMNS
    )
    missing_by_unit = dict(book.missing_by_unit)
    if book.missing_indicators and parsed.unit_id:
        missing_by_unit.setdefault(parsed.unit_id, book.missing_indicators)
    missing = pl.DataFrame(
        [
            {"submission_id": digest, "unit_id": unit, "indicator_id": indicator}
            for unit, indicators in missing_by_unit.items()
            for indicator in indicators
        ],
        schema=MISSING_COLUMNS,
    )
    if summary is not None:
        if status == "refused":
            summary.files_refused.append(book.file_name)
        summary.values_accepted += accepted
        summary.values_rejected += rejected
    return {
        "submissions": submission,
        "raw_values": raw,
        "rejected_rows": refused,
        "appraised_points": points,
        "missing_indicators": missing,
    }
