"""The scoring stages against the warehouse, one table each (leaf → node → rank).

Each stage reads the previous stage's table for one year, computes every level and method, and
rewrites that year's rows in one transaction, so re-running a stage never duplicates rows.
Each stage is a step of the one recipe (:mod:`pipelines.evaluate.recipe`: the preset's method
settings, per-unit rules — registry flags reach them through the units frame —, the appraiser's
points, the classification reading and rank precision); the lineage scores (the successor
grouping of a year before a merger, table ``lineage_scores``) are the whole recipe at once.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.evaluate.appraisal import points_overrides
from pipelines.evaluate.recipe import LevelRecipe, leaf_points, rank_nodes, score_level
from pipelines.framework.lineage import pending_successors, successor_values
from pipelines.framework.model import Framework
from pipelines.framework.preset import Preset
from pipelines.framework.registry import comparison_groups, units_in_year
from pipelines.scoring.engine import node_scores
from pipelines.scoring.grid import complete_grid
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.normalise import reads_other_years
from pipelines.scoring.rules import UNIT_FLAGS
from pipelines.store.warehouse import replace_rows, transaction
from pipelines.validate.observations import assert_scorable, scorable_levels


def _units_frame(preset: Preset, level: str, existing_in: int, year: int) -> pl.DataFrame:
    """``unit_id, year, group_id`` + registry flags of the units existing in ``existing_in``,
    labelled with ``year``."""
    units = units_in_year(preset.registry, level, existing_in)
    groups = comparison_groups(units, preset.levels[level].comparison_group, year)
    flags = [c for c in UNIT_FLAGS if c in units.columns]
    return groups.join(units.select("unit_id", *flags), on="unit_id", how="left")


def scored_units(preset: Preset, level: str, year: int) -> pl.DataFrame:
    """``unit_id, year, group_id`` (+ ``has_subordinates, has_dvctt, is_special``) of everyone
    the registry says is scored that year."""
    return _units_frame(preset, level, year, year)


def _observations(con: duckdb.DuckDBPyConnection, level: str, year: int) -> pl.DataFrame:
    return con.execute(
        "SELECT unit_id, year, indicator_id AS node_id, value FROM observations "
        "WHERE year = ? AND level = ?",
        [year, level],
    ).pl()


def history_values(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    level: str,
    year: int,
    spec: MethodSpec,
    framework: Framework | None = None,
) -> pl.DataFrame | None:
    """Other years' values with their comparison groups, when the spec's bounds need them
    (pooled: every year the warehouse holds for the level; goalposts: the reference year) for
    the leaves of ``framework`` (default: the preset's of the level) that take them."""
    if not reads_other_years(spec, framework or preset.framework(level)):
        return None
    query = (
        "SELECT unit_id, year, indicator_id AS node_id, value FROM observations "
        "WHERE level = ? AND year <> ?"
    )
    params: list = [level, year]
    if spec.minmax_bounds == "goalposts":
        query += " AND year = ?"
        params.append(spec.reference_year)
    values = con.execute(query, params).pl()
    if values.is_empty():
        return None
    groups = pl.concat(
        [
            scored_units(preset, level, int(y)).select("unit_id", "year", "group_id")
            for y in values["year"].unique().to_list()
        ]
    )
    return values.join(groups, on=["unit_id", "year"])


def compute_leaf_scores(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int, allow_blocked: bool = False
) -> int:
    """Stage 1: every leaf's points by every method, from the validated observations (of the
    levels that have any: a level no file was accepted for yet is not scored)."""
    frames = []
    for level in scorable_levels(con, preset, year) or list(preset.levels):
        if not allow_blocked:
            assert_scorable(con, year, level)
        values = _observations(con, level, year)
        units = scored_units(preset, level, year)
        recipe = LevelRecipe.of(preset, level)
        overrides = points_overrides(con, year, level)
        grid = complete_grid(values, units, recipe.framework)
        for method in preset.methods:
            spec = preset.method_spec(method)
            history = history_values(con, preset, level, year, spec)
            leaves = leaf_points(grid, units, recipe, spec, overrides, history)
            frames.append(
                leaves.with_columns(pl.lit(level).alias("level"), pl.lit(method).alias("method"))
            )
    return replace_rows(
        con, "leaf_scores", pl.concat(frames, how="diagonal_relaxed"), {"year": year}
    )


def compute_node_scores(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> int:
    """Stage 2: pillars, groups, total (and views, composites) from the leaf points."""
    frames = []
    for level in scorable_levels(con, preset, year) or list(preset.levels):
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
    """Stage 3: ranks within each comparison group at every node, classes on the total (by the
    preset's classification reading); then the successor grouping if a merger follows."""
    frames = []
    for level in scorable_levels(con, preset, year) or list(preset.levels):
        for method in preset.methods:
            nodes = con.execute(
                "SELECT * FROM node_scores WHERE year = ? AND level = ? AND method = ?",
                [year, level, method],
            ).pl()
            ranks = rank_nodes(nodes, LevelRecipe.of(preset, level), preset.method_spec(method))
            frames.append(
                ranks.with_columns(pl.lit(level).alias("level"), pl.lit(method).alias("method"))
            )
    with transaction(con, label="ranks"):  # the ranks and the successor grouping commit together
        rows = replace_rows(con, "ranks", pl.concat(frames, how="diagonal_relaxed"), {"year": year})
        compute_lineage_scores(con, preset, year)
    return rows


def compute_lineage_scores(con: duckdb.DuckDBPyConnection, preset: Preset, year: int) -> int:
    """The year scored with the units existing after the next merger (``lineage_scores``) by
    the whole recipe: successors get the unweighted mean of their predecessors' values of
    ``year``; the appraiser's points of that year count for every unit whose own values are
    scored (not for a successor, whose values are its predecessors' mean)."""
    lineage = preset.lineage
    later = lineage.filter(pl.col("effective_year") > year)["effective_year"]
    if later.is_empty():
        return replace_rows(con, "lineage_scores", pl.DataFrame(), {"year": year})
    after_year = int(later.min())
    derived = list(pending_successors(lineage, year))
    specs = {method: preset.method_spec(method) for method in preset.methods}
    frames = []
    for level in preset.levels:
        values = successor_values(_observations(con, level, year), lineage, year)
        units = _units_frame(preset, level, after_year, year)
        if units.is_empty():
            continue
        overrides = points_overrides(con, year, level).filter(~pl.col("unit_id").is_in(derived))
        recipe = LevelRecipe.of(preset, level)
        for method, scores in score_level(values, units, recipe, specs, overrides):
            frames.append(
                scores.with_columns(
                    pl.lit(level).alias("level"),
                    pl.lit(method).alias("method"),
                    pl.lit("successors").alias("grouping"),
                    pl.lit(after_year, dtype=pl.Int32).alias("after_year"),
                )
            )
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return replace_rows(con, "lineage_scores", frame, {"year": year})
