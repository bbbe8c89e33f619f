"""Statistical coherence of a framework on a year's data (the JRC/OECD Handbook's checks, as COINr
runs them).

* **Cronbach's alpha** of every aggregate node (pillars first of all) over its k direct children,
  on the children's **points** (what the parent sums; a child left out by the ``exclude`` rule is
  a gap), from their covariance matrix C with sample (n − 1) estimates:
  ``α = k/(k − 1) × (1 − Σ_i C_ii / Σ_ij C_ij)``, i.e. ``k/(k − 1) × (1 − Σ var_i / (Σ var_i +
  2 Σ_{i<j} cov_ij))`` — COINr's ``get_cronbach`` (``k² × mean off-diagonal / Σ C``). Two ways
  with gaps (``alpha_method``):

  - ``pairwise`` (default, COINr's ``use = "pairwise.complete.obs"``): each variance over the
    units where that child is present, each covariance over the units where both children are
    (its own means); an entry with fewer than 2 such units is left out of the sums, as COINr's
    ``sum(..., na.rm = TRUE)`` does. ``min_pair_units`` / ``max_pair_units``: the fewest and
    most units a pair of children used. Such a matrix need not be positive semi-definite, so
    alpha may exceed 1.
  - ``listwise``: the units with every child present only (then ``Σ_ij C_ij = var(Σ children)``).

  ``n_units`` is the number of units with every child present in both. Undefined (null) with
  fewer than 2 children, fewer than 2 units (listwise), or ``Σ C_ij = 0``.
* **Correlations** (Pearson r with its two-sided p-value, scipy ``pearsonr``; Spearman ρ beside it)
  of every node's points with its parent's points — components with their pillar, pillars with
  the total — over all units of the level; ``significant`` when p < 0.05; ``negative`` when
  r < 0 (a component working against its pillar).
* **Sibling pairs**: the correlation of every pair of children of the same parent; flagged
  ``negative`` (r < 0) or ``redundant`` (r > 0.9, COINr's ``get_corr_flags`` high threshold).
* **Outliers** by COINr's skew/kurtosis rule (``get_stats``: ``Flag.SkewKurt``): an indicator is
  flagged when **|skew| > 2 and kurtosis > 3.5**, skewness and kurtosis being the bias-corrected
  sample statistics of e1071's ``type = 2`` (Excel's SKEW and KURT) that COINr's ``skew()`` and
  ``kurt()`` compute — **kurtosis is the excess kurtosis** (0 for a normal distribution), i.e.
  ``scipy.stats.skew(x, bias=False)`` and ``scipy.stats.kurtosis(x, fisher=True, bias=False)``.
  Computed on each leaf's present raw values over the whole level (skew needs 3 values, kurtosis
  4; fewer → null, not flagged).
* **Winsorisation** (optional, never silent): COINr's ``winsorise()`` — while the indicator fails
  the rule (COINr's ``check_SkewKurt``: it passes when |skew| < 2 or kurtosis < 3.5) and fewer
  than ``winmax`` (5) points were treated, the highest value(s) (skew ≥ 0) or the lowest (skew <
  0) take the next value inward. Every changed value is returned in ``winsorised`` (unit,
  indicator, original, treated, side) and the treated values in ``treated_values`` — to be
  scored on purpose, never in place of the observations.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.analysis.coherence_statistics import (
    ALPHA_METHODS,
    WINMAX,
    cronbach_alpha,
    is_outlier,
    pair_units,
    passes_skew_kurtosis,
    pearson_spearman,
    skew_kurtosis,
    winsorise,
)
from pipelines.analysis.inputs import AnalysisInput
from pipelines.framework.model import Framework
from pipelines.scoring.methods import MethodSpec

REDUNDANT_R = 0.9
SIGNIFICANCE = 0.05


@dataclass
class Coherence:
    method: str
    alpha: pl.DataFrame
    correlations: pl.DataFrame
    pairs: pl.DataFrame
    outliers: pl.DataFrame
    winsorised: pl.DataFrame
    treated_values: pl.DataFrame | None

    def flags(self) -> pl.DataFrame:
        """Everything worth a look, one line each: negative or redundant pairs, negative or
        non-significant parent correlations, outlying indicators, low alpha (< 0.7)."""
        lines = []
        for row in self.pairs.filter(pl.col("negative") | pl.col("redundant")).iter_rows(
            named=True
        ):
            kind = "redundant" if row["redundant"] else "negative"
            lines.append(
                (kind, row["parent_id"], f"{row['node_a']} ~ {row['node_b']}: r = {row['r']:.3f}")
            )
        for row in self.correlations.filter(pl.col("negative")).iter_rows(named=True):
            lines.append(
                (
                    "negative",
                    row["node_id"],
                    f"{row['node_id']} ~ {row['parent_id']}: r = {row['r']:.3f}",
                )
            )
        for row in self.outliers.filter(pl.col("flagged")).iter_rows(named=True):
            lines.append(
                (
                    "outlier",
                    row["node_id"],
                    f"skew {row['skew']:.2f}, kurtosis {row['kurtosis']:.2f}",
                )
            )
        for row in self.alpha.filter(pl.col("alpha") < 0.7).iter_rows(named=True):
            lines.append(("low_alpha", row["node_id"], f"alpha = {row['alpha']:.3f}"))
        return pl.DataFrame(lines, schema=["flag", "node_id", "detail"], orient="row")


def node_matrix(scores: pl.DataFrame, framework: Framework) -> tuple[list[str], dict]:
    """Units and each tree node's points as a vector over them (null where the node is
    excluded, i.e. its ratio is null while its maximum is positive)."""
    tree = [n.id for n in framework.nodes.values()]
    frame = scores.filter(pl.col("node_id").is_in(tree)).with_columns(
        pl.when(pl.col("ratio").is_null() & (pl.col("max_points") > 0))
        .then(None)
        .otherwise(pl.col("points"))
        .alias("value")
    )
    units = sorted(frame["unit_id"].unique().to_list())
    wide = frame.pivot(on="node_id", index="unit_id", values="value").sort("unit_id")
    vectors = {
        node: wide[node].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        for node in tree
        if node in wide.columns
    }
    return units, vectors


def coherence(
    inp: AnalysisInput,
    spec: MethodSpec | None = None,
    winsorise_outliers: bool = False,
    winmax: int = WINMAX,
    alpha_method: str = "pairwise",
) -> Coherence:
    """All checks of the module docstring on ``inp`` scored by ``spec`` (default: nominal);
    Cronbach's alpha ``pairwise`` (COINr's default) or ``listwise``."""
    if alpha_method not in ALPHA_METHODS:
        raise ValueError(f"alpha method {alpha_method!r}: use one of {', '.join(ALPHA_METHODS)}")
    spec = spec or inp.nominal
    framework = inp.framework
    scores = inp.score(spec)
    _units, vectors = node_matrix(scores, framework)
    names = {n.id: n.name for n in framework.nodes.values()}
    kinds = {n.id: n.type for n in framework.nodes.values()}

    alpha_rows, corr_rows, pair_rows = [], [], []
    for node in framework.nodes.values():
        children = [c for c in node.children if c in vectors]
        if children:
            matrix = np.column_stack([vectors[c] for c in children])
            complete = int((~np.isnan(matrix).any(axis=1)).sum())
            counts = pair_units(matrix)[np.triu_indices(len(children), 1)]
            if alpha_method == "listwise":
                counts = np.full(counts.shape, complete)
            alpha_rows.append(
                {
                    "node_id": node.id,
                    "node_name": node.name,
                    "node_level": node.type,
                    "n_children": len(children),
                    "n_units": complete,
                    "alpha_method": alpha_method,
                    "min_pair_units": int(counts.min()) if counts.size else None,
                    "max_pair_units": int(counts.max()) if counts.size else None,
                    "alpha": cronbach_alpha(matrix, alpha_method),
                }
            )
            for a, b in itertools.combinations(children, 2):
                r, p, rho = pearson_spearman(vectors[a], vectors[b])
                pair_rows.append(
                    {
                        "parent_id": node.id,
                        "node_a": a,
                        "node_b": b,
                        "r": r,
                        "p_value": p,
                        "spearman": rho,
                        "negative": r is not None and r < 0,
                        "redundant": r is not None and r > REDUNDANT_R,
                    }
                )
        if node.parent_id is not None and node.id in vectors and node.parent_id in vectors:
            r, p, rho = pearson_spearman(vectors[node.id], vectors[node.parent_id])
            corr_rows.append(
                {
                    "node_id": node.id,
                    "node_name": node.name,
                    "node_level": node.type,
                    "parent_id": node.parent_id,
                    "parent_level": kinds[node.parent_id],
                    "r": r,
                    "p_value": p,
                    "spearman": rho,
                    "significant": p is not None and p < SIGNIFICANCE,
                    "negative": r is not None and r < 0,
                }
            )

    outlier_rows, treated_rows = [], []
    raw = inp.values.select("unit_id", "node_id", "value")
    treated_values = raw.clone() if winsorise_outliers else None
    updates = []
    for leaf in framework.leaves():
        part = raw.filter(pl.col("node_id") == leaf.id).sort("unit_id")
        x = part["value"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        skew, kurt = skew_kurtosis(x)
        flagged = is_outlier(skew, kurt)
        row = {
            "node_id": leaf.id,
            "node_name": names[leaf.id],
            "n_values": int((~np.isnan(x)).sum()),
            "skew": skew,
            "kurtosis": kurt,
            "flagged": flagged,
            "n_winsorised": 0,
            "treated_skew": None,
            "treated_kurtosis": None,
            "still_flagged": None,
        }
        if winsorise_outliers and not passes_skew_kurtosis(skew, kurt):
            treated, changes = winsorise(x, winmax)
            t_skew, t_kurt = skew_kurtosis(treated)
            row.update(
                n_winsorised=len(changes),
                treated_skew=t_skew,
                treated_kurtosis=t_kurt,
                still_flagged=is_outlier(t_skew, t_kurt),
            )
            unit_ids = part["unit_id"].to_list()
            for position, before, after, side in changes:
                treated_rows.append(
                    {
                        "unit_id": unit_ids[position],
                        "node_id": leaf.id,
                        "original": float(before),
                        "treated": float(after),
                        "side": side,
                    }
                )
                updates.append((unit_ids[position], leaf.id, float(after)))
        outlier_rows.append(row)
    if treated_values is not None and updates:
        patch = pl.DataFrame(updates, schema=["unit_id", "node_id", "_treated"], orient="row")
        treated_values = (
            treated_values.join(patch, on=["unit_id", "node_id"], how="left")
            .with_columns(pl.coalesce("_treated", "value").alias("value"))
            .drop("_treated")
        )
    return Coherence(
        method=f"{spec.method}|{spec.missing}",
        alpha=pl.DataFrame(alpha_rows, schema=ALPHA_SCHEMA),
        correlations=pl.DataFrame(corr_rows, schema=CORR_SCHEMA),
        pairs=pl.DataFrame(pair_rows, schema=PAIR_SCHEMA),
        outliers=pl.DataFrame(outlier_rows, schema=OUTLIER_SCHEMA),
        winsorised=pl.DataFrame(treated_rows, schema=WINSOR_SCHEMA),
        treated_values=treated_values,
    )


ALPHA_SCHEMA = {
    "node_id": pl.String,
    "node_name": pl.String,
    "node_level": pl.String,
    "n_children": pl.Int32,
    "n_units": pl.Int32,
    "alpha_method": pl.String,
    "min_pair_units": pl.Int32,
    "max_pair_units": pl.Int32,
    "alpha": pl.Float64,
}
CORR_SCHEMA = {
    "node_id": pl.String,
    "node_name": pl.String,
    "node_level": pl.String,
    "parent_id": pl.String,
    "parent_level": pl.String,
    "r": pl.Float64,
    "p_value": pl.Float64,
    "spearman": pl.Float64,
    "significant": pl.Boolean,
    "negative": pl.Boolean,
}
PAIR_SCHEMA = {
    "parent_id": pl.String,
    "node_a": pl.String,
    "node_b": pl.String,
    "r": pl.Float64,
    "p_value": pl.Float64,
    "spearman": pl.Float64,
    "negative": pl.Boolean,
    "redundant": pl.Boolean,
}
OUTLIER_SCHEMA = {
    "node_id": pl.String,
    "node_name": pl.String,
    "n_values": pl.Int32,
    "skew": pl.Float64,
    "kurtosis": pl.Float64,
    "flagged": pl.Boolean,
    "n_winsorised": pl.Int32,
    "treated_skew": pl.Float64,
    "treated_kurtosis": pl.Float64,
    "still_flagged": pl.Boolean,
}
WINSOR_SCHEMA = {
    "unit_id": pl.String,
    "node_id": pl.String,
    "original": pl.Float64,
    "treated": pl.Float64,
    "side": pl.String,
}
