"""The analysts' options: Cronbach's alpha pairwise or listwise (pipelines/analysis/coherence.py,
``dti coherence --alpha``), trends at every node (pipelines/analysis/trends.py, ``dti trends
--node``) and
weight noise restricted to chosen levels (pipelines/analysis/uncertainty.py, ``dti uncertainty
--noise-levels``). Expected values are computed by hand in the comments, or independently with
numpy in the test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from analysis_support import ASEM, hand_input
from click.testing import CliRunner

from dti_cli.main import cli
from pipelines.analysis.coherence import coherence, node_matrix
from pipelines.analysis.coherence_statistics import covariance_matrix, cronbach_alpha, pair_units
from pipelines.analysis.inputs import from_files
from pipelines.analysis.trend_series import series_from_files
from pipelines.analysis.trends import trends
from pipelines.analysis.uncertainty import noisy_node_ids, replay, run_uncertainty
from pipelines.framework.coinr import read_imeta
from pipelines.scoring.methods import MethodSpec

NAN = np.nan

# ---------------------------------------------------------------- Cronbach's alpha

# 4 units × 3 items with gaps: only A and C have every item.
GAPPY = np.array(
    [
        [1, 4, 2],  # A
        [2, NAN, 4],  # B
        [3, 2, 3],  # C
        [4, 6, NAN],  # D
    ]
)


def test_pairwise_covariances_by_hand():
    # var1 over A–D (1, 2, 3, 4): mean 2.5, Σd² = 5 → 5/3
    # var2 over A, C, D (4, 2, 6): mean 4, Σd² = 8 → 4
    # var3 over A, B, C (2, 4, 3): mean 3, Σd² = 2 → 1
    # cov12 over A, C, D: x1 (1, 3, 4) mean 8/3, x2 (4, 2, 6) mean 4:
    #   (−5/3)(0) + (1/3)(−2) + (4/3)(2) = 2 → 2/2 = 1
    # cov13 over A, B, C: x1 (1, 2, 3), x3 (2, 4, 3): (−1)(−1) + 0 + (1)(0) = 1 → 1/2
    # cov23 over A, C: x2 (4, 2), x3 (2, 3): (1)(−0.5) + (−1)(0.5) = −1 → −1/1 = −1
    expected = np.array([[5 / 3, 1, 0.5], [1, 4, -1], [0.5, -1, 1]])
    assert np.allclose(covariance_matrix(GAPPY, "pairwise"), expected, rtol=0, atol=1e-12)
    # units per pair: 12 → A, C, D; 13 → A, B, C; 23 → A, C; diagonal: each item's units
    assert pair_units(GAPPY).tolist() == [[4, 3, 3], [3, 3, 2], [3, 2, 3]]


def test_pairwise_alpha_by_hand_differs_from_listwise():
    # pairwise: Σ var = 5/3 + 4 + 1 = 20/3; Σ_ij C_ij = 20/3 + 2 (1 + 1/2 − 1) = 23/3
    #   α = 3/2 × (1 − (20/3)/(23/3)) = 3/2 × 3/23 = 9/46
    assert cronbach_alpha(GAPPY) == pytest.approx(9 / 46, abs=1e-12)
    assert cronbach_alpha(GAPPY, "pairwise") == pytest.approx(9 / 46, abs=1e-12)
    # listwise: A (1, 4, 2) and C (3, 2, 3) only: variances 2, 2, 1/2 (Σ 9/2); sums 7 and 8 →
    #   variance 1/2; α = 3/2 × (1 − (9/2)/(1/2)) = 3/2 × (−8) = −12
    assert cronbach_alpha(GAPPY, "listwise") == pytest.approx(-12.0, abs=1e-12)


def test_alpha_without_gaps_is_the_same_both_ways():
    # the 4 × 3 example of tests/test_coherence.py: α = 27/28 whichever way
    items = np.array([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5]], dtype=float)
    assert cronbach_alpha(items, "pairwise") == pytest.approx(27 / 28)
    assert cronbach_alpha(items, "listwise") == pytest.approx(27 / 28)


def test_alpha_undefined_cases_and_unknown_method():
    assert cronbach_alpha(np.array([[1.0], [2.0]])) is None  # one item
    # no pair has 2 units in common: every entry undefined
    assert cronbach_alpha(np.array([[1.0, NAN], [NAN, 2.0], [3.0, NAN]]), "listwise") is None
    with pytest.raises(ValueError, match="alpha method"):
        cronbach_alpha(GAPPY, "complete")
    with pytest.raises(ValueError, match="alpha method"):
        coherence(hand_input(), alpha_method="complete")


def _alpha_independently(matrix: np.ndarray, listwise: bool) -> float:
    """Alpha from the covariance matrix built another way: each covariance from the variance of
    the pair's sum, cov(a, b) = (var(a + b) − var(a) − var(b)) / 2, with numpy's ``var``."""
    if listwise:
        matrix = matrix[~np.isnan(matrix).any(axis=1)]
    k = matrix.shape[1]
    variances, covariances = 0.0, 0.0
    for i in range(k):
        x = matrix[:, i]
        variances += np.var(x[~np.isnan(x)], ddof=1)
    for i, j in itertools.combinations(range(k), 2):
        both = ~(np.isnan(matrix[:, i]) | np.isnan(matrix[:, j]))
        a, b = matrix[both, i], matrix[both, j]
        covariances += (np.var(a + b, ddof=1) - np.var(a, ddof=1) - np.var(b, ddof=1)) / 2
    return k / (k - 1) * (1 - variances / (variances + 2 * covariances))


def test_asem_pillar_alpha_pairwise_and_listwise():
    # The expected alphas are computed independently in this test with numpy (no COINr here):
    # the pillars' children points (min-max, gaps left out by the exclude rule), each covariance
    # from the variance of the pair's sum over the units where both are present.
    inp = from_files(
        ASEM / "iMeta.csv",
        ASEM / "raw_iData_full.csv",
        nominal=MethodSpec("minmax", missing="exclude"),
    )
    _units, vectors = node_matrix(inp.score(inp.nominal), inp.framework)
    pairwise = coherence(inp).alpha.filter(pl.col("node_level") == "pillar")
    listwise = coherence(inp, alpha_method="listwise").alpha.filter(
        pl.col("node_level") == "pillar"
    )
    assert pairwise.height == listwise.height == 8
    assert set(pairwise["alpha_method"]) == {"pairwise"}
    assert set(listwise["alpha_method"]) == {"listwise"}
    gappy = 0
    for row, row_lw in zip(
        pairwise.iter_rows(named=True), listwise.iter_rows(named=True), strict=True
    ):
        children = inp.framework.nodes[row["node_id"]].children
        matrix = np.column_stack([vectors[c] for c in children])
        assert row["alpha"] == pytest.approx(_alpha_independently(matrix, False), abs=1e-12)
        assert row_lw["alpha"] == pytest.approx(_alpha_independently(matrix, True), abs=1e-12)
        present = ~np.isnan(matrix)
        pairs = [
            int((present[:, i] & present[:, j]).sum())
            for i, j in itertools.combinations(range(len(children)), 2)
        ]
        assert (row["min_pair_units"], row["max_pair_units"]) == (min(pairs), max(pairs))
        complete = int(present.all(axis=1).sum())
        assert row["n_units"] == row_lw["n_units"] == complete
        assert row_lw["min_pair_units"] == row_lw["max_pair_units"] == complete
        gappy += complete < 51
    assert gappy >= 6  # most pillars have gaps: there the two ways differ
    instit = dict(zip(pairwise["node_id"], pairwise["alpha"], strict=True))["Instit"]
    instit_lw = dict(zip(listwise["node_id"], listwise["alpha"], strict=True))["Instit"]
    assert round(instit, 3) == 0.202 and round(instit_lw, 3) == -0.014


def test_cli_coherence_says_which_alpha():
    args = [
        "coherence",
        "--framework",
        str(ASEM / "iMeta.csv"),
        "--data",
        str(ASEM / "raw_iData_full.csv"),
        "--nominal",
        "minmax:observed|exclude",
    ]
    runner = CliRunner()
    out = runner.invoke(cli, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "pairwise" in out.output and "min_pair_units" in out.output
    out = runner.invoke(cli, [*args, "--alpha", "listwise"], catch_exceptions=False)
    assert out.exit_code == 0 and "listwise: units with every child present" in out.output
    bad = runner.invoke(cli, [*args, "--alpha", "complete"])
    assert bad.exit_code == 2


# ---------------------------------------------------------------- trends at every node

IMETA = """Level,iCode,iName,Direction,Weight,Parent,Type
1,i1,Indicator 1,1,1,P1,Indicator
1,i2,Indicator 2,1,1,P1,Indicator
1,i3,Indicator 3,1,1,P2,Indicator
1,i4,Indicator 4,1,1,P3,Indicator
2,P1,Pillar 1,1,1,G,Aggregate
2,P2,Pillar 2,1,1,G,Aggregate
2,P3,Pillar 3,1,1,H,Aggregate
3,G,Group G,1,1,Index,Aggregate
3,H,Group H,1,1,Index,Aggregate
4,Index,Index,1,1,NA,Aggregate
"""
PANEL = """uName,uCode,Time,i1,i2,i3,i4
Unit A,A,2020,0,10,4,1
Unit B,B,2020,5,0,0,2
Unit C,C,2020,10,20,8,3
Unit A,A,2022,5,66,4,1
Unit B,B,2022,0,0,0,2
Unit C,C,2022,10,100,8,3
"""


@pytest.fixture
def panel(tmp_path):
    (tmp_path / "iMeta.csv").write_text(IMETA, encoding="utf-8")
    (tmp_path / "iData.csv").write_text(PANEL, encoding="utf-8")
    return tmp_path / "iMeta.csv", tmp_path / "iData.csv"


def test_cagr_of_a_group_by_hand(panel):
    # Weights 1 → maxima: G 50 = P1 25 (i1 12.5, i2 12.5) + P2 25 (i3 25); min-max per year, so
    # ratio(G) = (n1 + n2 + 2 n3) / 4.
    # 2020, A: i1 0 of 0–10 → 0; i2 10 of 0–20 → 0.5; i3 4 of 0–8 → 0.5 → (0 + 0.5 + 1)/4 = 0.375
    # 2022, A: i1 5 of 0–10 → 0.5; i2 66 of 0–100 → 0.66; i3 0.5 → (0.5 + 0.66 + 1)/4 = 0.54
    # CAGR over 2 years = (0.54 / 0.375)^(1/2) − 1 = 1.44^(1/2) − 1 = 0.2
    # B: 2020 (0.5 + 0 + 0)/4 = 0.125, 2022 0 → CAGR −1
    series, versions = series_from_files(*panel)
    result = trends(series, versions)
    growth = result.growth.filter(pl.col("node_id") == "G")
    cagr = dict(zip(growth["unit_id"], growth["cagr"], strict=True))
    first = dict(zip(growth["unit_id"], growth["first_ratio"], strict=True))
    last = dict(zip(growth["unit_id"], growth["last_ratio"], strict=True))
    assert first["A"] == pytest.approx(0.375) and last["A"] == pytest.approx(0.54)
    assert cagr["A"] == pytest.approx(0.2, abs=1e-12)
    assert cagr["B"] == pytest.approx(-1.0) and cagr["C"] == pytest.approx(0.0)
    assert set(growth["node_level"]) == {"group"}
    # every aggregate node by default: index, both groups, the three pillars; no indicators
    assert set(result.growth["node_id"]) == {"Index", "G", "H", "P1", "P2", "P3"}
    change = result.changes.filter((pl.col("node_id") == "G") & (pl.col("unit_id") == "A"))
    assert change["ratio_change"][0] == pytest.approx(0.54 - 0.375)


def test_node_option_picks_any_node_and_refuses_unknown(panel):
    series, versions = series_from_files(*panel)
    picked = trends(series, versions, nodes=["G", "i2"])
    assert set(picked.growth["node_id"]) == {"G", "i2"}
    # i2 for A: 0.5 in 2020, 0.66 in 2022 → (0.66 / 0.5)^(1/2) − 1 = √1.32 − 1
    a = picked.growth.filter((pl.col("node_id") == "i2") & (pl.col("unit_id") == "A"))
    assert a["cagr"][0] == pytest.approx(math.sqrt(1.32) - 1, abs=1e-12)
    with pytest.raises(ValueError, match="node X9 not in the series"):
        trends(series, versions, nodes=["G", "X9"])


def test_cli_trends_node(panel, tmp_path):
    framework, data = panel
    base = ["trends", "--framework", str(framework), "--data", str(data)]
    runner = CliRunner()
    out = runner.invoke(cli, [*base, "--node", "G,H", "--out", str(tmp_path / "t")])
    assert out.exit_code == 0, out.output
    growth = pl.read_csv(tmp_path / "t" / "score_growth.csv")
    assert sorted(set(growth["node_id"])) == ["G", "H"]
    assert "chosen nodes" in out.output
    bad = runner.invoke(cli, [*base, "--node", "Nope"])
    assert bad.exit_code == 2
    assert "node Nope not in the series" in bad.output
    assert "Traceback" not in bad.output


# ---------------------------------------------------------------- noise on chosen levels


def test_noisy_nodes_by_level_or_id():
    framework = read_imeta(ASEM / "iMeta.csv")
    pillars = ["Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ", "Social"]
    level2 = noisy_node_ids(framework, ["2"])
    assert set(level2) == {*pillars, "SusEcFin"}
    assert noisy_node_ids(framework, ["3"]) == ["Conn", "Sust"]
    assert set(noisy_node_ids(framework, ["2", "3"])) == {*level2, "Conn", "Sust"}
    assert len(noisy_node_ids(framework, ["1"])) == 49  # the indicators
    assert noisy_node_ids(framework, ["Conn", "LPI"]) == ["Conn", "LPI"]
    assert len(noisy_node_ids(framework, None)) == 49 + 8 + 2  # today: every node below the index
    for wrong, message in (("4", "index"), ("0", "noise level 0"), ("Index", "index"), ("X", "X")):
        with pytest.raises(ValueError, match=message):
            noisy_node_ids(framework, [wrong])


def test_noise_on_pillars_leaves_the_indicator_weights_unchanged():
    # Tiny framework: index 100 = P1 (max 40: P1.1 25, P1.2 15) + P2 (max 60: P2.1 30, P2.2 30).
    # Noise on level 2 only draws two multipliers m1, m2 per replication; renormalised, P1's
    # maximum becomes 100 × 40 m1 / (40 m1 + 60 m2) and every component keeps its share of its
    # pillar, so a unit's total is exactly
    #     (points(P1) m1 + points(P2) m2) × 100 / (40 m1 + 60 m2)
    # with the nominal pillar points. Were any component's weight perturbed, this would not hold.
    inp = hand_input(nominal=MethodSpec("points"))
    result = run_uncertainty(
        inp, ("points",), ("zero",), replications=40, noise=0.3, seed=5, noise_levels=["2"]
    )
    assert result.params["noisy_nodes"] == ["P1", "P2"]
    assert result.params["noise_levels"] == ["2"]
    scores = inp.score(inp.nominal)
    pillar = {
        (r["unit_id"], r["node_id"]): r["points"]
        for r in scores.filter(pl.col("node_level") == "pillar").iter_rows(named=True)
    }
    multipliers = np.array(result.replications["weight_multipliers"].to_list())
    assert multipliers.shape == (result.totals.shape[1], 2)
    assert not np.allclose(multipliers, 1.0)
    m1, m2 = multipliers[:, 0], multipliers[:, 1]
    for u, unit in enumerate(result.unit_ids):
        expected = (
            (pillar[(unit, "P1")] * m1 + pillar[(unit, "P2")] * m2) * 100 / (40 * m1 + 60 * m2)
        )
        assert np.allclose(result.totals[u], expected, rtol=0, atol=1e-9)
    # any replication replays from its own parameters (the noisy nodes recorded with the run)
    again = replay(inp, result.replication(7))
    assert np.allclose(again["points"].to_numpy(), result.totals[:, 7], rtol=0, atol=0)
    # another noise target is another run
    everywhere = run_uncertainty(inp, ("points",), ("zero",), replications=40, noise=0.3, seed=5)
    assert everywhere.run_id != result.run_id
    assert everywhere.params["noise_levels"] is None
    assert len(everywhere.params["noisy_nodes"]) == 6


def test_cli_noise_levels(tmp_path):
    base = [
        "uncertainty",
        "--framework",
        str(ASEM / "iMeta.csv"),
        "--data",
        str(ASEM / "raw_iData_full.csv"),
        "--replications",
        "50",
    ]
    runner = CliRunner()
    out = runner.invoke(cli, [*base, "--noise-levels", "2,3", "--out", str(tmp_path / "u")])
    assert out.exit_code == 0, out.output
    assert "on levels/nodes 2,3 (10 weights)" in out.output
    # a replication of the restricted run replays from the folder alone
    again = runner.invoke(cli, [*base, "--replay", "5", "--from", str(tmp_path / "u")])
    assert again.exit_code == 0, again.output
    assert "identical" in again.output
    bad = runner.invoke(cli, [*base, "--noise-levels", "4"])
    assert bad.exit_code == 2 and "noise level 4" in bad.output
    assert "Traceback" not in bad.output
