"""The scoring verbs: normalise → unit rules → missing data → aggregate → rank → classify.

Modelled on COINr's verbs (build, normalise, aggregate, rank): each step is a plain function on
polars frames. The warehouse stages call them one at a time (one table each); :func:`score`
chains them for files scored outside the warehouse (``dti score``).

Leaf stage, in order (docs/scoring.md):
1. :func:`pipelines.scoring.normalise.normalise` — the method turns each reported value into
   points (missing stays null);
2. per-unit rules (:mod:`pipelines.scoring.rules`): special units' maximum, best of the group for
   units without subordinates;
3. :func:`impute` — the missing-data rule (``zero``, ``mean`` or ``exclude``) for leaves still
   without points;
4. the DVCTT proportional rule, which reads the unit's final points on the non-DVCTT leaves.
Every leaf row says in ``rule_applied`` which of these gave its points, and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.given_nodes import refuse_method, split_given
from pipelines.scoring.grid import GROUP_CODE, complete_grid, grid_layout
from pipelines.scoring.leaf_frame import OUTPUT, num_text, share, signed_frame
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.node_table import Ranking, grid_nodes, leaf_grid, rank_frame
from pipelines.scoring.normalise import normalise_signed, reads_other_years
from pipelines.scoring.rank import NOISE_ONLY, RankPrecision
from pipelines.scoring.rules import (
    DVCTT,
    RuleSettings,
    apply_dvctt_rule,
    apply_unit_rules,
    mark_targets,
)

LEAF_COLUMNS = [
    "unit_id",
    "year",
    "group_id",
    "node_id",
    "value",
    "normalised",
    "z",
    "points",
    "n_missing",
    "excluded",
    "rule_applied",
]

SCORE_COLUMNS = [
    "year",
    "group_id",
    "unit_id",
    "node_id",
    "node_level",
    "ordinal",
    "points",
    "max_points",
    "ratio",
    "z",
    "rank",
    "class_label",
    "n_missing",
    "excluded",
    "rule_applied",
]


def impute(frame: pl.DataFrame, spec: MethodSpec) -> pl.DataFrame:
    """Apply the missing-data rule to every leaf still without points.

    ``zero``: 0 points (Đắk Lắk 2534: "không có số liệu báo cáo … mặc định là 0 điểm");
    ``mean``: the mean of the points of the units of the group that scored the leaf from a value
    that year (0 when nobody did); ``exclude``: the leaf is left out (``excluded``; 0 points, no
    ratio) and its parent re-weights over the present siblings (:mod:`aggregate`).
    Leaves waiting for the DVCTT rule (``unit_rule`` = dvctt_proportional) are skipped.
    ``frame``: the leaf stage's frame (:func:`grid_leaf_scores`: the grid's codes, ``points,
    own_points, max_points, unit_rule, fallback_note, rule_applied, excluded, n_missing``).
    """
    todo = pl.col("points").is_null() & pl.col("unit_rule").ne_missing(DVCTT)
    rows = frame.select(todo.arg_true()).to_series()
    if rows.is_empty():
        return frame  # every leaf has its points
    if spec.missing == "mean":
        frame = frame.with_columns(
            pl.col("own_points").mean().over(GROUP_CODE).alias("_mean"),
            pl.col("own_points").count().over(GROUP_CODE).alias("_n"),
        )
    filled, text, excluded = missing_rule(spec)
    note = (
        pl.when(pl.col("fallback_note").is_not_null())
        .then(pl.concat_str(pl.col("fallback_note"), pl.lit(" → "), text))
        .otherwise(text)
    )
    # the rule's columns on the rows it fills alone, written into the full columns
    given = frame[rows].select(
        pl.lit(1, dtype=pl.Int32).alias("n_missing"),
        excluded.alias("excluded"),
        note.alias("rule_applied"),
        filled.alias("points"),
        pl.when(~excluded).then(share(filled)).otherwise(None).alias("normalised"),
    )
    # written in the frame's own types (``rule_applied`` stays categorical)
    frame = frame.with_columns(
        frame[column].clone().scatter(rows, given[column].cast(frame[column].dtype))
        for column in given.columns
    )
    return frame.drop("_mean", "_n", strict=False)


def missing_rule(spec: MethodSpec) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """``(points, rule_applied, excluded)`` of a leaf the missing-data rule fills; the ``mean``
    rule reads the group's ``_mean`` and ``_n`` (mean and count of the points scored)."""
    why = (
        pl.when(pl.col("value").is_null())
        .then(pl.lit("no value"))
        .otherwise(pl.lit("the value gives no points under the rule"))
    )
    if spec.missing == "mean":
        filled = pl.col("_mean").fill_null(0.0)
        text = (
            pl.when(pl.col("_n") > 0)
            .then(
                pl.concat_str(
                    pl.lit("missing.mean: "),
                    why,
                    pl.lit(" → mean of "),
                    pl.col("_n").cast(pl.String),
                    pl.lit(" reported = "),
                    num_text(pl.col("_mean")),
                )
            )
            .otherwise(
                pl.concat_str(pl.lit("missing.mean: "), why, pl.lit(" and nobody in the group → 0"))
            )
        )
        return filled, text, pl.lit(False)
    if spec.missing == "exclude":
        text = pl.concat_str(
            pl.lit("missing.exclude: "), why, pl.lit(" → left out, siblings re-weighted")
        )
        return pl.lit(0.0), text, pl.lit(True)
    text = pl.concat_str(pl.lit("missing.zero: "), why, pl.lit(" → 0"))
    return pl.lit(0.0), text, pl.lit(False)


