"""How many of a level's scored components are not from the decision (``source: assumed`` in
the framework), the one Vietnamese banner every results page, annex sheet and receipt shows for
them, and the officer's recorded acceptance to publish such a snapshot anyway.

The counts are read from ``framework_nodes`` (the warehouse keeps each node's ``source``), so a
page says exactly what the framework version behind its snapshot says.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import dataclass

import duckdb

from pipelines.text.labels import LEVEL_NAMES, vn_time


@dataclass(frozen=True)
class AssumedComponents:
    """The components of one level's framework version, and how many are assumed."""

    level: str
    n_components: int
    n_assumed: int
    decision: str | None  # the decision the framework should come from ("2534/QĐ-UBND")

    @property
    def any_assumed(self) -> bool:
        return self.n_assumed > 0

    @property
    def banner(self) -> str | None:
        """The Vietnamese warning (NFC), or None when every component is from the decision."""
        if not self.any_assumed:
            return None
        level = LEVEL_NAMES.get(self.level, self.level)
        level = level[:1].lower() + level[1:]
        decision = (
            f"Quyết định {self.decision}" if self.decision else "quyết định ban hành bộ chỉ số"
        )
        text = (
            f"Lưu ý: {self.n_assumed}/{self.n_components} chỉ số thành phần của {level} "
            f"không lấy từ {decision} mà là giả định (minh họa); kết quả không phải kết quả "
            "chính thức."
        )
        return unicodedata.normalize("NFC", text)


def illustrative_notice(sentence: str | None) -> dict[str, str | None] | None:
    """The banner notice (as :func:`pipelines.report.pages.assumed_notices` gives them) of a
    preset that is an illustration (``illustrative:``), None for a real one."""
    if not sentence:
        return None
    return {"banner": unicodedata.normalize("NFC", f"Minh họa: {sentence}"), "accepted": None}


def assumed_components(
    con: duckdb.DuckDBPyConnection,
    framework_hash: str,
    level: str,
    decision: str | None = None,
) -> AssumedComponents:
    """The component counts of the framework version ``framework_hash``; ``decision`` is the
    preset's (when the caller has the preset), else the framework's own ``source.decision``."""
    n_components, n_assumed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE source = 'assumed') FROM framework_nodes "
        "WHERE framework_hash = ? AND node_level = 'component'",
        [framework_hash],
    ).fetchone()
    if decision is None:
        row = con.execute(
            "SELECT source_json FROM framework_versions WHERE framework_hash = ?",
            [framework_hash],
        ).fetchone()
        source = json.loads(row[0]) if row and row[0] else {}
        decision = source.get("decision") if isinstance(source, dict) else None
    return AssumedComponents(level, int(n_components), int(n_assumed), decision)


def snapshot_assumed(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> AssumedComponents:
    """The assumed components of the framework version a snapshot was scored with."""
    row = con.execute(
        "SELECT framework_hash, level FROM snapshots WHERE snapshot_id = ?", [snapshot_id]
    ).fetchone()
    if row is None:
        raise KeyError(f"no snapshot {snapshot_id}")
    return assumed_components(con, row[0], row[1])


def framework_assumed(
    con: duckdb.DuckDBPyConnection,
    framework_id: str | None,
    version: str | None,
    level: str | None,
    year: int | None,
) -> AssumedComponents | None:
    """The assumed components of a framework named by id and version (a submission's), the
    version the year is scored with first; None when the warehouse does not hold it."""
    if not framework_id:
        return None
    row = con.execute(
        "SELECT v.framework_hash, v.level FROM framework_versions v "
        "LEFT JOIN year_frameworks y ON y.framework_hash = v.framework_hash AND y.year = ? "
        "WHERE v.framework_id = ? AND (? IS NULL OR v.version = ?) "
        "ORDER BY y.year IS NULL, v.framework_hash LIMIT 1",
        [year, framework_id, version, version],
    ).fetchone()
    if row is None:
        return None
    return assumed_components(con, row[0], level or row[1])


@dataclass(frozen=True)
class AssumedAcceptance:
    """An officer's recorded acceptance to publish a snapshot with assumed components."""

    snapshot_id: str
    n_assumed: int
    n_components: int
    accepted_by: str
    reason: str
    accepted_at: dt.datetime  # UTC, naive

    @property
    def text(self) -> str:
        """What the published pages say about it (Vietnamese, NFC)."""
        return unicodedata.normalize(
            "NFC",
            f"Công bố dù có {self.n_assumed}/{self.n_components} chỉ số thành phần giả định: "
            f"{self.accepted_by} chấp nhận lúc {vn_time(self.accepted_at)}, lý do: {self.reason}",
        )


class AssumedNotAcceptedError(ValueError):
    """Publishing a snapshot with assumed components without a recorded acceptance."""


def refusal_text(assumed: AssumedComponents, year: int) -> str:
    """The one Vietnamese line ``dti publish`` prints when it refuses."""
    level = LEVEL_NAMES.get(assumed.level, assumed.level)
    return unicodedata.normalize(
        "NFC",
        f"không công bố năm {year}, {level[:1].lower() + level[1:]}: "
        f"{assumed.n_assumed}/{assumed.n_components} chỉ số thành phần là giả định, không lấy "
        "từ quyết định; muốn công bố vẫn phải ghi nhận chấp nhận: "
        "--accept-assumed --by HỌ_TÊN --reason LÝ_DO",
    )


def record_acceptance(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: str,
    assumed: AssumedComponents,
    accepted_by: str,
    reason: str,
    accepted_at: dt.datetime,
) -> AssumedAcceptance:
    """Store the acceptance (the caller's transaction); who and why must not be blank."""
    accepted_by, reason = accepted_by.strip(), reason.strip()
    if not accepted_by or not reason:
        raise AssumedNotAcceptedError("chấp nhận công bố phải ghi người chấp nhận và lý do")
    con.execute(
        "INSERT INTO assumed_acceptances VALUES (?, ?, ?, ?, ?, ?)",
        [snapshot_id, assumed.n_assumed, assumed.n_components, accepted_by, reason, accepted_at],
    )
    return acceptance_of(con, snapshot_id)  # type: ignore[return-value]


def acceptance_of(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> AssumedAcceptance | None:
    """The acceptance recorded for a snapshot (None: none, or a warehouse without the table)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'assumed_acceptances'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(
        "SELECT snapshot_id, n_assumed, n_components, accepted_by, reason, accepted_at "
        "FROM assumed_acceptances WHERE snapshot_id = ?",
        [snapshot_id],
    ).fetchone()
    return AssumedAcceptance(*row) if row else None
