"""Mergers: predecessor → successor units, and scoring a year in both groupings.

Lineage files (``data/lineage/*.csv``, docs/presets.md): ``predecessor_id,successor_id,
effective_year,note``. The successor exists from ``effective_year``. For a year before it, the
successor's value of each leaf (main indicator) is the **unweighted mean of its predecessors'
values** of that leaf that year (DOMAIN.md, "Mergers (DTI 2024)"); the successor is then scored
normally, so its pillars and total are recomputed from those values, not averaged.

Details (docs/ambiguities-rules.md):
- the mean is over the predecessors that reported the leaf; none reported → the value is missing
  and the missing-data rule applies;
- a successor that existed before the merger under the same id (it absorbs the others) counts as
  one of its predecessors, listed or not;
- chains (A → B in 2025, B → C in 2027) resolve recursively: C's 2024 value is the mean over B's
  derived 2024 value and C's other predecessors;
- a predecessor split over several successors gives its full values to each of them.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rules import RuleSettings

LINEAGE_SCHEMA = {
    "predecessor_id": pl.String,
    "successor_id": pl.String,
    "effective_year": pl.Int32,
    "note": pl.String,
}
GROUPINGS = ("predecessors", "successors")


class LineageError(ValueError):
    """A lineage file is invalid."""


def empty_lineage() -> pl.DataFrame:
    return pl.DataFrame(schema=LINEAGE_SCHEMA)


def load_lineage(path: str | Path) -> pl.DataFrame:
    """Read and check a lineage CSV: required columns, no blanks, no duplicate pair, no cycle."""
    path = Path(path)
    try:
        frame = pl.read_csv(path, schema_overrides=LINEAGE_SCHEMA, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise LineageError(f"{path}: cannot read lineage file: {exc}") from exc
    missing = [c for c in ("predecessor_id", "successor_id", "effective_year") if c not in frame]
    if missing:
        raise LineageError(f"{path}: missing columns {missing}")
    if "note" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("note"))
    frame = frame.select(list(LINEAGE_SCHEMA))
    return check_lineage(frame, str(path))


def check_lineage(frame: pl.DataFrame, origin: str = "lineage") -> pl.DataFrame:
    problems = []
    for i, row in enumerate(frame.iter_rows(named=True), start=2):
        blank = [k for k in ("predecessor_id", "successor_id", "effective_year") if row[k] is None]
        if blank:
            problems.append(f"row {i}: empty {', '.join(blank)}")
    pairs = frame.filter(pl.struct("predecessor_id", "successor_id").is_duplicated())
    if not pairs.is_empty():
        first = pairs.row(0, named=True)
        problems.append(f"duplicate pair {first['predecessor_id']} → {first['successor_id']}")
    edges: dict[str, set[str]] = {}
    for row in frame.iter_rows(named=True):
        if row["predecessor_id"] != row["successor_id"]:
            edges.setdefault(row["successor_id"], set()).add(row["predecessor_id"])
    if _has_cycle(edges):
        problems.append("the successor → predecessor links form a cycle")
    if problems:
        raise LineageError(f"{origin}: " + "; ".join(problems))
    return frame


def _has_cycle(edges: dict[str, set[str]]) -> bool:
    try:
        tuple(TopologicalSorter(edges).static_order())
    except CycleError:
        return True
    return False


def pending_successors(lineage: pl.DataFrame, year: int) -> dict[str, list[str]]:
    """Successor → its predecessors, for the successors that do not exist yet in ``year``."""
    out: dict[str, list[str]] = {}
    for row in lineage.filter(pl.col("effective_year") > year).iter_rows(named=True):
        out.setdefault(row["successor_id"], []).append(row["predecessor_id"])
    return out


def successor_values(values: pl.DataFrame, lineage: pl.DataFrame, year: int) -> pl.DataFrame:
    """``values`` of ``year`` (``unit_id, year, node_id, value``) with each pending successor's
    rows replaced by the unweighted mean of its predecessors' values, leaf by leaf."""
    reported = values.filter(pl.col("year") == year).select(
        pl.col("unit_id").cast(pl.String),
        pl.col("year").cast(pl.Int32),
        pl.col("node_id").cast(pl.String),
        pl.col("value").cast(pl.Float64),
    )
    pending = pending_successors(lineage, year)
    if not pending:
        return reported
    present = set(reported["unit_id"].unique())
    members: dict[str, list[str]] = {}
    for successor, predecessors in pending.items():
        parts = list(dict.fromkeys(predecessors))
        if successor in present and successor not in parts:
            parts.append(successor)  # a continuing unit absorbs the others
        members[successor] = parts
    derived: dict[str, pl.DataFrame] = {}

    def values_of(unit: str, successor: str) -> pl.DataFrame:
        if unit in members and unit != successor:
            return resolve(unit)
        return reported.filter(pl.col("unit_id") == unit)

    def resolve(successor: str) -> pl.DataFrame:
        if successor not in derived:
            parts = [values_of(p, successor) for p in members[successor]]
            stacked = pl.concat(parts) if parts else reported.clear()
            derived[successor] = (
                stacked.group_by("node_id", maintain_order=True)
                .agg(pl.col("value").mean())
                .select(
                    pl.lit(successor, dtype=pl.String).alias("unit_id"),
                    pl.lit(year, dtype=pl.Int32).alias("year"),
                    "node_id",
                    "value",
                )
            )
        return derived[successor]

    frames = [resolve(s) for s in members]
    kept = reported.filter(~pl.col("unit_id").is_in(list(members)))
    return pl.concat([kept, *frames])


def score_groupings(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    lineage: pl.DataFrame,
    year: int,
    old_units: pl.DataFrame,
    new_units: pl.DataFrame,
    rules: RuleSettings | None = None,
    reading: str | None = None,
) -> pl.DataFrame:
    """Score ``year`` twice, side by side (column ``grouping``): ``predecessors`` — the units as
    they were (``old_units``) on their own values; ``successors`` — the units after the merger
    (``new_units``) with the successors' values derived by :func:`successor_values`. Each grouping
    is normalised and ranked on its own. Unit frames: ``unit_id, year, group_id`` (+ flags)."""
    own = values.filter(pl.col("year") == year)
    old = score(own, old_units, framework, spec, rules, reading)
    new = score(successor_values(values, lineage, year), new_units, framework, spec, rules, reading)
    return pl.concat(
        [
            old.with_columns(pl.lit("predecessors").alias("grouping")),
            new.with_columns(pl.lit("successors").alias("grouping")),
        ],
        how="diagonal_relaxed",
    )
