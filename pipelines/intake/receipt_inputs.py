"""What one receipt shows, read from the warehouse for many submissions at once (a few queries for
all of them), as plain Python rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from pipelines.framework.assumed import framework_assumed
from pipelines.store.warehouse import query_text
from pipelines.text.rows import Row, rows_by


@dataclass
class ReceiptInputs:
    """Everything one receipt shows, read from the warehouse, as plain Python rows (a receipt is
    rendered from a few dozen rows: row lists are quicker than frames of that size, and can be
    rendered in a forked worker)."""

    sub: Row
    accepted: list[Row]
    refused: list[Row]
    points: list[Row]
    missing: list[Row]
    names: dict[str, str]
    unit_label: str | None  # "<id> – <name>" of the submission's unit, if it names one
    later: str | None  # a later evaluation of the same file
    superseded: list[str]  # files received later that count instead of this one
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (unit, earlier file name)
    assumed_banner: str | None = None  # the framework's components not from the decision


_IDS = "submission_id IN (SELECT unnest($ids::VARCHAR[]))"


def gather_receipt_inputs(
    con: duckdb.DuckDBPyConnection, ids: list[str]
) -> dict[str, ReceiptInputs]:
    """The inputs of the receipts of ``ids``, one query per table for all of them."""
    params = {"ids": ids}
    subs = con.execute(f"SELECT * FROM submissions WHERE {_IDS}", params).pl()
    if subs.is_empty():
        return {}

    def per_submission(sql: str) -> dict[str, list[Row]]:
        return rows_by(con.execute(sql, params).pl(), "submission_id")

    accepted = per_submission(
        f"SELECT * FROM raw_values WHERE {_IDS} ORDER BY submission_id, unit_id, row_number"
    )
    refused = per_submission(
        f"SELECT * FROM rejected_rows WHERE {_IDS} ORDER BY submission_id, sheet, row_number, "
        "length(column_name), column_name"
    )
    points = per_submission(
        f"SELECT * FROM appraised_points WHERE {_IDS} ORDER BY submission_id, unit_id, row_number"
    )
    missing = per_submission(
        f"SELECT * FROM missing_indicators WHERE {_IDS} ORDER BY submission_id, unit_id"
    )
    unit_ids = [u for u in subs["unit_id"].unique().to_list() if u]
    unit_names = dict(
        con.execute(
            "SELECT unit_id, first(name) FROM units "
            "WHERE unit_id IN (SELECT unnest($u::VARCHAR[])) GROUP BY unit_id",
            {"u": unit_ids},
        ).fetchall()
    )
    evaluations: dict[str, list[tuple[int, str]]] = {}
    shas = [r["file_sha256"] or r["submission_id"] for r in subs.iter_rows(named=True)]
    for sha, evaluation, sid in con.execute(
        "SELECT file_sha256, evaluation, submission_id FROM submissions "
        "WHERE file_sha256 IN (SELECT unnest($s::VARCHAR[]))",
        {"s": shas},
    ).fetchall():
        evaluations.setdefault(sha, []).append((evaluation, sid))
    superseded = _superseded_many(
        con,
        [
            r["submission_id"]
            for r in subs.iter_rows(named=True)
            if r["kind"] == "self" and r["status"] != "refused"
        ],
    )
    replaced: dict[str, list[tuple[str, str]]] = {}
    for sid, unit, _, old_name in con.execute(
        query_text("replaced_files"), {"ids": list(subs["submission_id"])}
    ).fetchall():
        replaced.setdefault(sid, []).append((unit, old_name))
    names_cache: dict[tuple, dict[str, str]] = {}
    banners: dict[tuple, str | None] = {}
    out = {}
    for sub in subs.iter_rows(named=True):
        sid = sub["submission_id"]
        key = (sub["framework_id"], sub["framework_version"])
        if key not in names_cache:
            names_cache[key] = _indicator_names(con, *key)
        banner_key = (*key, sub["level"], sub["year"])
        if banner_key not in banners:
            assumed = framework_assumed(con, *banner_key)
            banners[banner_key] = assumed.banner if assumed is not None else None
        evaluation = sub.get("evaluation") or 1
        later = sorted(
            (e, s)
            for e, s in evaluations.get(sub.get("file_sha256") or sid, [])
            if e is not None and e > evaluation
        )
        unit = sub["unit_id"]
        out[sid] = ReceiptInputs(
            sub=sub,
            accepted=accepted.get(sid, []),
            refused=refused.get(sid, []),
            points=points.get(sid, []),
            missing=missing.get(sid, []),
            names=names_cache[key],
            unit_label=(f"{unit} – {unit_names[unit]}" if unit in unit_names else unit)
            if unit
            else None,
            later=later[-1][1] if later else None,
            superseded=superseded.get(sid, []),
            replaced=replaced.get(sid, []),
            assumed_banner=banners[banner_key],
        )
    return out


def _unit_label(con: duckdb.DuckDBPyConnection, unit_id: str) -> str:
    row = con.execute("SELECT name FROM units WHERE unit_id = ? LIMIT 1", [unit_id]).fetchone()
    return f"{unit_id} – {row[0]}" if row else unit_id


def _indicator_names(
    con: duckdb.DuckDBPyConnection, framework_id: str | None, version: str | None
) -> dict[str, str]:
    """Leaf id → name, in document order, from the framework stored in the warehouse."""
    if not framework_id:
        return {}
    rows = con.execute(
        query_text("leaf_names"), {"framework_id": framework_id, "version": version}
    ).fetchall()
    return {node: name for node, name, _ in rows}


def _superseded_many(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, list[str]]:
    """Files received later that count instead of each given self-assessment: id → file names."""
    if not ids:
        return {}
    rows = con.execute(query_text("superseding_files"), {"ids": ids}).fetchall()
    found: dict[str, list[str]] = {}
    for sid, name, _ in rows:
        found.setdefault(sid, []).append(name)
    return found
