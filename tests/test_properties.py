"""Property-based tests (hypothesis) of the scoring engine and the COINr round trip.

Properties (docs/domain.md, "Scoring methods"):
- min-max points lie in [0, max] (observed, pooled, clipped goalposts);
- every node's points are the sum of its children's (missing zero or mean), or the re-weighted
  sum over the present children (exclude);
- ranks are a ranking with ties: rank = 1 + the number of units strictly better (6 decimals);
- raising one raw value of a higher-is-better indicator never lowers that unit's points, under
  the points rubric or min-max;
- writing a framework and data as COINr tables and reading them back gives identical scores.
Examples are kept few and small so the file runs in a few seconds.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_fixtures import build, leaf, node

from pipelines.analysis.datafiles import (
    read_framework_file,
    read_observations,
    units_of,
    write_coinr,
)
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# monotone rubric rules (categorical codes are labels, not amounts, so they are left out)
RULES = {
    "A": {"kind": "ratio", "target": 50},
    "B": {"kind": "steps", "thresholds": [[40, 30], [20, 15], [0, 5]]},
    "C": {"kind": "yesno"},
    "D": {"kind": "relative_best"},
    "E": {"kind": "direct"},
}
LEAVES = list(RULES)


def framework(direction: str = "higher", maxima=(20, 30, 20, 10, 20)):
    a, b, c, d, e = (leaf(n, m, RULES[n], direction) for n, m in zip(LEAVES, maxima, strict=True))
    return build(
        node("G1", node("P1", a, b), node("P2", c), node_type="group"),
        node("G2", node("P3", d, e), node_type="group"),
    )


FW = framework()
FW_LOWER = framework("lower")
PARENTS = {n.id: n.parent_id for n in FW.nodes.values() if n.parent_id is not None}

value = st.one_of(st.none(), st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 3)))
table = st.lists(st.lists(value, min_size=5, max_size=5), min_size=1, max_size=6)
methods = st.sampled_from(["points", "minmax", "zscore"])
missing = st.sampled_from(["zero", "mean", "exclude"])


def to_values(rows: list[list[float | None]], year: int = 2024) -> pl.DataFrame:
    data = [
        (f"U{i}", year, leaf_id, x)
        for i, row in enumerate(rows)
        for leaf_id, x in zip(LEAVES, row, strict=True)
    ]
    return pl.DataFrame(
        data,
        schema={"unit_id": pl.String, "year": pl.Int32, "node_id": pl.String, "value": pl.Float64},
        orient="row",
    )


def run(rows, spec: MethodSpec, fw=FW, year: int = 2024) -> pl.DataFrame:
    values = to_values(rows, year)
    return score(values, units_of(values), fw, spec)


@FAST
@given(
    table,
    st.sampled_from(["observed", "pooled", "goalposts"]),
    missing,
    st.booleans(),
)
def test_minmax_points_within_zero_and_max(rows, bounds, missing_rule, lower):
    fw = FW_LOWER if lower else FW
    scores = run(rows, MethodSpec("minmax", missing=missing_rule, minmax_bounds=bounds), fw)
    for row in scores.iter_rows(named=True):
        assert not math.isnan(row["points"])
        assert -1e-9 <= row["points"] <= row["max_points"] + 1e-9, row
        if row["ratio"] is not None and row["node_level"] != "composite":
            assert -1e-12 <= row["ratio"] <= 1 + 1e-12


@FAST
@given(table, methods, missing, st.sampled_from(["cdf", "rescaled"]))
def test_totals_are_the_sum_of_their_parts(rows, method, missing_rule, zmode):
    scores = run(rows, MethodSpec(method, missing=missing_rule, zscore_mode=zmode))
    index = {(r["unit_id"], r["node_id"]): r for r in scores.iter_rows(named=True)}
    for unit in {r["unit_id"] for r in index.values()}:
        for parent in set(PARENTS.values()):
            kids = [index[unit, k] for k, p in PARENTS.items() if p == parent]
            got = index[unit, parent]["points"]
            if missing_rule != "exclude" or not any(k["excluded"] for k in kids):
                assert math.isclose(got, sum(k["points"] for k in kids), abs_tol=1e-9)
                continue
            present = [k for k in kids if not k["excluded"]]
            if not present:
                assert index[unit, parent]["excluded"] and got == 0
                continue
            weight = sum(k["max_points"] for k in present)
            expected = (
                sum(k["points"] for k in present) / weight * index[unit, parent]["max_points"]
            )
            assert math.isclose(got, expected, abs_tol=1e-9)


@FAST
@given(table, methods, missing)
def test_ranks_are_a_ranking_with_ties(rows, method, missing_rule):
    scores = run(rows, MethodSpec(method, missing=missing_rule))
    for node_id in scores["node_id"].unique():
        members = scores.filter(node_id=node_id)
        points = [round(p, 6) for p in members["points"]]
        for r, p in zip(members["rank"], points, strict=True):
            assert r == 1 + sum(q > p for q in points)


@FAST
@given(
    table.filter(lambda rows: any(x is not None for row in rows for x in row)),
    st.sampled_from(["points", "minmax"]),
    st.data(),
)
def test_raising_a_value_never_lowers_the_units_points(rows, method, data):
    present = [(i, j) for i, row in enumerate(rows) for j, x in enumerate(row) if x is not None]
    i, j = data.draw(st.sampled_from(present))
    step = data.draw(st.floats(0.001, 200, allow_nan=False))
    raised = [list(row) for row in rows]
    raised[i][j] = rows[i][j] + step
    spec = MethodSpec(method)
    before, after = run(rows, spec), run(raised, spec)
    unit, leaf_id = f"U{i}", LEAVES[j]
    for node_id in (leaf_id, FW.nodes[leaf_id].parent_id, FW.root_id):
        old = before.filter(unit_id=unit, node_id=node_id)["points"].item()
        new = after.filter(unit_id=unit, node_id=node_id)["points"].item()
        assert new >= old - 1e-9, (node_id, old, new)


@settings(max_examples=10, deadline=None)
@given(
    st.lists(st.lists(value, min_size=5, max_size=5), min_size=1, max_size=4),
    # B's steps give up to 30 points: its maximum is at least 30
    st.tuples(st.integers(1, 50), st.integers(30, 60), *[st.integers(1, 50)] * 3),
    methods,
    missing,
)
def test_coinr_round_trip_is_lossless(rows, maxima, method, missing_rule):
    fw = framework(maxima=tuple(float(m) for m in maxima))
    values = pl.concat([to_values(rows, 2023), to_values(rows[::-1], 2024)])
    spec = MethodSpec(method, missing=missing_rule)
    with tempfile.TemporaryDirectory() as folder:
        written = write_coinr(fw, Path(folder), values)
        back = read_framework_file(written["iMeta"])
        back_values = read_observations(written["iData"], back)
    keys = ["year", "unit_id", "node_id"]
    before = score(values, units_of(values), fw, spec).sort(keys)
    after = score(back_values, units_of(back_values), back, spec).sort(keys)
    assert back.content_hash() == fw.content_hash()
    assert after.equals(before)
