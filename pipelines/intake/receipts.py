"""Per-submission receipts (*biên nhận*), in Vietnamese Markdown: what was taken, what was refused
(each located message), which indicators the file has no row for, and what to do next.

A receipt is derived from the warehouse (never the other way round), written after each ingest
beside the archive, as ``receipts/<year>/<file stem>.<id[:12]>.receipt.md`` (the archive itself
holds only the bytes received), and printed again by ``dti receipt SUBMISSION_ID|FILE``.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import duckdb

from pipelines.intake.receipt_inputs import gather_receipt_inputs
from pipelines.intake.receipt_text import render_receipt


class ReceiptError(KeyError):
    """No submission matches what was asked for."""


MAX_NAME_BYTES = 200  # a receipt's file name, in UTF-8 bytes (file systems allow 255)


def receipt_path(con: duckdb.DuckDBPyConnection, submission_id: str) -> Path:
    """``<archive>/../receipts/<year>/<file stem>.<id[:12]>[.<evaluation>].receipt.md``: beside the
    archive (which holds only the bytes received), named so staff can find the unit's file.
    ``<year>`` is the inbox year the file was found in (a file sent for the wrong year is
    answered where its sender looks), else the year the file names."""
    row = con.execute(
        "SELECT archived_path, file_name, coalesce(inbox_year, year), coalesce(evaluation, 1) "
        "FROM submissions WHERE submission_id = ?",
        [submission_id],
    ).fetchone()
    if row is None:
        raise ReceiptError(f"không có lượt nộp '{submission_id}'")
    return _path_of(submission_id, *row)


def missing_receipts(con: duckdb.DuckDBPyConnection, year: int) -> list[str]:
    """The submissions answered under ``year`` (their inbox year, else the year they name) whose
    receipt file is not there (never written, or removed): an ingest writes them again."""
    rows = con.execute(
        "SELECT submission_id, archived_path, file_name, coalesce(inbox_year, year), "
        "coalesce(evaluation, 1) FROM submissions WHERE coalesce(inbox_year, year) = ? "
        "ORDER BY received_seq, coalesce(evaluation, 1)",
        [year],
    ).fetchall()
    return [row[0] for row in rows if not _path_of(*row).exists()]


def bounded_name(stem: str, tail: str, limit: int = MAX_NAME_BYTES) -> str:
    """``stem + tail``, NFC, with the stem cut (on a character boundary) so that the whole name
    is at most ``limit`` UTF-8 bytes; path separators and control characters become ``_``."""
    stem = unicodedata.normalize("NFC", stem)
    stem = "".join("_" if c in "/\\" or unicodedata.category(c) == "Cc" else c for c in stem)
    room = limit - len(tail.encode("utf-8"))
    cut = stem.encode("utf-8", "replace")[: max(room, 0)].decode("utf-8", "ignore")
    return unicodedata.normalize("NFC", cut.rstrip(". ") + tail)


def _path_of(submission_id: str, archived, file_name, year, evaluation) -> Path:
    folder = Path(archived).parent.parent.parent / "receipts" / str(year or "khong-ro-nam")
    suffix = f".{evaluation}" if evaluation > 1 else ""
    tail = f".{submission_id[:12]}{suffix}.receipt.md"
    return folder / bounded_name(Path(file_name).stem, tail)


def write_receipt(con: duckdb.DuckDBPyConnection, submission_id: str) -> Path:
    """Write the receipt next to the archived file; returns its path."""
    return write_receipts(con, [submission_id])[0]


def write_receipts(
    con: duckdb.DuckDBPyConnection,
    submission_ids: list[str],
    failures: list[str] | None = None,
) -> list[Path]:
    """Write the receipts of many submissions (an ingest pass) with a few queries for all of
    them instead of a dozen per receipt; the text is the same as :func:`receipt_markdown`'s.
    With ``failures``, a receipt that cannot be written is named there (``"<file>: <reason>"``)
    and the others are still written; without, the error is raised."""
    written = []
    inputs = gather_receipt_inputs(con, list(submission_ids))
    for submission_id in submission_ids:
        if submission_id not in inputs:
            raise ReceiptError(f"không có lượt nộp '{submission_id}'")
        data = inputs[submission_id]
        sub = data.sub
        path = _path_of(
            submission_id,
            sub["archived_path"],
            sub["file_name"],
            sub["inbox_year"] if sub.get("inbox_year") is not None else sub["year"],
            sub.get("evaluation") if sub.get("evaluation") is not None else 1,
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render_receipt(data), encoding="utf-8")
        except (OSError, ValueError) as exc:
            if failures is None:
                raise
            failures.append(f"{sub['file_name']}: {type(exc).__name__}: {exc}")
            continue
        written.append(path)
    return written


def receipt_markdown(con: duckdb.DuckDBPyConnection, submission_id: str) -> str:
    """The receipt of one submission (one evaluation of one file), NFC-normalised."""
    inputs = gather_receipt_inputs(con, [submission_id])
    if submission_id not in inputs:
        raise ReceiptError(f"không có lượt nộp '{submission_id}'")
    return render_receipt(inputs[submission_id])
