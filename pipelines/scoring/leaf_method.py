"""The leaf stage's normaliser: every leaf by its own method.

A node of the framework may declare the normalisation of the leaves below it (``normalisation:
{method, goalposts}``, the nearest declaration winning: :meth:`Framework.leaf_normalisation`);
the run's method applies to every other leaf. The method of each leaf is a per-leaf attribute
(:func:`pipelines.scoring.leaf_frame.leaf_methods`), so one pass sends the rows of each method's
leaves to that method's core; declared goalposts are read by the min-max core as the bounds of
their leaves (:func:`pipelines.scoring.normalise.minmax_signed`). ``rule_applied`` says which
method scored each leaf (``points.steps``, ``minmax(goalposts [0, 100] declared by P2)``,
``zscore(cdf)``).
"""

from __future__ import annotations

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.choices import METHODS
from pipelines.scoring.grid import LEAF
from pipelines.scoring.leaf_frame import DEFAULT_KEYS, Keys, leaf_methods, method_points
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.normalise import minmax_signed, zscore_signed
from pipelines.scoring.rubric import rubric_signed

SIGNED_CORES = {"points": rubric_signed, "minmax": minmax_signed, "zscore": zscore_signed}


def normalised_points(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The leaf stage's normaliser: every leaf by its own method — the one a node of the
    framework declares for it (``normalisation``; :func:`leaf_methods`), else the run's
    ``spec.method`` — with the run's other settings; declared goalposts are the bounds of their
    leaves whatever the run's (:func:`minmax_signed`)."""
    return method_points(values, framework, by_leaf_method, spec, history)


def by_leaf_method(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
    keys: Keys = DEFAULT_KEYS,
) -> pl.DataFrame:
    """:func:`normalised_points` on a frame with the leaf attributes and ``signed``: the rows
    of each method's leaves go to that method's core (a group is one leaf, so its statistics
    are the same as over the whole frame), back in their order. Rows of no known leaf go with
    the run's method."""
    methods = leaf_methods(framework, spec)
    present = [m for m in METHODS if m in methods]
    if present == [spec.method] or not present:
        return SIGNED_CORES[spec.method](frame, framework, spec, history, keys)
    frame = frame.with_row_index("_row")
    parts = []
    for method in present:
        mine = pl.col(LEAF).is_in([i for i, m in enumerate(methods) if m == method])
        if method == spec.method:
            mine = mine.fill_null(True)
        part = frame.filter(mine.fill_null(False))
        parts.append(SIGNED_CORES[method](part, framework, spec, history, keys))
    return pl.concat(parts, how="diagonal_relaxed").sort("_row").drop("_row")


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
