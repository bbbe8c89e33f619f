"""Intake: archive every received file under its content hash, identify it, read it, and store
what was taken and what was refused (DOMAIN.md, yearly cycle steps 2–4)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.preset import Preset
from pipelines.registry import units_in_year
from pipelines.warehouse import insert_frame, transaction
from pipelines.workbook.layout import FORMAT_ID, META_SHEET
from pipelines.workbook.read import (
    ParsedWorkbook,
    WorkbookError,
    open_workbook,
    read_appraisal_workbook,
    read_meta,
    read_unit_workbook,
)

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


@dataclass
class IngestSummary:
    """What one ingest pass did, for progress output and Dagster metadata."""

    files_seen: int = 0
    files_new: int = 0
    values_accepted: int = 0
    values_rejected: int = 0
    files_refused: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def archive_file(path: Path, archive: Path, digest: str) -> Path:
    """Copy the file, untouched, to ``archive/<sha[:2]>/<sha><suffix>`` (kept forever)."""
    target = archive / digest[:2] / f"{digest}{path.suffix.lower()}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    return target


def submission_files(inbox: Path, year: int) -> list[Path]:
    """Workbooks for ``year``: everything under ``inbox/<year>/``, in a stable order."""
    folder = inbox / str(year)
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*.xlsx") if not p.name.startswith("~$"))


def ingest_year(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    year: int,
    inbox: Path,
    archive: Path,
    on_file: Callable[[Path], None] | None = None,
) -> IngestSummary:
    """Ingest every new file of ``inbox/<year>``; a file received before (same bytes) is skipped."""
    return ingest_files(con, preset, submission_files(inbox, year), archive, year, on_file)


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    files: Iterable[Path],
    archive: Path,
    expected_year: int | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> IngestSummary:
    """Archive, identify and read each file not received before, then store all of them in one
    transaction: an interrupted ingest leaves nothing half-stored and is simply run again."""
    summary = IngestSummary()
    known = {row[0] for row in con.execute("SELECT submission_id FROM submissions").fetchall()}
    next_seq = con.execute("SELECT coalesce(max(received_seq), 0) FROM submissions").fetchone()[0]
    batch: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
    for path in files:
        summary.files_seen += 1
        digest = file_sha256(path)
        if digest not in known:
            archived = archive_file(path, archive, digest)
            next_seq += 1
            parsed = _parse(preset, path, expected_year)
            batch.append(_frames(parsed, digest, archived, next_seq, summary))
            known.add(digest)
            summary.files_new += 1
        if on_file is not None:
            on_file(path)
    if batch:
        with transaction(con):
            for table, position in (("submissions", 0), ("raw_values", 1), ("rejected_rows", 2)):
                insert_frame(con, table, pl.concat([b[position] for b in batch]))
    return summary


@dataclass
class _Parsed:
    workbook: ParsedWorkbook
    kind: str | None = None
    year: int | None = None
    level: str | None = None
    unit_id: str | None = None
    framework_id: str | None = None
    framework_version: str | None = None


def _parse(preset: Preset, path: Path, expected_year: int | None) -> _Parsed:
    """Identify the file from its ``_meta`` sheet, check it against the preset, then read it."""
    book = None
    try:
        book = open_workbook(path)
        identity = _identify(preset, path.name, read_meta(book, path.name), expected_year)
        framework = preset.framework(identity.level)
        reader = read_unit_workbook if identity.kind == "self" else read_appraisal_workbook
        identity.workbook = reader(book, framework, path.name)
        if identity.kind == "appraisal":
            _check_appraised_units(preset, identity)
        return identity
    except WorkbookError as exc:
        refused = ParsedWorkbook(path.name)
        refused.refuse(META_SHEET, 1, "A", exc.rule, str(exc).split(": ", 1)[-1])
        return _Parsed(refused)
    finally:
        if book is not None:
            book.close()


def _identify(
    preset: Preset, name: str, meta: dict[str, str], expected_year: int | None
) -> _Parsed:
    if meta.get("format") != FORMAT_ID:
        raise WorkbookError(
            name, "unknown_format", f"định dạng '{meta.get('format')}' không được hỗ trợ"
        )
    level = meta.get("level", "")
    if level not in preset.levels:
        raise WorkbookError(
            name, "unknown_level", f"cấp '{level}' không có trong bộ chỉ số {preset.id}"
        )
    framework = preset.framework(level)
    if (
        meta.get("framework_id") != framework.id
        or meta.get("framework_version") != framework.version
    ):
        raise WorkbookError(
            name,
            "framework_mismatch",
            f"tệp lập theo bộ chỉ số {meta.get('framework_id')} ({meta.get('framework_version')}), "
            f"năm nay áp dụng {framework.id} ({framework.version})",
        )
    try:
        year = int(meta.get("year", ""))
    except ValueError:
        raise WorkbookError(name, "bad_year", f"năm '{meta.get('year')}' không hợp lệ") from None
    if expected_year is not None and year != expected_year:
        raise WorkbookError(
            name, "wrong_year", f"tệp của năm {year}, không phải năm {expected_year}"
        )
    if not framework.valid_for(year):
        raise WorkbookError(
            name, "framework_not_valid", f"bộ chỉ số {framework.id} không áp dụng cho năm {year}"
        )
    kind = meta.get("kind")
    unit_id = meta.get("unit_id") or None
    if kind == "self":
        units = units_in_year(preset.registry, level, year)
        if unit_id not in set(units["unit_id"]):
            raise WorkbookError(
                name,
                "unknown_unit",
                f"đơn vị '{unit_id}' không có trong danh mục cấp {level} năm {year}",
            )
    elif kind != "appraisal":
        raise WorkbookError(name, "unknown_kind", f"loại tệp '{kind}' không hợp lệ")
    return _Parsed(
        ParsedWorkbook(name), kind, year, level, unit_id, framework.id, framework.version
    )


def _check_appraised_units(preset: Preset, parsed: _Parsed) -> None:
    """An appraisal row for a unit that does not exist that year is refused, not silently kept."""
    units = set(units_in_year(preset.registry, parsed.level, parsed.year)["unit_id"])
    kept = []
    for row in parsed.workbook.accepted:
        if row["unit_id"] in units:
            kept.append(row)
        else:
            parsed.workbook.refuse(
                row["sheet"],
                row["row_number"],
                "A",
                "unknown_unit",
                f"đơn vị '{row['unit_id']}' không có trong danh mục "
                f"cấp {parsed.level} năm {parsed.year}",
                unit_id=row["unit_id"],
                indicator_id=row["indicator_id"],
                raw_text=row["raw_text"],
            )
    parsed.workbook.accepted = kept


def _frames(
    parsed: _Parsed, digest: str, archived: Path, seq: int, summary: IngestSummary
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The submission row, its accepted values and its refused cells, as frames to insert."""
    book = parsed.workbook
    accepted, rejected = len(book.accepted), len(book.rejected)
    if parsed.kind is None:
        status = "refused"
        summary.files_refused.append(book.file_name)
    else:
        status = "partially_accepted" if rejected else "accepted"
    submission = pl.DataFrame(
        [
            {
                "submission_id": digest,
                "received_seq": seq,
                "kind": parsed.kind or "unknown",
                "file_name": book.file_name,
                "archived_path": str(archived),
                "year": parsed.year,
                "level": parsed.level,
                "unit_id": parsed.unit_id,
                "framework_id": parsed.framework_id,
                "framework_version": parsed.framework_version,
                "n_accepted": accepted,
                "n_rejected": rejected,
                "status": status,
            }
        ],
        schema=SUBMISSION_COLUMNS,
    )
    raw = pl.DataFrame(
        [
            {
                **row,
                "submission_id": digest,
                "file_name": book.file_name,
                "year": parsed.year,
                "level": parsed.level,
                "unit_id": row.get("unit_id", parsed.unit_id),
            }
            for row in book.accepted
        ],
        schema=RAW_COLUMNS,
    )
    refused = pl.DataFrame(
        [
            {
                **{k: row.get(k) for k in REJECTED_COLUMNS},
                "submission_id": digest,
                "year": parsed.year,
                "unit_id": row.get("unit_id", parsed.unit_id),
            }
            for row in book.rejected
        ],
        schema=REJECTED_COLUMNS,
    )
    summary.values_accepted += accepted
    summary.values_rejected += rejected
    return submission, raw, refused
