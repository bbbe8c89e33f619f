"""Re-evaluation of archived files (``dti reingest``): after the registry or the framework
changed, a file received earlier is read again from the archive; a new evaluation
``<sha256>.<n>`` is stored beside the earlier ones, with its receipt, only when the outcome
differs (docs/intake.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.framework.preset import Preset
from pipelines.intake.ingest import evaluation_frames, read_file, write_new_receipts
from pipelines.intake.pass_summary import IngestSummary
from pipelines.intake.submission_rows import TABLES, Evaluation, store_batch, utc_now


@dataclass(frozen=True)
class Reevaluation:
    """The outcome of evaluating an archived file again."""

    file_name: str
    previous_id: str
    previous_status: str
    new_id: str | None  # None when the outcome did not change (nothing stored)
    new_status: str
    changed: bool


def current_evaluations(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The latest evaluation of each received file."""
    return con.execute("SELECT * FROM current_submissions ORDER BY received_seq").pl()


def reingest(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    submission_ids: Iterable[str] = (),
    year: int | None = None,
    include_accepted: bool = False,
) -> list[Reevaluation]:
    """Evaluate archived files again against the current registry and framework.

    Selection: the files named by ``submission_ids`` (any evaluation id, the file's sha256 or a
    unique prefix of at least 8 characters), else every file whose latest evaluation was refused
    (``include_accepted``: every file) — of ``year`` if given (files whose year could not be read
    are always included). A new evaluation ``<sha256>.<n>`` is stored, with its receipt, only when
    the outcome differs; the earlier evaluations stay. The file keeps its place in the arrival
    order (``received_seq``)."""
    current = current_evaluations(con)
    wanted = list(submission_ids)
    if wanted:
        chosen = [_match(current, con, ident) for ident in wanted]
    else:
        rows = current
        if not include_accepted:
            rows = rows.filter(pl.col("status") == "refused")
        if year is not None:
            rows = rows.filter(pl.col("year").is_null() | (pl.col("year") == year))
        chosen = rows.to_dicts()
    now = utc_now()
    outcomes, batch, new_ids = [], [], []
    for previous in chosen:
        archived = Path(previous["archived_path"])
        parsed = read_file(preset, archived, previous.get("inbox_year"), previous["file_name"])
        sha = previous.get("file_sha256") or previous["submission_id"]
        number = int(previous.get("evaluation") or 1) + 1
        evaluation = Evaluation(
            submission_id=f"{sha}.{number}",
            file_sha256=sha,
            evaluation=number,
            received_seq=previous["received_seq"],
            received_at=previous.get("received_at"),
            evaluated_at=now,
            archived=archived,
            inbox_year=previous.get("inbox_year"),
            replaces=previous["submission_id"],
        )
        frames = evaluation_frames(parsed, evaluation)
        status = frames["submissions"]["status"][0]
        changed = _outcome(frames) != _outcome(_stored_frames(con, previous["submission_id"]))
        if changed:
            batch.append(frames)
            new_ids.append(evaluation.submission_id)
        outcomes.append(
            Reevaluation(
                previous["file_name"],
                previous["submission_id"],
                previous["status"],
                evaluation.submission_id if changed else None,
                status,
                changed,
            )
        )
    store_batch(con, batch)
    write_new_receipts(con, IngestSummary(submission_ids=new_ids))
    return outcomes


def _match(current: pl.DataFrame, con: duckdb.DuckDBPyConnection, ident: str) -> dict:
    ident = ident.strip().lower()
    everything = con.execute("SELECT submission_id, file_sha256 FROM submissions").fetchall()
    shas = {
        sha or sid
        for sid, sha in everything
        if sid == ident or (sha or sid) == ident or (len(ident) >= 8 and sid.startswith(ident))
    }
    if len(shas) != 1:
        raise KeyError(
            f"no submission matches {ident!r}" if not shas else f"{ident!r} is ambiguous"
        )
    sha = shas.pop()
    return current.filter(
        pl.coalesce(pl.col("file_sha256"), pl.col("submission_id")) == sha
    ).to_dicts()[0]


def _stored_frames(con: duckdb.DuckDBPyConnection, submission_id: str) -> dict[str, pl.DataFrame]:
    return {
        table: con.execute(f"SELECT * FROM {table} WHERE submission_id = ?", [submission_id]).pl()
        for table in TABLES
    }


def _outcome(frames: dict[str, pl.DataFrame]) -> tuple:
    """What an evaluation concluded, independent of its id and time: identity, status, every
    accepted value, refusal, points and missing indicator."""
    sub = frames["submissions"].row(0, named=True)
    identity = tuple(
        sub[k]
        for k in ("kind", "year", "level", "unit_id", "framework_id", "framework_version", "status")
    )

    def rows(table: str, columns: list[str]) -> tuple:
        frame = frames[table]
        if frame.is_empty():
            return ()
        return tuple(sorted(frame.select(columns).iter_rows(), key=str))

    return (
        identity,
        rows("raw_values", ["sheet", "row_number", "unit_id", "indicator_id", "kind", "value"]),
        rows("rejected_rows", ["sheet", "row_number", "column_name", "rule", "message"]),
        rows("appraised_points", ["sheet", "row_number", "unit_id", "indicator_id", "points"]),
        rows("missing_indicators", ["unit_id", "indicator_id"]),
    )
