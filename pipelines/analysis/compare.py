"""Method comparison: the same year and level scored under every method setting and missing rule.

The decision names two normalisation methods without choosing (Đắk Lắk 2534: Z-score and
Min-Max); a ranking that flips with the method should not be published without saying so.
:func:`compare_methods` scores an :class:`~pipelines.analysis.inputs.AnalysisInput` under each
*scenario* — a method setting (``points``; min-max with observed, pooled or goalpost bounds;
z-score by Φ or rescaled) crossed with a missing-data rule (``zero``, ``exclude``, ``mean``) —
with the real engine, and reports against the *reference* scenario (the nominal setting: the
preset's primary method and missing rule):

* ``scores`` — each unit's total, rank and class under each scenario, its reference rank and
  class, the rank shift (reference rank − scenario rank: positive = better under the scenario);
* ``correlations`` — Spearman's ρ and Kendall's τ-b (scipy, with p-values) between the ranks of
  every pair of scenarios, per comparison group; the row ``group_id = '*'`` is the mean over the
  groups weighted by their number of units (p-values only when the level is one group);
* ``moves`` — per unit, the largest absolute rank shift and the scenario causing it;
* ``class_changes`` — units whose class under a scenario differs from the reference class.

Ranks are the engine's (within the comparison group, ties share the lowest rank).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from pipelines.analysis.inputs import (
    ALL_SETTINGS,
    AnalysisInput,
    check_missing_rules,
    scenario_label,
    setting_label,
)
from pipelines.scoring.choices import MISSING_RULES


@dataclass
class MethodComparison:
    reference: str
    scenarios: list[str]
    scores: pl.DataFrame
    correlations: pl.DataFrame
    moves: pl.DataFrame
    class_changes: pl.DataFrame

    def versus_reference(self, group_id: str = "*") -> pl.DataFrame:
        """One row per scenario: its rank correlations with the reference, the number of units
        whose rank moves, the largest move and the number of class changes."""
        corr = self.correlations.filter(
            (pl.col("group_id") == group_id)
            & ((pl.col("scenario_a") == self.reference) | (pl.col("scenario_b") == self.reference))
        ).with_columns(
            pl.when(pl.col("scenario_a") == self.reference)
            .then(pl.col("scenario_b"))
            .otherwise(pl.col("scenario_a"))
            .alias("scenario")
        )
        moved = self.scores.group_by("scenario").agg(
            (pl.col("rank_shift") != 0).sum().alias("units_moved"),
            pl.col("rank_shift").abs().max().alias("largest_move"),
            pl.col("class_changed").sum().alias("class_changes"),
        )
        return (
            corr.select("scenario", "spearman", "kendall")
            .join(moved, on="scenario", how="right")
            .select(
                "scenario", "spearman", "kendall", "units_moved", "largest_move", "class_changes"
            )
            .with_columns(
                pl.when(pl.col("scenario") == self.reference)
                .then(1.0)
                .otherwise(pl.col("spearman"))
                .alias("spearman"),
                pl.when(pl.col("scenario") == self.reference)
                .then(1.0)
                .otherwise(pl.col("kendall"))
                .alias("kendall"),
            )
            .sort("spearman", "scenario", nulls_last=True)
        )

    def rank_table(self) -> pl.DataFrame:
        """Units × scenarios: each unit's rank under each scenario (reference first)."""
        wide = self.scores.pivot(on="scenario", index=["group_id", "unit_id"], values="rank")
        ordered = [self.reference, *[s for s in self.scenarios if s != self.reference]]
        return wide.select("group_id", "unit_id", *ordered).sort("group_id", self.reference)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
    """Spearman's ρ and Kendall's τ-b of two rankings, with their p-values; None where a ranking
    is constant or has fewer than 3 units (undefined, never NaN)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out: dict[str, float | None] = {
        "spearman": None,
        "spearman_p": None,
        "kendall": None,
        "kendall_p": None,
    }
    if a.size < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return out
    rho = stats.spearmanr(a, b)
    tau = stats.kendalltau(a, b)
    for key, value in (
        ("spearman", rho.statistic),
        ("spearman_p", rho.pvalue),
        ("kendall", tau.statistic),
        ("kendall_p", tau.pvalue),
    ):
        out[key] = None if value is None or math.isnan(value) else float(value)
    return out


def scenarios_of(
    inp: AnalysisInput,
    settings: tuple[str, ...] = ALL_SETTINGS,
    missing_rules: tuple[str, ...] = MISSING_RULES,
) -> list:
    """The specs compared: every setting × every missing rule (the reference among them)."""
    check_missing_rules(missing_rules)
    specs = [inp.spec(s, m) for s in inp.resolve_settings(settings) for m in missing_rules]
    if inp.nominal not in specs:
        specs.insert(0, inp.nominal)
    return specs


def compare_methods(
    inp: AnalysisInput,
    settings: tuple[str, ...] = ALL_SETTINGS,
    missing_rules: tuple[str, ...] = MISSING_RULES,
) -> MethodComparison:
    """Score every scenario with the engine and compare the rankings (module docstring)."""
    specs = scenarios_of(inp, settings, missing_rules)
    reference = scenario_label(inp.nominal)
    frames = []
    for spec in specs:
        frames.append(
            inp.totals(spec).with_columns(
                pl.lit(scenario_label(spec)).alias("scenario"),
                pl.lit(setting_label(spec)).alias("setting"),
                pl.lit(spec.method).alias("method"),
                pl.lit(spec.missing).alias("missing"),
            )
        )
    scores = pl.concat(frames)
    ref = scores.filter(pl.col("scenario") == reference).select(
        "unit_id",
        pl.col("rank").alias("reference_rank"),
        pl.col("class_label").alias("reference_class"),
        pl.col("points").alias("reference_points"),
    )
    scores = scores.join(ref, on="unit_id", how="left").with_columns(
        (pl.col("reference_rank") - pl.col("rank")).alias("rank_shift"),
        (pl.col("class_label").fill_null("") != pl.col("reference_class").fill_null("")).alias(
            "class_changed"
        ),
    )
    scenario_names = [scenario_label(s) for s in specs]
    correlations = _correlations(scores, scenario_names)
    moves = (
        scores.filter(pl.col("scenario") != reference)
        .with_columns(pl.col("rank_shift").abs().alias("abs_shift"))
        .sort(["unit_id", "abs_shift", "scenario"], descending=[False, True, False])
        .group_by("unit_id", maintain_order=True)
        .agg(
            pl.col("group_id").first(),
            pl.col("reference_rank").first(),
            pl.col("rank").first().alias("rank_in_scenario"),
            pl.col("rank_shift").first().alias("largest_shift"),
            pl.col("scenario").first().alias("scenario"),
            pl.col("rank").min().alias("best_rank"),
            pl.col("rank").max().alias("worst_rank"),
            (pl.col("rank_shift") != 0).sum().alias("scenarios_moved"),
        )
        .with_columns(pl.col("unit_id").replace_strict(inp.names, default=None).alias("unit_name"))
        .sort(pl.col("largest_shift").abs(), "unit_id", descending=[True, False])
    )
    class_changes = (
        scores.filter(pl.col("class_changed"))
        .select(
            "scenario",
            "group_id",
            "unit_id",
            "reference_class",
            "class_label",
            "reference_rank",
            "rank",
        )
        .sort("unit_id", "scenario")
    )
    return MethodComparison(reference, scenario_names, scores, correlations, moves, class_changes)


def _correlations(scores: pl.DataFrame, scenarios: list[str]) -> pl.DataFrame:
    rows = []
    groups = sorted(scores["group_id"].unique().to_list())
    ranks = {
        (scenario, group): frame.sort("unit_id")["rank"].to_numpy()
        for (scenario, group), frame in scores.group_by(["scenario", "group_id"])
    }
    for a, b in itertools.combinations(scenarios, 2):
        per_group = []
        for group in groups:
            ra, rb = ranks[(a, group)], ranks[(b, group)]
            result = rank_correlation(ra, rb)
            per_group.append((ra.size, result))
            rows.append(
                {"group_id": group, "scenario_a": a, "scenario_b": b, "n_units": ra.size, **result}
            )
        if len(groups) == 1:
            rows.append({**rows[-1], "group_id": "*"})
            continue
        pooled: dict[str, float | int | None] = {
            "group_id": "*",
            "scenario_a": a,
            "scenario_b": b,
            "n_units": sum(n for n, _ in per_group),
            "spearman_p": None,
            "kendall_p": None,
        }
        for key in ("spearman", "kendall"):
            defined = [(n, r[key]) for n, r in per_group if r[key] is not None]
            weight = sum(n for n, _ in defined)
            pooled[key] = sum(n * v for n, v in defined) / weight if weight else None
        rows.append(pooled)
    schema = {
        "group_id": pl.String,
        "scenario_a": pl.String,
        "scenario_b": pl.String,
        "n_units": pl.Int64,
        "spearman": pl.Float64,
        "spearman_p": pl.Float64,
        "kendall": pl.Float64,
        "kendall_p": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


# ---------------------------------------------------------------- warehouse


def store_comparison(con, comparison: MethodComparison, year: int, level: str) -> int:
    """Rewrite ``method_comparison`` and ``method_correlations`` of the year and level."""
    from pipelines.store.warehouse import replace_rows

    keys = {"year": year, "level": level}
    scores = comparison.scores.with_columns(
        pl.lit(year, dtype=pl.Int32).alias("year"),
        pl.lit(level).alias("level"),
        pl.lit(comparison.reference).alias("reference_scenario"),
    )
    correlations = comparison.correlations.with_columns(
        pl.lit(year, dtype=pl.Int32).alias("year"), pl.lit(level).alias("level")
    )
    rows = replace_rows(con, "method_comparison", scores, keys)
    replace_rows(con, "method_correlations", correlations, keys)
    return rows


def compare_year(
    con,
    preset,
    year: int,
    settings: tuple[str, ...] = ALL_SETTINGS,
    missing_rules: tuple[str, ...] = MISSING_RULES,
) -> dict[str, dict]:
    """Every level of the preset in ``year``: compare and store; a summary per level."""
    from pipelines.analysis.inputs import levels_with_data, load_input

    summary = {}
    for level in levels_with_data(con, preset, year):
        comparison = compare_methods(load_input(con, preset, year, level), settings, missing_rules)
        store_comparison(con, comparison, year, level)
        versus = comparison.versus_reference()
        summary[level] = {
            "reference": comparison.reference,
            "scenarios": len(comparison.scenarios),
            "lowest_spearman": versus["spearman"].drop_nulls().min(),
            "largest_move": int(comparison.moves["largest_shift"].abs().max() or 0),
            "class_changes": comparison.class_changes.height,
        }
    return summary
