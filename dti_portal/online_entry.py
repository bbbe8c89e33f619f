"""Filling the template online: each cell read by the workbook reader's own rules, the drafts
kept per unit and year, and the filled template written by the pipeline's writer."""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass

from dti_portal.pipeline import Node, Preset, check_value, read_number, template_bytes
from dti_portal.store import now_text

MAX_TEXT = 32_767  # Excel's limit for one cell, as the reader's text_too_long


@dataclass
class CellEntry:
    """What the unit typed for one component, what it reads as, and what is wrong with it."""

    value_text: str = ""
    points_text: str = ""
    evidence: str = ""
    value: float | None = None
    points: float | None = None
    value_error: str | None = None
    points_error: str | None = None
    evidence_error: str | None = None

    @property
    def has_error(self) -> bool:
        return bool(self.value_error or self.points_error or self.evidence_error)


def clean(text: str | None) -> str:
    """Form text as stored: NFC, stripped."""
    return unicodedata.normalize("NFC", text or "").strip()


def read_entry(node: Node, value_text: str, points_text: str, evidence: str) -> CellEntry:
    """One component's three fields read by the reader's rules (value: :func:`check_value`,
    the unit's points: a number, evidence: at most one cell's text). What depends on the whole
    file (the unit's points against the maximum, the percentage scale) is told by the dry run."""
    entry = CellEntry(clean(value_text), clean(points_text), clean(evidence))
    value, problem = check_value(node, entry.value_text or None)
    if problem is not None:
        entry.value_error = problem[1]
    else:
        entry.value = value
    reading = read_number(entry.points_text or None)
    if reading.rule:
        entry.points_error = reading.message
    else:
        entry.points = reading.value
    if len(entry.evidence) > MAX_TEXT:
        entry.evidence_error = f"quá {MAX_TEXT:,} ký tự".replace(",", ".")
    return entry


def load_drafts(con: sqlite3.Connection, unit_id: str, year: int) -> dict[str, sqlite3.Row]:
    """The unit's saved entries of ``year``, by component."""
    rows = con.execute(
        "SELECT * FROM drafts WHERE unit_id = ? AND year = ?", (unit_id, year)
    ).fetchall()
    return {row["indicator_id"]: row for row in rows}


def save_drafts(
    con: sqlite3.Connection, unit_id: str, year: int, entries: dict[str, CellEntry]
) -> None:
    """Keep what was typed (valid or not, so the unit sees it again)."""
    for indicator, entry in entries.items():
        con.execute(
            "INSERT INTO drafts VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (unit_id, year, indicator_id) DO UPDATE SET "
            "value_text = excluded.value_text, points_text = excluded.points_text, "
            "evidence = excluded.evidence, updated_at = excluded.updated_at",
            (
                unit_id,
                year,
                indicator,
                entry.value_text,
                entry.points_text,
                entry.evidence,
                now_text(),
            ),
        )


def all_entries(preset: Preset, unit: dict, drafts: dict[str, sqlite3.Row]) -> dict[str, CellEntry]:
    """Every component of the unit's framework read from the drafts (blank when not typed)."""
    framework = preset.framework(unit["level"])
    entries = {}
    for node in framework.leaves():
        row = drafts.get(node.id)
        entries[node.id] = read_entry(
            node,
            row["value_text"] if row else "",
            row["points_text"] if row else "",
            row["evidence"] if row else "",
        )
    return entries


def filled_workbook(preset: Preset, unit: dict, year: int, entries: dict[str, CellEntry]) -> bytes:
    """The template the writer makes for the unit, filled with the entries."""
    return template_bytes(
        preset,
        unit,
        year,
        values={k: e.value for k, e in entries.items() if e.value is not None},
        self_points={k: e.points for k, e in entries.items() if e.points is not None},
        evidence={k: e.evidence for k, e in entries.items() if e.evidence},
    )
