"""Intake: archive every received file under its content hash, identify it, read it, and store
what was taken and what was refused (DOMAIN.md, yearly cycle steps 2–4). See docs/intake.md.

- **Nothing received is lost.** Each file is copied to ``archive/<sha[:2]>/<sha><ext>`` before it
  is read; a file refused as a whole is stored as a submission with status ``refused``, with as
  much of its identification as could be read, and one located refusal.
- **Order of resubmissions.** Files are numbered (``received_seq``) in the order they are picked
  up: across ingest passes, a later pass comes later; within one pass, by file modification time
  (oldest first), then by path. For each unit the counted self-assessment is the one with the
  highest ``received_seq`` among its files that had something accepted; the earlier ones stay.
- **Re-evaluation.** A file is evaluated once per content; :func:`reingest` evaluates archived
  files again (after the registry or the framework changed) and stores a new evaluation beside
  the old one when the outcome differs.
- **Receipts.** After each pass a Vietnamese receipt per new submission is written beside the
  archive (``receipts/<year>/…receipt.md``, see :mod:`pipelines.receipts`); ``dti receipt``
  prints it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from pipelines.parallel import run_jobs
from pipelines.preset import Preset
from pipelines.warehouse import insert_frame, transaction
from pipelines.workbook.csvfile import read_csv_submission
from pipelines.workbook.fastbook import FastBook, NotPlain
from pipelines.workbook.layout import FORMAT_ID, META_ROWS, META_SHEET
from pipelines.workbook.read import (
    ParsedWorkbook,
    WorkbookError,
    open_workbook,
    read_appraisal_workbook,
    read_meta_cells,
    read_unit_workbook,
)

SUFFIXES = (".xlsx", ".csv")

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
    """What one ingest pass did, for progress output and Dagster metadata."""

    files_seen: int = 0
    files_new: int = 0
    values_accepted: int = 0
    values_rejected: int = 0
    files_refused: list[str] = field(default_factory=list)
    submission_ids: list[str] = field(default_factory=list, repr=False)
    receipts: list[Path] = field(default_factory=list, repr=False)


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


def arrival_key(path: Path) -> tuple[int, str]:
    """The order files of one pass are numbered in: modification time, then path."""
    return (path.stat().st_mtime_ns, str(path))


def submission_files(inbox: Path, year: int) -> list[Path]:
    """Workbooks and CSV files for ``year``: everything under ``inbox/<year>/``, in arrival
    order (:func:`arrival_key`). Excel's lock files (``~$…``) are not submissions."""
    folder = inbox / str(year)
    if not folder.exists():
        return []
    found = [
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("~$")
    ]
    return sorted(found, key=arrival_key)


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
    transaction: an interrupted ingest leaves nothing half-stored and is simply run again.
    Files are numbered in arrival order (:func:`arrival_key`), whatever order they are given in."""
    summary = IngestSummary()
    known = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT coalesce(file_sha256, submission_id) FROM submissions"
        ).fetchall()
    }
    next_seq = con.execute("SELECT coalesce(max(received_seq), 0) FROM submissions").fetchone()[0]
    now = _utc_now()
    batch: list[dict[str, pl.DataFrame]] = []
    arrived = [(path, file_sha256(path)) for path in sorted(files, key=arrival_key)]
    fresh = {}
    for path, digest in arrived:  # the first copy of each content not received before
        if digest not in known and digest not in fresh:
            fresh[digest] = path
    books = dict(zip(fresh, read_plain_workbooks(list(fresh.values())), strict=True))
    for path, digest in arrived:
        summary.files_seen += 1
        if digest not in known:
            archived = archive_file(path, archive, digest)
            next_seq += 1
            parsed = parse_file(preset, path, expected_year, book=books.pop(digest, None))
            received_at = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(
                tzinfo=None
            )
            evaluation = _Evaluation(
                submission_id=digest,
                file_sha256=digest,
                evaluation=1,
                received_seq=next_seq,
                received_at=received_at,
                evaluated_at=now,
                archived=archived,
                inbox_year=expected_year,
            )
            batch.append(_frames(parsed, evaluation, summary))
            known.add(digest)
            summary.files_new += 1
            summary.submission_ids.append(digest)
        if on_file is not None:
            on_file(path)
    _store(con, batch)
    _write_receipts(con, summary)
    return summary


@dataclass(frozen=True)
class _Evaluation:
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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _store(con: duckdb.DuckDBPyConnection, batch: list[dict[str, pl.DataFrame]]) -> None:
    if not batch:
        return
    with transaction(con):
        for table in TABLES:
            insert_frame(con, table, pl.concat([b[table] for b in batch]))


def _write_receipts(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> None:
    """Receipts are derived from what was stored (after the commit): failing to write one loses
    nothing, and ``dti receipt`` writes it again."""
    from pipelines.receipts import write_receipts

    if summary.submission_ids:
        summary.receipts.extend(write_receipts(con, summary.submission_ids))


# --- identification and reading ---------------------------------------------------------------


@dataclass
class ParsedFile:
    """One file read: its identification (as far as it could be read) and its contents."""

    workbook: ParsedWorkbook
    source_format: str = "xlsx"
    refused: bool = True
    kind: str | None = None
    year: int | None = None
    level: str | None = None
    unit_id: str | None = None
    framework_id: str | None = None
    framework_version: str | None = None


def read_plain_workbooks(paths: list[Path]) -> list[FastBook | None]:
    """Each plain workbook read from its XML (:class:`FastBook`), on every core; None for a CSV
    file or a workbook only openpyxl reads faithfully (opened later, in this process).

    Reading the XML is most of an intake's time and pure Python, so it is what the forked
    workers do (:mod:`pipelines.parallel`); everything after it stays here."""
    return run_jobs([partial(_plain_workbook, path) for path in paths])


def _plain_workbook(path: Path) -> FastBook | None:
    if path.suffix.lower() == ".csv":
        return None
    try:
        return FastBook(path)
    except NotPlain:
        return None


def parse_file(
    preset: Preset,
    path: Path,
    expected_year: int | None,
    display_name: str | None = None,
    book: FastBook | None = None,
) -> ParsedFile:
    """Identify and read one file (``.xlsx`` or ``.csv``). ``display_name`` is the name used in
    messages (a re-evaluation reads the archived copy but names the file as it was sent);
    ``book`` is the workbook already read (:func:`read_plain_workbooks`)."""
    name = display_name or path.name
    if path.suffix.lower() == ".csv":
        return _parse_csv(preset, path, expected_year, name)
    return _parse_workbook(preset, path, expected_year, name, book)


def _parse_workbook(
    preset: Preset,
    path: Path,
    expected_year: int | None,
    name: str,
    book: FastBook | None = None,
) -> ParsedFile:
    """Identify the file from its ``_meta`` sheet, check it against the preset, then read it."""
    known = ParsedFile(ParsedWorkbook(name))
    try:
        if book is None:
            book = open_workbook(path)
        meta = read_meta_cells(book, name)
        _known_identity(known, meta)
        _check_identity(preset, name, meta, expected_year)
        framework = preset.framework(known.level)
        reader = read_unit_workbook if known.kind == "self" else read_appraisal_workbook
        known.workbook = reader(book, framework, name)
        known.refused = False
        if known.kind == "appraisal":
            known.unit_id = None
            _check_appraised_units(preset, known)
        return known
    except WorkbookError as exc:
        refused = ParsedWorkbook(name)
        refused.refuse(exc.sheet, exc.row, exc.column, exc.rule, exc.detail)
        known.workbook, known.refused = refused, True
        return known
    finally:
        if book is not None:
            book.close()


def _known_identity(known: ParsedFile, meta: dict[str, tuple[int, str]]) -> None:
    """Keep what the ``_meta`` sheet says, even when the file is then refused."""
    value = {key: text.strip() for key, (_, text) in meta.items()}
    known.kind = value.get("kind") if value.get("kind") in ("self", "appraisal") else None
    known.level = value.get("level") or None
    known.unit_id = value.get("unit_id") or None
    known.framework_id = value.get("framework_id") or None
    known.framework_version = value.get("framework_version") or None
    try:
        known.year = int(value.get("year", ""))
    except ValueError:
        known.year = None


def _meta_error(
    name: str, meta: dict[str, tuple[int, str]], key: str, rule: str, message: str
) -> WorkbookError:
    """A refusal of the identification, pointing at the ``_meta`` cell holding ``key`` (column B),
    or at the row where the template puts it (column A) when the key is not there at all."""
    if key in meta:
        return WorkbookError(name, rule, message, sheet=META_SHEET, row=meta[key][0], column="B")
    return WorkbookError(
        name,
        rule,
        f"thiếu dòng '{key}'; {message}",
        sheet=META_SHEET,
        row=META_ROWS[key],
        column="A",
    )


def _check_identity(
    preset: Preset, name: str, meta: dict[str, tuple[int, str]], expected_year: int | None
) -> None:
    value = {key: text.strip() for key, (_, text) in meta.items()}
    if value.get("format") != FORMAT_ID:
        raise _meta_error(
            name,
            meta,
            "format",
            "unknown_format",
            f"định dạng '{value.get('format', '')}' không được hỗ trợ (cần {FORMAT_ID})",
        )
    kind = value.get("kind", "")
    if kind not in ("self", "appraisal"):
        raise _meta_error(name, meta, "kind", "unknown_kind", f"loại tệp '{kind}' không hợp lệ")
    level = value.get("level", "")
    if level not in preset.levels:
        raise _meta_error(
            name,
            meta,
            "level",
            "unknown_level",
            f"cấp '{level}' không có trong bộ chỉ số {preset.id}",
        )
    framework = preset.framework(level)
    for key, expected in (("framework_id", framework.id), ("framework_version", framework.version)):
        if value.get(key) != expected:
            raise _meta_error(
                name,
                meta,
                key,
                "framework_mismatch",
                f"tệp lập theo bộ chỉ số {value.get('framework_id')} "
                f"({value.get('framework_version')}), năm nay áp dụng {framework.id} "
                f"({framework.version}); tải mẫu mới và nhập lại",
            )
    try:
        year = int(value.get("year", ""))
    except ValueError:
        raise _meta_error(
            name, meta, "year", "bad_year", f"năm '{value.get('year', '')}' không hợp lệ"
        ) from None
    if expected_year is not None and year != expected_year:
        raise _meta_error(
            name, meta, "year", "wrong_year", f"tệp của năm {year}, không phải năm {expected_year}"
        )
    if not framework.valid_for(year):
        raise _meta_error(
            name,
            meta,
            "year",
            "framework_not_valid",
            f"bộ chỉ số {framework.id} không áp dụng cho năm {year}",
        )
    if kind == "self":
        unit_id = value.get("unit_id", "")
        if unit_id not in preset.unit_ids(level, year):
            raise _meta_error(
                name,
                meta,
                "unit_id",
                "unknown_unit",
                f"đơn vị '{unit_id}' không có trong danh mục cấp {level} năm {year}",
            )


def _check_appraised_units(preset: Preset, parsed: ParsedFile) -> None:
    """An appraisal row for a unit that does not exist that year is refused, not silently kept
    (its value and its points, with one refusal for the row)."""
    units = preset.unit_ids(parsed.level, parsed.year)
    book = parsed.workbook
    refused_rows: set[tuple[str, int]] = set()
    for entries in (book.accepted, book.adjusted_points):
        kept = []
        for row in entries:
            if row["unit_id"] in units:
                kept.append(row)
                continue
            where = (row["sheet"], row["row_number"])
            if where not in refused_rows:
                refused_rows.add(where)
                book.refuse(
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
        entries[:] = kept
    book.sort_rejected()


def _parse_csv(preset: Preset, path: Path, expected_year: int | None, name: str) -> ParsedFile:
    def resolve(unit_id: str, year: int):
        for level in preset.levels:
            if unit_id in preset.unit_ids(level, year):
                return level, preset.framework(level)
        return None

    try:
        submission = read_csv_submission(path, resolve, expected_year, display_name=name)
    except WorkbookError as exc:
        refused = ParsedWorkbook(name)
        refused.refuse(exc.sheet, exc.row, exc.column, exc.rule, exc.detail)
        return ParsedFile(refused, "csv", refused=True, year=expected_year)

    def single(values: set):
        return next(iter(values)) if len(values) == 1 else None

    framework = single(submission.frameworks)
    return ParsedFile(
        submission.parsed,
        "csv",
        refused=False,
        kind=submission.kind,
        year=expected_year if expected_year is not None else single(submission.years),
        level=single(submission.levels),
        unit_id=single(submission.units) if submission.kind == "self" else None,
        framework_id=framework[0] if framework else None,
        framework_version=framework[1] if framework else None,
    )


# --- storing ----------------------------------------------------------------------------------


def _frames(
    parsed: ParsedFile, evaluation: _Evaluation, summary: IngestSummary | None = None
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


# --- re-evaluation ----------------------------------------------------------------------------


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
    return con.execute(
        "SELECT * FROM submissions QUALIFY row_number() OVER ("
        "PARTITION BY coalesce(file_sha256, submission_id) "
        "ORDER BY coalesce(evaluation, 1) DESC) = 1 ORDER BY received_seq"
    ).pl()


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
    now = _utc_now()
    outcomes, batch, new_ids = [], [], []
    for previous in chosen:
        archived = Path(previous["archived_path"])
        parsed = parse_file(
            preset, archived, previous.get("inbox_year"), display_name=previous["file_name"]
        )
        sha = previous.get("file_sha256") or previous["submission_id"]
        number = int(previous.get("evaluation") or 1) + 1
        evaluation = _Evaluation(
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
        frames = _frames(parsed, evaluation)
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
    _store(con, batch)
    _write_receipts(con, IngestSummary(submission_ids=new_ids))
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
