"""The warehouse rows of one evaluated file (its submission, accepted values, refused cells,
points and missing indicators), and a pass's batch of them stored in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.intake.pass_summary import IngestSummary
from pipelines.intake.submission_read import (
    ParsedFile,
)
from pipelines.store.warehouse import insert_frame, transaction

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


# where a cell came from: the submission, its file, sheet, row and column, and the year
CELL_LOCATION = {
    "submission_id": pl.String,
    "file_name": pl.String,
    "sheet": pl.String,
    "row_number": pl.Int32,
    "column_name": pl.String,
    "year": pl.Int32,
}


RAW_COLUMNS = {
    **CELL_LOCATION,
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
    **CELL_LOCATION,
    "unit_id": pl.String,
    "indicator_id": pl.String,
    "raw_text": pl.String,
    "rule": pl.String,
    "message": pl.String,
}


POINTS_COLUMNS = {
    **CELL_LOCATION,
    "level": pl.String,
    "unit_id": pl.String,
    "indicator_id": pl.String,
    "raw_text": pl.String,
    "points": pl.Float64,
    "reason": pl.String,
}


MISSING_COLUMNS = {"submission_id": pl.String, "unit_id": pl.String, "indicator_id": pl.String}


TABLES = ("submissions", "raw_values", "rejected_rows", "appraised_points", "missing_indicators")


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
