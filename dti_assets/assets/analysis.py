"""Analysis for analysts (docs/analysis.md): method comparison, rank uncertainty and sensitivity,
statistical coherence, trends, strengths and weaknesses, one-framework backfill.

Group ``analysis``, downstream of ``year_snapshot``, yearly partitions with a single-run backfill
(one process, one DuckDB writer). Not part of the ``dti_annual`` job (which stays fast): the
``dti_analysis`` job runs them. One pipelines function per asset.
"""

from collections.abc import Callable
from typing import Any

import dagster as dg
import duckdb
from pydantic import Field, field_validator

from dti_assets.assets.common import year_metadata
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.analysis.inputs import ALL_SETTINGS, DEFAULT_MC_SETTINGS
from pipelines.framework.preset import Preset
from pipelines.scoring.choices import METHODS, MISSING_RULES, check_choice

# By key, not by import: importing the asset object would make load_assets_from_modules pick it
# up a second time.
year_snapshot = dg.AssetKey("year_snapshot")

ANALYSIS = {**yearly_stage("analysis"), "kinds": {"polars", "duckdb"}}


def _missing_rules(rules: list[str]) -> list[str]:
    """The missing-data rules of a run's config, each one of MISSING_RULES."""
    for rule in rules:
        check_choice("missing-data rule", rule, MISSING_RULES)
    return rules


class ComparisonConfig(dg.Config):
    settings: list[str] = Field(default_factory=lambda: list(ALL_SETTINGS))
    missing_rules: list[str] = Field(default_factory=lambda: list(MISSING_RULES))

    _check_missing = field_validator("missing_rules")(_missing_rules)


class UncertaintyConfig(dg.Config):
    replications: int = 1000
    noise: float = 0.2
    seed: int = 2534
    settings: list[str] = Field(default_factory=lambda: list(DEFAULT_MC_SETTINGS))
    missing_rules: list[str] = Field(default_factory=lambda: list(MISSING_RULES))

    _check_missing = field_validator("missing_rules")(_missing_rules)


class CoherenceConfig(dg.Config):
    winsorise: bool = False


class StrengthsConfig(dg.Config):
    top: int = 3


class TrendsConfig(dg.Config):
    method: str = ""  # empty: the preset's primary method

    @field_validator("method")
    @classmethod
    def _known_method(cls, method: str) -> str:
        if method:
            check_choice("method", method, METHODS)
        return method


class BackfillConfig(dg.Config):
    # level → framework file (YAML or COINr iMeta); empty: the preset's own framework per level
    frameworks: dict[str, str] = Field(default_factory=dict)


def _each_year(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    settings: DtiSettings,
    analyse: Callable[[duckdb.DuckDBPyConnection, Preset, int], Any],
    label: str = "summary",
) -> dg.MaterializeResult:
    """Run one pipelines analysis for every year of the run in one warehouse connection; each
    year's summary becomes the metadata of that year's materialisation."""
    preset = settings.load_preset()
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            summary = analyse(con, preset, year)
            year_metadata(context, year, {label: dg.MetadataValue.json(summary)})
    return dg.MaterializeResult()


@dg.asset(
    **ANALYSIS,
    deps=[year_snapshot],
    description="Every method setting × missing rule: ranks, Spearman/Kendall, largest moves, "
    "class changes (method_comparison, method_correlations).",
)
def method_comparison(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    settings: DtiSettings,
    config: ComparisonConfig,
) -> dg.MaterializeResult:
    from pipelines.analysis.compare import compare_year

    return _each_year(
        context,
        warehouse,
        settings,
        lambda con, preset, year: compare_year(
            con, preset, year, tuple(config.settings), tuple(config.missing_rules)
        ),
    )


@dg.asset(
    **ANALYSIS,
    deps=[year_snapshot],
    description="Monte Carlo over method, weights (±noise) and missing rule: 5–95 % rank "
    "intervals and variance-based sensitivity indices (rank_uncertainty, sensitivity_indices, "
    "uncertainty_runs, uncertainty_replications).",
)
def rank_uncertainty(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    settings: DtiSettings,
    config: UncertaintyConfig,
) -> dg.MaterializeResult:
    from pipelines.analysis.uncertainty_store import uncertainty_year

    return _each_year(
        context,
        warehouse,
        settings,
        lambda con, preset, year: uncertainty_year(
            con,
            preset,
            year,
            config.replications,
            config.noise,
            config.seed,
            tuple(config.settings),
            tuple(config.missing_rules),
        ),
    )


@dg.asset(
    **ANALYSIS,
    deps=[year_snapshot],
    description="Cronbach's alpha, correlations with the parent and between siblings, outliers "
    "by |skew| > 2 and kurtosis > 3.5 with optional recorded winsorisation.",
)
def statistical_coherence(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    settings: DtiSettings,
    config: CoherenceConfig,
) -> dg.MaterializeResult:
    from pipelines.analysis.coherence_store import coherence_year

    return _each_year(
        context,
        warehouse,
        settings,
        lambda con, preset, year: coherence_year(con, preset, year, config.winsorise),
    )


@dg.asset(
    **ANALYSIS,
    deps=[year_snapshot],
    description="Per unit, the components furthest above and below its group (unit_strengths).",
)
def unit_strengths(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    settings: DtiSettings,
    config: StrengthsConfig,
) -> dg.MaterializeResult:
    from pipelines.analysis.strengths import strengths_year

    return _each_year(
        context,
        warehouse,
        settings,
        lambda con, preset, year: strengths_year(con, preset, year, config.top),
        label="rows",
    )


@dg.asset(
    **ANALYSIS,
    deps=[year_snapshot],
    description="Year-over-year change of totals, pillars and ranks, compound annual growth, "
    "framework-change warnings, mergers through the lineage (score_trends, score_growth).",
)
def score_trends(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    settings: DtiSettings,
    config: TrendsConfig,
) -> dg.MaterializeResult:
    from pipelines.analysis.trends_store import trends_year

    return _each_year(
        context,
        warehouse,
        settings,
        lambda con, preset, year: trends_year(con, preset, year, config.method or None),
    )


@dg.asset(
    **ANALYSIS,
    deps=[year_snapshot],
    description="Recompute the years with one framework per level as NEW snapshot versions; "
    "published snapshots are never touched (backfill_runs).",
)
def one_framework_backfill(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    settings: DtiSettings,
    config: BackfillConfig,
) -> dg.MaterializeResult:
    from pipelines.evaluate.backfill import backfill, frameworks_from_spec

    preset = settings.load_preset()
    spec = dict(config.frameworks) or {level: None for level in preset.levels}
    frameworks = frameworks_from_spec(preset, spec)  # type: ignore[arg-type]
    with warehouse.connect(preset) as con:
        records = backfill(con, preset, frameworks, years=years_of(context))
    for year in years_of(context):
        mine = [r for r in records if r.year == year]
        year_metadata(
            context,
            year,
            {
                "snapshots": len(mine),
                "new": sum(r.created for r in mine),
                "published_left_alone": sum(r.published for r in mine),
            },
        )
    return dg.MaterializeResult()
