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
- **Storing.** :mod:`pipelines.intake.received_files` lists, orders and archives the files;
  :mod:`pipelines.intake.submission_rows` turns each evaluation into the warehouse's rows.
- **Receipts.** After each pass a Vietnamese receipt per new submission is written beside the
  archive (``receipts/<year>/…receipt.md``, see :mod:`pipelines.intake.receipts`); ``dti receipt``
  prints it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import polars as pl

from pipelines.framework.preset import Preset
from pipelines.intake.pass_summary import IngestSummary
from pipelines.intake.receipts import missing_receipts, receipt_path, write_receipts
from pipelines.intake.received_files import (
    archive_file,
    archive_suffix,
    arrival_key,
    display_name,
    mtime_ns,
    submission_files,
)
from pipelines.intake.submission_read import (
    ParsedFile,
    parse_file,
    read_plain_workbooks,
    refused_file,
)
from pipelines.intake.submission_rows import Evaluation, store_batch, submission_frames, utc_now
from pipelines.store.warehouse import query_text


def file_sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


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


def _digest(path: Path) -> str:
    """The file's SHA-256, or, when it cannot even be read, an id made from its path and time
    (``unreadable-…``) under which its refusal is stored."""
    try:
        return file_sha256(path)
    except OSError:
        stamp = f"{path}|{mtime_ns(path)}".encode("utf-8", "surrogateescape")
        return UNREADABLE + hashlib.sha256(stamp).hexdigest()[: 64 - len(UNREADABLE)]


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
    mtime = mtime_ns(path)
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


# --- after the batch is stored -------------------------------------------------------------


def write_new_receipts(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> None:
    """Receipts are derived from what was stored (after the commit): failing to write one loses
    nothing (the others are written; ``dti receipt`` writes it again) and is named in
    ``summary.receipt_failures``."""
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
