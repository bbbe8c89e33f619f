"""Unit registries (``data/units/*.csv``): who is scored, at which level, in which year."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import polars as pl

from pipelines.scoring.choices import COMPARISON_GROUPS

REGISTRY_SCHEMA = {
    "unit_id": pl.String,
    "level": pl.String,
    "name": pl.String,
    "short_name": pl.String,
    "parent_id": pl.String,
    "has_dvctt": pl.Boolean,
    "has_subordinates": pl.Boolean,
    "is_special": pl.Boolean,
    "name_source": pl.String,
    "flags_source": pl.String,
    "valid_from": pl.Int32,
    "valid_to": pl.Int32,
}


class RegistryError(ValueError):
    """A unit registry file is invalid."""


def load_registry(path: str | Path, registry: str | None = None) -> pl.DataFrame:
    """Read a unit registry CSV, check it, and return it with a ``registry`` column."""
    path = Path(path)
    frame = pl.read_csv(path, schema_overrides=REGISTRY_SCHEMA, encoding="utf8")
    missing = [c for c in REGISTRY_SCHEMA if c not in frame.columns]
    if missing:
        raise RegistryError(f"{path}: missing columns {missing}")
    frame = frame.select(list(REGISTRY_SCHEMA)).with_columns(
        pl.col(c).map_elements(lambda s: unicodedata.normalize("NFC", s), return_dtype=pl.String)
        for c in ("name", "short_name")
    )
    problems = []
    duplicated = frame.filter(pl.col("unit_id").is_duplicated())["unit_id"].unique().to_list()
    if duplicated:
        problems.append(f"duplicate unit_id {sorted(duplicated)}")
    ids = set(frame["unit_id"])
    orphans = frame.filter(pl.col("parent_id").is_not_null() & ~pl.col("parent_id").is_in(ids))
    for row in orphans.iter_rows(named=True):
        line = frame["unit_id"].to_list().index(row["unit_id"]) + 2
        problems.append(
            f"row {line} ({row['unit_id']}): parent_id {row['parent_id']!r} is not a unit"
        )
    if problems:
        raise RegistryError(f"{path}: " + "; ".join(problems))
    return frame.with_columns(pl.lit(registry or path.stem).alias("registry"))


def units_in_year(registry: pl.DataFrame, level: str, year: int) -> pl.DataFrame:
    """Units of ``level`` existing in ``year`` (valid_from/valid_to inclusive; empty = open)."""
    return registry.filter(
        pl.col("level") == level,
        pl.col("valid_from").is_null() | (pl.col("valid_from") <= year),
        pl.col("valid_to").is_null() | (pl.col("valid_to") >= year),
    )


def comparison_groups(units: pl.DataFrame, grouping: str, year: int) -> pl.DataFrame:
    """``unit_id, year, group_id`` for scoring: ``level`` puts every unit of the level in one group;
    ``parent`` groups units by their parent (communes ranked within their district)."""
    if grouping not in COMPARISON_GROUPS:
        choices = ", ".join(COMPARISON_GROUPS)
        raise ValueError(f"comparison_group must be one of {choices}, not {grouping!r}")
    group = pl.col("parent_id") if grouping == "parent" else pl.col("level")
    return units.select(
        "unit_id", pl.lit(year, dtype=pl.Int32).alias("year"), group.alias("group_id")
    )
