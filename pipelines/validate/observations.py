"""Validated observations: the values scoring reads, one row per unit and indicator, checked by
the Great Expectations suites in ``expectations/`` before scoring may use them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.framework.model import Framework, Node
from pipelines.framework.preset import Preset
from pipelines.framework.registry import units_in_year
from pipelines.store.warehouse import replace_rows, run_query, transaction


class ValidationBlocked(RuntimeError):
    """A blocking expectation failed for a year and level and no override was granted."""


@dataclass(frozen=True)
class ObservationSummary:
    level: str
    rows: int
    with_value: int
    appraised: int
    blocking_failures: list[str]


def indicator_bounds(framework: Framework) -> dict[str, tuple[float | None, float | None]]:
    """Allowed raw range per leaf: percentages up to their scale, yes/no 0–1, direct points up to
    the maximum, counts and durations only non-negative."""
    return {leaf.id: (0.0, _upper_bound(leaf)) for leaf in framework.leaves()}


def _upper_bound(leaf: Node) -> float | None:
    kind = leaf.rule.kind if leaf.rule else None
    if kind == "yesno":
        return 1.0
    if kind == "direct":
        return leaf.max_points
    return float(leaf.percent_scale) if leaf.percent_scale else None


def build_observations(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int
) -> list[ObservationSummary]:
    """Rebuild the year's observations per level from the raw layer; validate the raw values and
    the observations with the Great Expectations suites and record every outcome."""
    from pipelines.validate.validation import (  # lazy: Great Expectations is slow to import
        SuiteRequest,
        ValidationContext,
        blocking_failures,
        outcomes_frame,
        validate_suites,
    )

    suites = ("raw_values", "observations")
    frames: dict[str, pl.DataFrame] = {}
    requests: list[SuiteRequest] = []
    for level in preset.levels:
        framework = preset.framework(level)
        frame = run_query(con, "observations", year=year, level=level).with_columns(
            pl.lit(framework.id).alias("framework_id"),
            pl.lit(framework.version).alias("framework_version"),
        )
        context = ValidationContext(
            year=year,
            level=level,
            unit_ids=frozenset(units_in_year(preset.registry, level, year)["unit_id"]),
            indicator_bounds=indicator_bounds(framework),
            framework_version=framework.version,
        )
        raw = con.execute(
            "SELECT * FROM raw_values WHERE year = ? AND level = ?", [year, level]
        ).pl()
        frames[level] = frame
        requests += [SuiteRequest(suites[0], raw, context), SuiteRequest(suites[1], frame, context)]
    # Every level's validations at once: they run on every core.
    validated = iter(validate_suites(requests))
    summaries = []
    for level in preset.levels:
        runs = {suite: next(validated) for suite in suites}
        frame = frames[level]
        outcomes = [outcome for run in runs.values() for outcome in run.outcomes]
        recorded = outcomes_frame(outcomes, year, level)
        with transaction(con):
            if not _same_validation(con, recorded, year, level, list(runs)):
                _record_validation(con, recorded, runs, year, level)
        replace_rows(con, "observations", frame, {"year": year, "level": level})
        summaries.append(
            ObservationSummary(
                level=level,
                rows=frame.height,
                with_value=frame["value"].is_not_null().sum(),
                appraised=frame["appraised_value"].is_not_null().sum(),
                blocking_failures=[o.expectation for o in blocking_failures(outcomes)],
            )
        )
    return summaries


def _same_validation(
    con: duckdb.DuckDBPyConnection,
    recorded: pl.DataFrame,
    year: int,
    level: str,
    suites: list[str],
) -> bool:
    """Whether the outcomes equal those stored, with GX's documents of every suite stored: then
    the stored run stands (validating the same data again changes nothing, not even a date)."""
    stored = con.execute(
        "SELECT * FROM validation_results WHERE year = ? AND level = ?", [year, level]
    ).pl()
    documents = con.execute(
        "SELECT count(*) FROM gx_results WHERE year = ? AND level = ? AND list_contains(?, suite)",
        [year, level, suites],
    ).fetchone()[0]
    order = ["suite", "expectation"]
    return (
        documents == len(suites)
        and stored.height == recorded.height
        and stored.sort(order).equals(recorded.select(stored.columns).sort(order))
    )


def _record_validation(
    con: duckdb.DuckDBPyConnection, recorded: pl.DataFrame, runs: dict, year: int, level: str
) -> None:
    """Replace the year and level's outcomes and GX documents (inside the caller's transaction)."""
    validated_at = dt.datetime.now(dt.UTC)
    con.execute("DELETE FROM validation_results WHERE year = ? AND level = ?", [year, level])
    con.register("_outcomes", recorded.to_arrow())
    con.execute("INSERT INTO validation_results SELECT * FROM _outcomes")
    con.unregister("_outcomes")
    con.execute("DELETE FROM gx_results WHERE year = ? AND level = ?", [year, level])
    con.executemany(
        "INSERT INTO gx_results VALUES (?, ?, ?, ?, ?, ?)",
        [
            [year, level, suite, validated_at, run.gx_version, json.dumps(run.document)]
            for suite, run in runs.items()
        ],
    )


def levels_without_observations(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int
) -> list[str]:
    """The preset's levels with no observation at all for ``year`` (no file accepted for them
    yet): they are not scored, and are reported as such rather than failing the year."""
    present = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT level FROM observations WHERE year = ?", [year]
        ).fetchall()
    }
    return [level for level in preset.levels if level not in present]


def scorable_levels(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> list[str]:
    """The preset's levels that have observations for ``year``, in the preset's order."""
    empty = set(levels_without_observations(con, preset, year))
    return [level for level in preset.levels if level not in empty]


def blocking_failures_in_warehouse(
    con: duckdb.DuckDBPyConnection, year: int, level: str
) -> list[str]:
    """Names of the failed blocking expectations recorded for a year and level."""
    rows = con.execute(
        "SELECT expectation FROM validation_results "
        "WHERE year = ? AND level = ? AND blocking AND NOT success ORDER BY expectation",
        [year, level],
    ).fetchall()
    return [r[0] for r in rows]


def override_for(con: duckdb.DuckDBPyConnection, year: int, level: str) -> str | None:
    """``"<who>: <why>"`` when scoring was explicitly allowed despite failed blocking checks."""
    row = con.execute(
        "SELECT granted_by, reason FROM validation_overrides WHERE year = ? AND level = ?",
        [year, level],
    ).fetchone()
    return None if row is None else f"{row[0]}: {row[1]}"


def assert_scorable(con: duckdb.DuckDBPyConnection, year: int, level: str) -> None:
    """Refuse to score a year and level whose blocking checks failed, unless overridden."""
    failures = blocking_failures_in_warehouse(con, year, level)
    if failures and override_for(con, year, level) is None:
        raise ValidationBlocked(
            f"{year} {level}: blocking checks failed ({', '.join(failures)}); fix the data or "
            f"grant an explicit override (`dti override {year} {level} --by NAME --reason TEXT`)"
        )


def grant_override(
    con: duckdb.DuckDBPyConnection, year: int, level: str, granted_by: str, reason: str
) -> None:
    """Record who allowed scoring despite failed blocking checks, and why."""
    replace_rows(
        con,
        "validation_overrides",
        pl.DataFrame([{"year": year, "level": level, "granted_by": granted_by, "reason": reason}]),
        {"year": year, "level": level},
    )
