"""The scoring stages against the warehouse, one table each (leaf → node → rank).

Each stage reads the previous stage's table for one year, computes every level and method, and
rewrites that year's rows in one transaction, so re-running a stage never duplicates rows.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.observations import assert_scorable
from pipelines.preset import Preset
from pipelines.registry import comparison_groups, units_in_year
from pipelines.scoring.engine import leaf_scores, node_scores, ranked
from pipelines.scoring.methods import MethodSpec
from pipelines.warehouse import replace_rows


def scored_units(preset: Preset, level: str, year: int) -> pl.DataFrame:
    """``unit_id, year, group_id`` of everyone the registry says is scored that year."""
    units = units_in_year(preset.registry, level, year)
    return comparison_groups(units, preset.levels[level].comparison_group, year)


def compute_leaf_scores(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int, allow_blocked: bool = False
) -> int:
    """Stage 1: every leaf's points by every method, from the validated observations."""
    frames = []
    for level in preset.levels:
        if not allow_blocked:
            assert_scorable(con, year, level)
        values = con.execute(
            "SELECT unit_id, year, indicator_id AS node_id, value FROM observations "
            "WHERE year = ? AND level = ?",
            [year, level],
        ).pl()
        units = scored_units(preset, level, year)
        for method in preset.methods:
            leaves = leaf_scores(values, units, preset.framework(level), MethodSpec(method))
            frames.append(
                leaves.with_columns(pl.lit(level).alias("level"), pl.lit(method).alias("method"))
            )
    return replace_rows(
        con, "leaf_scores", pl.concat(frames, how="diagonal_relaxed"), {"year": year}
    )


def compute_node_scores(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> int:
    """Stage 2: pillars, groups, total (and views, composites) from the leaf points."""
    frames = []
    for level in preset.levels:
        for method in preset.methods:
            leaves = con.execute(
                "SELECT * FROM leaf_scores WHERE year = ? AND level = ? AND method = ?",
                [year, level, method],
            ).pl()
            nodes = node_scores(leaves, preset.framework(level))
            frames.append(
                nodes.with_columns(pl.lit(level).alias("level"), pl.lit(method).alias("method"))
            )
    return replace_rows(
        con, "node_scores", pl.concat(frames, how="diagonal_relaxed"), {"year": year}
    )


def compute_ranks(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> int:
    """Stage 3: ranks within each comparison group at every node, classes on the total."""
    frames = []
    for level in preset.levels:
        for method in preset.methods:
            nodes = con.execute(
                "SELECT * FROM node_scores WHERE year = ? AND level = ? AND method = ?",
                [year, level, method],
            ).pl()
            frames.append(
                ranked(nodes, preset.framework(level)).with_columns(
                    pl.lit(level).alias("level"), pl.lit(method).alias("method")
                )
            )
    return replace_rows(con, "ranks", pl.concat(frames, how="diagonal_relaxed"), {"year": year})