def leaf_scores(
    values: pl.DataFrame,
    units: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    rules: RuleSettings | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Stage 1: ``LEAF_COLUMNS`` — each leaf's points by the method, the unit rules and the
    missing-data rule. ``units`` may carry the registry flags ``has_subordinates, has_dvctt,
    is_special`` that the rules read."""
    grid = complete_grid(values, units, framework)
    return grid_leaf_scores(grid, units, framework, spec, rules, history)


def grid_leaf_scores(
    grid: pl.DataFrame,
    units: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    rules: RuleSettings | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """:func:`leaf_scores` of a grid from :func:`complete_grid` (several methods share one)."""
    rules = rules or RuleSettings()
    signed = signed_frame(grid, framework)
    scored = normalise_signed(signed, framework, spec, history).select(
        *grid.columns,
        "max_points",
        *OUTPUT,
        pl.col("points").alias("own_points"),
        pl.lit(0, dtype=pl.Int32).alias("n_missing"),
        pl.lit(False).alias("excluded"),
    )
    del signed
    scored = mark_targets(scored, units, framework, rules)
    scored = apply_unit_rules(scored)
    scored = impute(scored, spec)
    scored = apply_dvctt_rule(scored, framework, rules.dvctt_scope)
    scored = impute(scored, spec)  # DVCTT leaves with nothing to be proportional to
    given = pl.col("unit_rule").is_not_null()
    return scored.with_columns(
        pl.when(given).then(share(pl.col("points"))).otherwise("normalised").alias("normalised"),
        # a rule's note with its numbers is text: the column stays the categorical it is
        # without rules (docs/scoring.md)
        pl.col("rule_applied").cast(pl.Categorical),
    ).select(LEAF_COLUMNS)


def node_scores(
    leaves: pl.DataFrame, framework: Framework, given: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Stage 2: points, maximum, ratio, aggregated z and missing count at every node, view and
    composite (:mod:`pipelines.scoring.tree` on the leaves as a ``units × leaves`` grid), with
    the values ``given`` at nodes above the leaves (:mod:`pipelines.scoring.given_nodes`)."""
    return grid_nodes(leaf_grid(leaves, framework), framework, given)


def ranked(
    nodes: pl.DataFrame,
    framework: Framework,
    reading: str | None = None,
    precision: RankPrecision = NOISE_ONLY,
) -> pl.DataFrame:
    """Stage 3: rank within each comparison group at every node, class on the total
    (``reading``: ``total_only`` or ``total_and_pillars``; None = the framework's own), totals
    compared at ``precision`` (:mod:`pipelines.scoring.rank`)."""
    return rank_frame(nodes, framework, Ranking(reading, precision))


def score(
    values: pl.DataFrame,
    units: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    rules: RuleSettings | None = None,
    reading: str | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Score ``units`` on ``framework``: one row per unit, year and node (``SCORE_COLUMNS``)."""
    ((_, scores),) = score_methods(values, units, framework, {"": spec}, rules, reading, history)
    return scores


LeafStep = Callable[[pl.DataFrame, MethodSpec], pl.DataFrame]


def score_methods(
    values: pl.DataFrame,
    units: pl.DataFrame,
    framework: Framework,
    specs: Mapping[str, MethodSpec],
    rules: RuleSettings | None = None,
    reading: str | None = None,
    history: pl.DataFrame | None = None,
    last_leaf_step: LeafStep | None = None,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """:func:`score` by each of ``specs`` (name → settings), one ``(name, scores)`` at a time:
    the grid is built once and shared, and a caller that drops each frame before asking for the
    next holds one at a time. Each frame is exactly :func:`score`'s for that spec.

    ``history`` (other years' values with their groups) is read by the specs whose bounds need
    it; ``last_leaf_step(leaves, spec)`` is applied to each spec's leaf scores before the nodes
    (the warehouse's recipe puts the appraiser's points there:
    :func:`pipelines.evaluate.recipe.score_level`)."""
    rules = rules or RuleSettings()
    values, given = split_given(values, framework)
    for spec in specs.values():
        refuse_method(spec.method, given)
    layout = grid_layout(values, units, framework)
    for name, spec in specs.items():
        past = history if reads_other_years(spec, framework) else None
        # each method's long grid is built from the layout (a tenth of a second at national
        # scale) and dropped with its leaf frame: it is not held while the nodes are scored
        grid = layout.frame(framework)
        leaf_frame = grid_leaf_scores(grid, units, framework, spec, rules, past)
        del grid
        if last_leaf_step is not None:
            leaf_frame = last_leaf_step(leaf_frame, spec)
        # the leaf frame (a method's largest) lives only until its arrays are taken
        leaves = leaf_grid(leaf_frame, framework)
        del leaf_frame
        # ranked on the arrays the nodes are aggregated on, as :func:`ranked` ranks a node frame
        ranking = Ranking(reading, spec.rank_precision)
        scores = grid_nodes(leaves, framework, given, ranking).select(SCORE_COLUMNS)
        del leaves
        yield name, scores
        del scores
