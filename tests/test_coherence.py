"""Statistical coherence (pipelines/analysis/coherence.py) and strengths/weaknesses
(pipelines/analysis/strengths.py), with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from analysis_support import ASEM, hand_input

from pipelines.analysis.coherence import coherence
from pipelines.analysis.coherence_statistics import (
    cronbach_alpha,
    is_outlier,
    skew_kurtosis,
    winsorise,
)
from pipelines.analysis.strengths import strengths_weaknesses, unit_strengths
from pipelines.framework.from_mapping import framework_from_mapping


def test_cronbach_alpha_of_a_small_matrix_by_hand():
    # 4 units × 3 items. Item variances (n − 1): 5/3, 19/12, 11/12 → Σ = 25/6;
    # unit sums 6, 8, 10, 14 → variance 35/3; α = 3/2 × (1 − (25/6)/(35/3)) = 27/28.
    items = np.array([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5]], dtype=float)
    assert cronbach_alpha(items) == pytest.approx(27 / 28)


def test_cronbach_alpha_undefined_cases_are_none():
    assert cronbach_alpha(np.array([[1.0], [2.0], [3.0]])) is None  # one item
    assert cronbach_alpha(np.array([[1.0, 2.0]])) is None  # one unit
    assert cronbach_alpha(np.array([[1.0, -1.0], [2.0, -2.0]])) is None  # constant sum
    # listwise: a unit with a missing item is left out
    with_gap = np.array([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5], [9, np.nan, 1]])
    assert cronbach_alpha(with_gap, "listwise") == pytest.approx(27 / 28)


def test_skew_and_excess_kurtosis_are_coinrs_by_hand():
    # x = (0, 0, 0, 1): m2 = 3/16, m3 = 3/32, m4 = 21/256 → g1 = 2/√3, g2 = 7/3 − 3;
    # COINr (e1071 type 2): G1 = g1 √(n(n−1))/(n−2) = 2, G2 = ((n+1) g2 + 6)(n−1)/((n−2)(n−3)) = 4
    skew, kurt = skew_kurtosis(np.array([0, 0, 0, 1.0]))
    assert skew == pytest.approx(2.0) and kurt == pytest.approx(4.0)
    assert not is_outlier(skew, kurt)  # |skew| = 2 is not > 2
    # x = (0, 0, 0, 0, 1): g1 = 1.5 → G1 = √5; g2 = 0.25 → G2 = 5 → flagged
    skew, kurt = skew_kurtosis(np.array([0, 0, 0, 0, 1.0]))
    assert skew == pytest.approx(math.sqrt(5)) and kurt == pytest.approx(5.0)
    assert is_outlier(skew, kurt)
    assert not is_outlier(-3.0, 3.0) and is_outlier(-3.0, 3.6)


def test_degenerate_and_short_vectors_are_never_flagged():
    assert skew_kurtosis(np.array([1.0, 1.0, 1.0, 1.0])) == (None, None)
    assert skew_kurtosis(np.array([1.0, 2.0, np.nan])) == (None, None)
    skew, kurt = skew_kurtosis(np.array([1.0, 2.0, 4.0]))
    assert skew is not None and kurt is None  # kurtosis needs 4 values


def test_winsorisation_follows_coinr_and_is_recorded():
    treated, changes = winsorise(np.array([0, 0, 0, 0, 1.0]))
    assert treated.tolist() == [0, 0, 0, 0, 0]
    assert changes == [(4, 1.0, 0.0, "high")]
    # COINr's example: 1..10 with outliers 30 and 100 (skew 3.06, kurtosis 9.74): the highest
    # point takes the next value, 30; then skew 1.71 < 2 passes and the treatment stops
    x = np.array([*range(1, 11), 30, 100], dtype=float)
    treated, changes = winsorise(x)
    assert changes == [(11, 100.0, 30.0, "high")]
    assert skew_kurtosis(treated)[0] == pytest.approx(1.712038, abs=1e-6)
    untouched, none = winsorise(np.array([1.0, 2.0, 3.0, 4.0]))
    assert none == [] and untouched.tolist() == [1, 2, 3, 4]


def test_negative_and_redundant_components_are_flagged():
    # P1.1 rises while P1.2 (yes/no) falls → negative; P2.1 and P2.2 (lower is better) move
    # together → redundant (r > 0.9) under min-max
    values = {
        "A": {"P1.1": 0.0, "P1.2": 1.0, "P2.1": 1.0, "P2.2": 4.0},
        "B": {"P1.1": 25.0, "P1.2": 1.0, "P2.1": 3.0, "P2.2": 2.0},
        "C": {"P1.1": 50.0, "P1.2": 0.0, "P2.1": 4.0, "P2.2": 1.5},
        "D": {"P1.1": 100.0, "P1.2": 0.0, "P2.1": 5.0, "P2.2": 1.0},
    }
    result = coherence(hand_input(values))
    pairs = {(r["node_a"], r["node_b"]): r for r in result.pairs.iter_rows(named=True)}
    assert pairs[("P1.1", "P1.2")]["negative"]
    assert pairs[("P2.1", "P2.2")]["redundant"] and pairs[("P2.1", "P2.2")]["r"] > 0.9
    alpha = dict(zip(result.alpha["node_id"], result.alpha["alpha"], strict=True))
    assert alpha["P1"] < 0 < 0.9 < alpha["P2"]
    parent = {r["node_id"]: r for r in result.correlations.iter_rows(named=True)}
    assert parent["P2.1"]["r"] > 0.9 and parent["P2.1"]["parent_id"] == "P2"
    flags = set(result.flags()["flag"])
    assert {"negative", "redundant", "low_alpha"} <= flags


def test_winsorised_values_are_returned_beside_the_originals():
    values = {u: {"P1.1": 10.0, "P1.2": 1.0, "P2.1": 3.0, "P2.2": 2.0} for u in "ABCDEFG"}
    values["G"]["P1.1"] = 1000.0  # one far outlier
    result = coherence(hand_input(values), winsorise_outliers=True)
    flagged = result.outliers.filter(pl.col("flagged"))
    assert flagged["node_id"].to_list() == ["P1.1"] and flagged["n_winsorised"][0] == 1
    assert result.winsorised.to_dicts() == [
        {"unit_id": "G", "node_id": "P1.1", "original": 1000.0, "treated": 10.0, "side": "high"}
    ]
    treated = result.treated_values.filter(pl.col("unit_id") == "G", pl.col("node_id") == "P1.1")
    assert treated["value"][0] == 10.0
    plain = coherence(hand_input(values))
    assert plain.winsorised.is_empty() and plain.treated_values is None  # never silent


def test_strengths_and_weaknesses_by_hand():
    # one group of three units, three components of max 10 (ratios):
    #   U1: 1.0, 0.2, 0.5   U2: 0.4, 0.8, 0.5   U3: 0.1, 0.5, 0.5   means 0.5, 0.5, 0.5
    # U1: strength c1 (+0.5), weakness c2 (−0.3); c3 is at the mean: neither.
    ratios = {"U1": (1.0, 0.2, 0.5), "U2": (0.4, 0.8, 0.5), "U3": (0.1, 0.5, 0.5)}
    rows = [
        {
            "group_id": "g",
            "unit_id": unit,
            "node_id": f"c{i + 1}",
            "node_level": "component",
            "points": 10 * r,
            "max_points": 10.0,
            "ratio": r,
            "ordinal": i,
        }
        for unit, values in ratios.items()
        for i, r in enumerate(values)
    ]

    framework = framework_from_mapping(
        {
            "id": "t",
            "version": "1",
            "name": "three components",
            "level": "any",
            "scale": 30,
            "tree": [
                {
                    "id": "P",
                    "type": "pillar",
                    "name": "P",
                    "max_points": 30,
                    "children": [
                        {"id": c, "type": "component", "name": c, "max_points": 10,
                         "rule": {"kind": "direct"}}
                        for c in ("c1", "c2", "c3")
                    ],
                }
            ],
        }
    )  # fmt: skip
    frame = strengths_weaknesses(pl.DataFrame(rows), framework, top=2)
    u1 = {(r["kind"], r["position"]): r for r in frame.filter(pl.col("unit_id") == "U1").to_dicts()}
    assert set(u1) == {("strength", 1), ("weakness", 1)}
    assert u1[("strength", 1)]["node_id"] == "c1"
    assert u1[("strength", 1)]["difference"] == pytest.approx(0.5)
    assert u1[("weakness", 1)]["node_id"] == "c2"
    assert u1[("weakness", 1)]["difference"] == pytest.approx(-0.3)
    # z = difference / sample sd of the group: c1 ratios (1, .4, .1) → sd = √0.21
    assert u1[("strength", 1)]["z"] == pytest.approx(0.5 / math.sqrt(0.21))
    u2 = frame.filter(pl.col("unit_id") == "U2", pl.col("kind") == "weakness")
    assert u2["node_id"].to_list() == ["c1"]


def test_unit_strengths_on_the_engine_scores():
    frame = unit_strengths(hand_input(), top=3)
    # D reported 0 for P1.2 (yes/no) where A, B and C have 1: its weakest component
    worst = frame.filter(
        (pl.col("unit_id") == "D") & (pl.col("kind") == "weakness") & (pl.col("position") == 1)
    )
    assert worst["node_id"][0] in ("P1.1", "P1.2")
    assert (frame.filter(pl.col("kind") == "strength")["difference"] > 0).all()


def test_asem_coherence_flags_coinrs_usual_suspects():
    from pipelines.analysis.inputs import from_files

    result = coherence(from_files(ASEM / "iMeta.csv", ASEM / "raw_iData_full.csv"), None, True)
    flagged = set(result.outliers.filter(pl.col("flagged"))["node_id"])
    assert {"Goods", "Gas", "Flights"} <= flagged  # skewed trade and traffic volumes
    assert result.winsorised.height >= len(flagged)
    assert result.alpha.filter(pl.col("node_level") == "pillar").height == 8
