"""The scoring verbs: normalise → unit rules → missing data → aggregate → rank → classify.

Modelled on COINr's verbs (build, normalise, aggregate, rank): each step is a plain function,
frames in and frames out. The warehouse stages call them one at a time (one table each);
:func:`score` chains them for files scored outside the warehouse (``dti score``). Inside, every
step reads and writes the grid's ``units × leaves`` arrays (:mod:`pipelines.scoring.grid`,
:mod:`pipelines.scoring.leaf_arrays`).

Leaf stage, in order (docs/scoring.md):
1. :func:`pipelines.scoring.normalise.normalise_grid` — the method turns each reported value
   into points (missing stays missing);
2. per-unit rules (:mod:`pipelines.scoring.rules`): special units' maximum, best of the group for
   units without subordinates;
3. :func:`impute` — the missing-data rule (``zero``, ``mean`` or ``exclude``) for leaves still
   without points;
4. the DVCTT proportional rule, which reads the unit's final points on the non-DVCTT leaves.
Every leaf row says in ``rule_applied`` which of these gave its points, and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.given_nodes import refuse_method, split_given
from pipelines.scoring.grid import Grid, complete_grid
from pipelines.scoring.leaf_arrays import LeafArrays, num_texts, read_leaves, share
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.node_table import (
    Ranking,
    aggregate_leaves,
    grid_nodes,
    node_frame,
    rank_frame,
)
from pipelines.scoring.normalise import normalise_grid, reads_other_years
from pipelines.scoring.rank import NOISE_ONLY, RankPrecision
from pipelines.scoring.rules import (
    DVCTT,
    RuleSettings,
    UnitRules,
    apply_dvctt_rule,
    apply_unit_rules,
    mark_targets,
)

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


def impute(state: LeafArrays, rules: UnitRules, own: np.ndarray, spec: MethodSpec) -> None:
    """Apply the missing-data rule to every leaf still without points.

    ``zero``: 0 points (Đắk Lắk 2534: "không có số liệu báo cáo … mặc định là 0 điểm");
    ``mean``: the mean of the points of the units of the group that scored the leaf from a value
    that year (``own``; 0 when nobody did); ``exclude``: the leaf is left out (``excluded``;
    0 points, no ratio) and its parent re-weights over the present siblings
    (:mod:`pipelines.scoring.tree`). Leaves waiting for the DVCTT rule are skipped.
    """
    todo = np.isnan(state.points) & ~rules.pending(DVCTT)
    if not todo.any():
        return  # every leaf has its points
    grid = state.grid
    filled = np.zeros(int(todo.sum()))
    why = grid.reported[todo].astype(np.int64)
    fallback = rules.fallback[todo]
    keys = [why, fallback]
    whys = ("no value", "the value gives no points under the rule")
    if spec.missing == "mean":
        count = grid.by_group(np.add, (~np.isnan(own)).astype(np.float64))[todo]
        total = grid.by_group(np.add, np.nan_to_num(own, nan=0.0))[todo]
        with np.errstate(divide="ignore", invalid="ignore"):
            filled = np.where(count > 0, total / count, 0.0)
        group = np.repeat(np.arange(grid.starts.size), grid.sizes)[:, None]
        keys.append((group * todo.shape[1] + np.arange(todo.shape[1]))[todo])
        means = num_texts(filled)

        def rule(i: int) -> str:
            if count[i] == 0:
                return f"missing.mean: {whys[why[i]]} and nobody in the group → 0"
            return f"missing.mean: {whys[why[i]]} → mean of {int(count[i])} reported = {means[i]}"
    elif spec.missing == "exclude":

        def rule(i: int) -> str:
            return f"missing.exclude: {whys[why[i]]} → left out, siblings re-weighted"
    else:

        def rule(i: int) -> str:
            return f"missing.zero: {whys[why[i]]} → 0"

    def text(first: np.ndarray) -> list[str]:
        notes = state.notes.texts
        return [rule(i) if fallback[i] < 0 else f"{notes[fallback[i]]} → {rule(i)}" for i in first]

    state.notes.put(todo, keys, text)
    excluded = spec.missing == "exclude"
    top = np.broadcast_to(state.columns.max_points, todo.shape)[todo]
    state.points[todo] = filled
    state.n_missing[todo] = 1
    state.excluded[todo] = excluded
    state.normalised[todo] = np.nan if excluded else share(filled, top)


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
    return score_leaves(grid, units, framework, spec, rules, history).frame()


def score_leaves(
    grid: Grid,
    units: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    rules: RuleSettings | None = None,
    history: pl.DataFrame | None = None,
) -> LeafArrays:
    """The leaf stage on the grid's arrays, in the order of the module docstring."""
    rules = rules or RuleSettings()
    state = normalise_grid(grid, framework, spec, history)
    own = state.points.copy()
    targets = mark_targets(state, units, framework, rules)
    apply_unit_rules(state, targets, own)
    impute(state, targets, own, spec)
    apply_dvctt_rule(state, targets, rules.dvctt_scope)
    impute(state, targets, own, spec)  # DVCTT leaves with nothing to be proportional to
    given = targets.rule > 0
    state.normalised[given] = share(state.points, state.columns.max_points)[given]
    return state


def node_scores(
    leaves: pl.DataFrame, framework: Framework, given: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Stage 2: points, maximum, ratio, aggregated z and missing count at every node, view and
    composite (:mod:`pipelines.scoring.tree` on the leaves as a ``units × leaves`` grid), with
    the values ``given`` at nodes above the leaves (:mod:`pipelines.scoring.given_nodes`)."""
    return grid_nodes(read_leaves(leaves, framework), framework, given)


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
    grid = complete_grid(values, units, framework)
    for name, spec in specs.items():
        past = history if reads_other_years(spec, framework) else None
        state = score_leaves(grid, units, framework, spec, rules, past)
        if last_leaf_step is not None:  # it reads and writes the leaf frame, as stored
            state = read_leaves(last_leaf_step(state.frame(), spec), framework)
        # ranked on the arrays the nodes are aggregated on, as :func:`ranked` ranks a node frame
        ranking = Ranking(reading, spec.rank_precision)
        nodes = aggregate_leaves(state, framework, given)
        # the leaf numbers are aggregated: only the units and the notes are read again, so the
        # rest is freed before the long node frame is built (~0.1 GiB at national scale)
        scored, notes = state.grid, state.notes
        del state
        scores = node_frame(nodes, scored, notes, framework, ranking).select(SCORE_COLUMNS)
        del nodes
        yield name, scores
        del scores
