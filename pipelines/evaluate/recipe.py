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
from pipelines.scoring.engine import ranked, score_leaves, score_methods
from pipelines.scoring.leaf_arrays import leaf_methods
from pipelines.scoring.methods import MethodSpec
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
    ``overrides`` in place of the rubric's (:func:`appraised`)."""
    leaves = score_leaves(grid, units, recipe.framework, spec, recipe.rules, history).frame()
    return appraised(leaves, spec, recipe.framework, overrides)


def appraised(
    leaves: pl.DataFrame,
    spec: MethodSpec,
    framework: Framework,
    overrides: pl.DataFrame | None,
) -> pl.DataFrame:
    """``leaves`` with the appraiser's ``overrides`` (``unit_id, node_id, points, reason``)
    replacing their points on the leaves scored by ``points`` (the run's method, or the one a
    node declares for the leaf)."""
    if overrides is None or overrides.is_empty():
        return leaves
    # the appraiser's points are final on the leaves the rubric scores (the run's method
    # ``points``, or a node's declared one): they replace the rubric's and any rule's
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
    (``SCORE_COLUMNS``), the grid built once: the engine's
    :func:`pipelines.scoring.engine.score_methods` with the appraiser's ``overrides`` as the
    leaves' last step. ``history`` (other years' values with their groups) is read by the specs
    whose bounds need it."""
    framework = recipe.framework
    step = None
    if overrides is not None and not overrides.is_empty():

        def step(leaves: pl.DataFrame, spec: MethodSpec) -> pl.DataFrame:
            return appraised(leaves, spec, framework, overrides)

    return score_methods(
        values, units, framework, specs, recipe.rules, recipe.reading, history, step
    )
