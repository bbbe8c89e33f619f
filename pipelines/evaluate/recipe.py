"""The stage recipe, written once: how a preset scores one level of one year.

leaf points by the method (with the per-unit rules and the missing-data rule) → the appraiser's
points in place of the rubric's (``points`` method only) → every node → ranks within each
comparison group → classes, with the preset's framework, rules, classification reading and rank
precision. Frames in, frames out: the callers read the warehouse (values, units, overrides,
other years) and write the results — the yearly stages one table at a time
(:mod:`pipelines.evaluate.stages`), the successor grouping of a year before a merger, the
backfill (:mod:`pipelines.evaluate.backfill`) and every analysis
(:mod:`pipelines.analysis.inputs`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import polars as pl

from pipelines.evaluate.appraisal import apply_points_overrides
from pipelines.framework.model import Framework
from pipelines.framework.preset import Preset
from pipelines.scoring.engine import complete_grid, grid_leaf_scores, ranked, scores_from_grid
from pipelines.scoring.leaf_frame import leaf_methods
from pipelines.scoring.leaf_method import reads_other_years
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.node_table import leaf_grid
from pipelines.scoring.rules import RuleSettings


@dataclass(frozen=True)
class LevelRecipe:
    """What a preset fixes for scoring one level: the framework, the per-unit rules and the
    classification reading (None: the framework's own). The method's settings, rank precision
    included, come with each :class:`MethodSpec`."""

    framework: Framework
    rules: RuleSettings = field(default_factory=RuleSettings)
    reading: str | None = None

    @classmethod
    def of(cls, preset: Preset, level: str, framework: Framework | None = None) -> LevelRecipe:
        """The preset's recipe of ``level`` (``framework``: another one, e.g. a backfill's)."""
        return cls(
            framework or preset.framework(level), preset.rules, preset.classification_reading
        )


def leaf_points(
    grid: pl.DataFrame,
    units: pl.DataFrame,
    recipe: LevelRecipe,
    spec: MethodSpec,
    overrides: pl.DataFrame | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Stage 1: every leaf's points (``grid`` from :func:`complete_grid`), the appraiser's
    ``overrides`` (``unit_id, node_id, points, reason``) replacing them on the leaves scored by
    ``points`` (the run's method, or the one a node declares for the leaf)."""
    leaves = grid_leaf_scores(grid, units, recipe.framework, spec, recipe.rules, history)
    if overrides is None or overrides.is_empty():
        return leaves
    # the appraiser's points are final on the leaves the rubric scores (the run's method
    # ``points``, or a node's declared one): they replace the rubric's and any rule's
    framework = recipe.framework
    methods = leaf_methods(framework, spec)
    rubric = [leaf.id for leaf, m in zip(framework.leaves(), methods, strict=True) if m == "points"]
    overrides = overrides.filter(pl.col("node_id").cast(pl.String).is_in(rubric))
    if overrides.is_empty():
        return leaves
    return apply_points_overrides(leaves, overrides, framework)


def rank_nodes(nodes: pl.DataFrame, recipe: LevelRecipe, spec: MethodSpec) -> pl.DataFrame:
    """Stage 3: ranks and classes of stage 2's nodes, by the recipe's reading and the spec's
    rank precision."""
    return ranked(nodes, recipe.framework, recipe.reading, spec.rank_precision)


def score_level(
    values: pl.DataFrame,
    units: pl.DataFrame,
    recipe: LevelRecipe,
    specs: Mapping[str, MethodSpec],
    overrides: pl.DataFrame | None = None,
    history: pl.DataFrame | None = None,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """The whole recipe by each of ``specs`` (name → settings), one ``(name, scores)`` at a time
    (``SCORE_COLUMNS``), the grid built once. ``history`` (other years' values with their
    groups) is read by the specs whose bounds need it."""
    grid = complete_grid(values, units, recipe.framework)
    for name, spec in specs.items():
        past = history if reads_other_years(spec, recipe.framework) else None
        # the leaf frame (a method's largest) lives only until its arrays are taken
        leaf_frame = leaf_points(grid, units, recipe, spec, overrides, past)
        leaves = leaf_grid(leaf_frame, recipe.framework)
        del leaf_frame
        scores = scores_from_grid(leaves, recipe.framework, recipe.reading, spec.rank_precision)
        del leaves
        yield name, scores
        del scores
