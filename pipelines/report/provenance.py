"""Where a year's data came from: the files received, the last one, and whether the files say they
are synthetic."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

from pipelines.report.contents import Provenance
from pipelines.store.warehouse import table_columns


def _meta_synthetic(path: Path) -> bool | None:
    """The ``synthetic`` flag of a DTI workbook's identification sheet (None: unreadable).

    Read once per version of the file in a process: a run over several years writes the index
    (every year's provenance) after each year's report and annex, and the archived copies do
    not change."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _meta_synthetic_of(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1 << 16)
def _meta_synthetic_of(path: str, mtime_ns: int, size: int) -> bool | None:
    """:func:`_meta_synthetic` of the file as it is at (``mtime_ns``, ``size``)."""
    import fastexcel

    from pipelines.workbook.layout import META_SHEET

    try:
        sheet = fastexcel.read_excel(path).load_sheet_by_name(META_SHEET, header_row=None)
        frame = sheet.to_polars()
    except Exception:
        return None
    if frame.width < 2:
        return None
    meta = {str(k): str(v) for k, v in zip(frame[:, 0], frame[:, 1], strict=True)}
    return meta.get("synthetic", "").strip().lower() == "true"


def provenance(con: duckdb.DuckDBPyConnection, year: int) -> Provenance:
    """Where the year's data came from: files received, the last one, and whether the files
    say they are synthetic (the ``synthetic`` key of each workbook's ``_meta`` sheet, read from
    the archived copy; the warehouse has no such column)."""
    received_at = "received_at" if "received_at" in table_columns(con, "submissions") else "NULL"
    files = con.execute(
        f"SELECT file_name, archived_path, received_seq, status, {received_at} AS received_at "
        "FROM submissions WHERE year = ? ORDER BY received_seq",
        [year],
    ).pl()
    rejected = con.execute(
        "SELECT count(*) FROM rejected_rows r JOIN submissions s USING (submission_id) "
        "WHERE s.year = ?",
        [year],
    ).fetchone()[0]
    used = files.filter(pl.col("status") != "refused")
    n_checked = n_synthetic = 0
    received: list[dt.datetime] = []
    for row in used.iter_rows(named=True):
        path = Path(row["archived_path"])
        if row["received_at"] is not None:  # recorded at intake (UTC)
            received.append(row["received_at"].replace(tzinfo=dt.UTC))
        elif path.exists():  # older warehouses: the archive copy is made on receipt
            received.append(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))
        if not path.exists():
            continue
        flag = _meta_synthetic(path)
        if flag is not None:
            n_checked += 1
            n_synthetic += flag
    last = used.row(-1, named=True) if used.height else None
    return Provenance(
        n_submissions=files.height,
        n_refused=files.height - used.height,
        n_rejected_cells=int(rejected),
        last_file=last["file_name"] if last else None,
        last_seq=last["received_seq"] if last else None,
        data_as_of=max(received) if received else None,
        n_checked=n_checked,
        n_synthetic=n_synthetic,
    )
