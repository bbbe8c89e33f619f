"""Leaf values → leaf points, per comparison group and year (DOMAIN.md, "Scoring methods").

The methods read the grid's values (``units × leaves``; NaN where nothing was reported) and
write ``normalised, z, points`` and ``rule_applied`` (how the points were obtained, e.g.
``minmax(observed)``) into the leaf stage's arrays. Statistics ignore missing values; missing
values stay missing here and get points from the missing-data rule
(:func:`pipelines.scoring.engine.impute`). A comparison group's statistics are reductions over
its run of rows (:meth:`Grid.by_group`).

Every leaf by its own method: a node of the framework may declare the normalisation of the
leaves below it (``normalisation: {method, goalposts}``, the nearest declaration winning:
:meth:`Framework.leaf_normalisation`); the run's method applies to every other leaf, and
declared goalposts are read by min-max as the bounds of their leaves. ``rule_applied`` says
which method scored each leaf (``points.steps``, ``minmax(goalposts [0, 100] declared by P2)``,
``zscore(cdf)``).

Min-max bounds (``MethodSpec.minmax_bounds``):
- ``observed``: min and max of the group's present values in the year;
- ``pooled``: min and max of the group's present values over every year in the grid (and in
  ``history``, the other years the warehouse holds);
- ``goalposts``: the leaf's ``goalposts: [lo, hi]`` from the framework; else, with a
  ``reference_year``, the group's observed bounds in that year; else the observed bounds (said in
  ``rule_applied``). With ``clip`` values beyond the bounds score 0 or the maximum.

Degenerate groups (documented, never NaN):
- min-max with max = min (one unit, all present values equal, or equal reference bounds):
  there is no spread to place a unit on, so ``n`` = the leaf's rubric points of the value ÷ its
  maximum — a "no" that every unit answers scores 0, not the maximum;
- z-score with fewer than two values or sd = 0: the same rule — ``z = 0`` (every unit is at
  the mean) but ``n`` = the rubric points ÷ the maximum, not ``Φ(0)`` = half the maximum
  (:func:`pipelines.scoring.rubric.rubric_share`, shared by both methods).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from scipy.special import ndtr

from pipelines.framework.model import Framework
from pipelines.scoring.choices import METHODS
from pipelines.scoring.grid import UNIT_KEYS, Grid, complete_grid, typed
from pipelines.scoring.leaf_arrays import OUTPUT, LeafArrays, leaf_columns, num_texts
from pipelines.scoring.methods import RESCALE_CENTRE, RESCALE_SPREAD, MethodSpec
from pipelines.scoring.rubric import rubric_cells, rubric_share

NO_SPREAD = "→ n = rubric points ÷ max"  # how rule_applied says a group had no spread


def normalise(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Leaf points by the run's method, or by the method a node of the framework declares for
    a leaf (``normalisation``): the rows of ``values`` (``unit_id, year, group_id, node_id,
    value``) with ``OUTPUT``; missing values stay null (the missing-data rule:
    :func:`pipelines.scoring.engine.impute`), as do rows of no leaf of the framework.

    ``history`` (other years' ``unit_id, year, group_id, node_id, value``) feeds pooled min-max
    bounds and reference-year goalposts; the values' own years always count."""
    return _on_rows(values, framework, lambda grid: normalise_grid(grid, framework, spec, history))


