"""Consistency checks on the warehouse, written as SQL in ``sql/checks`` (each returns the
offending rows; none means the check passes)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb
import polars as pl

from pipelines.paths import SQL_DIR

CHECKS = {
    "parts_add_up": "every node's points equal the sum of its children's points",
    "points_within_maximum": "points within [0, maximum] and ratios within [0, 1] at every node",
    "ranks_form_a_ranking": "ranks are 1 + the number of units with more points in the group",
}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    description: str
    offending: pl.DataFrame

    @property
    def passed(self) -> bool:
        return self.offending.is_empty()


@cache
def _check_sql(name: str) -> str:
    return (SQL_DIR / "checks" / f"{name}.sql").read_text(encoding="utf-8")


def run_check(con: duckdb.DuckDBPyConnection, name: str, year: int) -> CheckOutcome:
    """Run one named check for a year."""
    offending = con.execute(_check_sql(name), {"year": year}).pl()
    return CheckOutcome(name, CHECKS[name], offending)