def rubric_points(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Each leaf's rubric rule (docs/framework-format.md, "Rules") applied to its raw value,
    whatever method a node declares (a unit's self-assessed points): as :func:`normalise`."""

    def rubric(grid: Grid) -> LeafArrays:
        state = LeafArrays.empty(grid, leaf_columns(framework, grid.leaf_ids))
        rubric_cells(state, np.arange(len(grid.leaf_ids)), framework)
        return state

    return _on_rows(values, framework, rubric)


def _on_rows(
    values: pl.DataFrame, framework: Framework, score: Callable[[Grid], LeafArrays]
) -> pl.DataFrame:
    """``OUTPUT`` of ``score`` on the grid of ``values``, back on the rows of ``values``."""
    units = values.select(typed(*UNIT_KEYS)).unique(maintain_order=True)
    scored = score(complete_grid(values, units, framework)).frame()
    keys = [*UNIT_KEYS, "node_id"]
    return values.with_columns(typed(*keys)).join(
        scored.select(*typed(*keys), *OUTPUT), on=keys, how="left", nulls_equal=True
    )


def normalise_grid(
    grid: Grid,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
) -> LeafArrays:
    """The leaf stage's arrays with each column normalised by its method."""
    state = LeafArrays.empty(grid, leaf_columns(framework, grid.leaf_ids))
    methods = np.array(state.columns.methods(spec), dtype=object)
    for method in METHODS:
        columns = np.flatnonzero(methods == method)
        if columns.size == 0:
            continue
        if method == "points":
            rubric_cells(state, columns, framework)
        elif method == "minmax":
            _minmax(state, columns, framework, spec, history)
        else:
            _zscore(state, columns, framework, spec)
    return state


def reads_other_years(spec: MethodSpec, framework: Framework) -> bool:
    """Whether scoring ``framework`` by ``spec`` reads years other than the one scored: the
    run's own min-max with pooled or reference-year bounds (``spec.needs_other_years``), or,
    under such bounds, a leaf a node declares ``method: minmax`` for without goalposts (it
    takes the run's bounds whatever the run's method)."""
    if spec.needs_other_years:
        return True
    if spec.minmax_bounds != "pooled" and spec.reference_year is None:
        return False
    declared = (framework.leaf_normalisation(leaf.id) for leaf in framework.leaves())
    return any(
        d is not None and d[1].effective_method == "minmax" and d[1].goalposts is None
        for d in declared
    )


# ---------------------------------------------------------------- min-max


def _bounds_by_group(
    state: LeafArrays,
    signed: np.ndarray,
    columns: np.ndarray,
    framework: Framework,
    history: pl.DataFrame | None,
    year: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` on the grid's rows: min and max of the signed present values of the row's
    comparison group over every year (``year``: that year only), in the grid and in ``history``
    (the units the grid does not hold that year, laid out as a grid of their own)."""
    units, cells = state.grid.units, signed
    if history is not None and not history.is_empty():
        others = history.select(typed(*UNIT_KEYS)).unique(maintain_order=True)
        others = others.join(units, on=["unit_id", "year"], how="anti", nulls_equal=True)
        past = complete_grid(history, others, framework)
        units = pl.concat([units, past.units])
        cells = np.vstack([cells, past.value[:, columns] * state.columns.direction[columns]])
    if year is not None:
        cells = np.where(units["year"].eq_missing(year).to_numpy()[:, None], cells, np.nan)
    group = units.select(pl.col("group_id").rank("dense").fill_null(0)).to_series().to_numpy()
    lo = np.full((int(group.max(initial=0)) + 1, columns.size), np.nan)
    hi = lo.copy()
    np.fmin.at(lo, group, cells)
    np.fmax.at(hi, group, cells)
    mine = group[: state.grid.units.height]
    return lo[mine], hi[mine]


def _minmax(
    state: LeafArrays,
    columns: np.ndarray,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None,
) -> None:
    """``n = (x − lo) / (hi − lo)`` with the spec's bounds, points = n × max points."""
    grid, leaves = state.grid, state.columns
    direction = leaves.direction[columns]
    signed = grid.value[:, columns] * direction
    # the basis of each column's bounds as rule_applied says it, and (reference-year
    # goalposts) for the rows of a group absent in the reference year
    pooled = spec.minmax_bounds == "pooled"
    basis = absent_basis = ["pooled" if pooled else "observed"] * columns.size
    absent = np.zeros(signed.shape, dtype=bool)
    if pooled:
        lo, hi = _bounds_by_group(state, signed, columns, framework, history, None)
    else:  # observed, and the fallback of goalposts
        lo, hi = grid.by_group(np.fmin, signed), grid.by_group(np.fmax, signed)
    if spec.minmax_bounds == "goalposts":
        own = absent_own = "observed: no goalposts"
        year = spec.reference_year
        if year is not None:
            ref_lo, ref_hi = _bounds_by_group(state, signed, columns, framework, history, year)
            absent = np.isnan(ref_lo)
            lo, hi = np.where(absent, lo, ref_lo), np.where(absent, hi, ref_hi)
            own, absent_own = f"goalposts of {year}", f"observed: group absent in {year}"
        lo, hi, fixed = _goalposts(lo, hi, leaves.goalposts[columns], direction)
        basis = [f or own for f in fixed]  # a leaf's own goalposts win over the year's
        absent_basis = [f or absent_own for f in fixed]
    # goalposts a node declares (``normalisation``) win over the run's bounds, on their leaves
    by = [leaves.declared_by[j] for j in columns]
    lo, hi, declared = _goalposts(lo, hi, leaves.declared_goalposts[columns], direction, by)
    basis = [d or b for d, b in zip(declared, basis, strict=True)]
    absent_basis = [d or b for d, b in zip(declared, absent_basis, strict=True)]
    span = hi - lo
    present = ~np.isnan(signed)
    degenerate = present & (span == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = (signed - lo) / span
    raw[degenerate] = rubric_share(state, degenerate, columns, framework)
    clipped = present & ((raw < 0) | (raw > 1))
    normalised = np.clip(raw, 0.0, 1.0) if spec.clip else raw
    state.normalised[:, columns] = normalised
    state.points[:, columns] = normalised * leaves.max_points[columns]
    # minmax({basis}{degenerate}{beyond}): eight texts per column, picked by a variant
    beyond = "; clipped" if spec.clip else "; beyond the bounds, not clipped"
    texts = state.notes.codes_of(
        [
            f"minmax({b}{d}{c})"
            for pair in zip(basis, absent_basis, strict=True)
            for b in pair
            for d in ("", f"; max = min {NO_SPREAD}")
            for c in ("", beyond)
        ]
    )
    variant = absent * 4 + degenerate * 2 + clipped
    code = texts[np.arange(columns.size) * 8 + variant]
    state.notes.codes[:, columns] = np.where(present, code, -1)


def _goalposts(
    lo: np.ndarray,
    hi: np.ndarray,
    goalposts: np.ndarray,
    direction: np.ndarray,
    by: list[str | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """``(lo, hi)`` with the columns' ``goalposts`` (columns × 2, raw ``[lo, hi]``; NaN: none)
    in their place, in signed terms (lower-is-better: ``[−hi, −lo]``), and each column's
    ``goalposts [lo, hi]`` (``declared by <node>`` with ``by``; None: no goalposts)."""
    has = ~np.isnan(goalposts[:, 0])
    signed = np.where((direction < 0)[:, None], -goalposts[:, ::-1], goalposts)
    low, high = num_texts(goalposts[:, 0]), num_texts(goalposts[:, 1])
    tails = [""] * has.size if by is None else [f" declared by {b}" for b in by]
    texts = [
        f"goalposts [{a}, {b}]{tail}" if h else None
        for h, a, b, tail in zip(has, low, high, tails, strict=True)
    ]
    return np.where(has, signed[:, 0], lo), np.where(has, signed[:, 1], hi), texts


# ---------------------------------------------------------------- z-score


def _zscore(state: LeafArrays, columns: np.ndarray, framework: Framework, spec: MethodSpec) -> None:
    """``z = (x − mean) / sd`` with the sample sd (n − 1); points = Φ(z) × max points (``cdf``)
    or ``clip(0.5 + 0.1 z, 0, 1) × max`` (``rescaled``; see :mod:`pipelines.scoring.methods`)."""
    grid, leaves = state.grid, state.columns
    signed = grid.value[:, columns] * leaves.direction[columns]
    present = ~np.isnan(signed)
    count = grid.by_group(np.add, present.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = grid.by_group(np.add, np.where(present, signed, 0.0)) / count
        squares = np.where(present, (signed - mean) ** 2, 0.0)
        sd = np.sqrt(grid.by_group(np.add, squares) / (count - 1))
    few = count < 2
    degenerate = present & (few | (sd == 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(degenerate, 0.0, (signed - mean) / sd)
    z[~present] = np.nan
    if spec.zscore_mode == "rescaled":
        normalised = np.clip(RESCALE_CENTRE + RESCALE_SPREAD * z, 0.0, 1.0)
    else:
        normalised = ndtr(z)
    normalised[degenerate] = rubric_share(state, degenerate, columns, framework)
    state.z[:, columns] = z
    state.normalised[:, columns] = normalised
    state.points[:, columns] = normalised * leaves.max_points[columns]
    mode = spec.zscore_mode
    texts = state.notes.codes_of(
        [
            f"zscore({mode})",
            f"zscore({mode}; fewer than 2 values {NO_SPREAD})",
            f"zscore({mode}; sd = 0 {NO_SPREAD})",
        ]
    )
    code = texts[np.where(few, 1, np.where(sd == 0, 2, 0))]
    state.notes.codes[:, columns] = np.where(present, code, -1)
