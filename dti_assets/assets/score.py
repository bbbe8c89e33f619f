"""Scoring stages: component (leaf) scores → pillar and total → ranks and classes."""

import dagster as dg
import duckdb

from dti_assets.assets.common import checks_done, outcome_check, year_metadata
from dti_assets.assets.validate import validated_observations
from dti_assets.partitions import yearly_check_spec, yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.evaluate.stages import compute_leaf_scores, compute_node_scores, compute_ranks
from pipelines.framework.preset import Preset
from pipelines.publish.year_figures import preview_markdown, score_figures, unit_totals
from pipelines.store.checks import run_check

STAGE = {**yearly_stage("score"), "kinds": {"polars", "duckdb"}}
PILLAR_CHECKS = ("parts_add_up", "points_within_maximum")
RANK_CHECK = "ranks_form_a_ranking"


@dg.asset(
    **STAGE,
    deps=[validated_observations],
    description="Each component's points by every method (points, min-max, z-score), "
    "missing values scored 0.",
)
def component_scores(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
) -> dg.MaterializeResult:
    preset = settings.load_preset()
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            rows = compute_leaf_scores(con, preset, year)
            year_metadata(context, year, {"rows": rows, "methods": list(preset.methods)})
    return dg.MaterializeResult()


@dg.asset(
    **STAGE,
    deps=[component_scores],
    check_specs=[
        yearly_check_spec(name, asset="pillar_scores", blocking=True) for name in PILLAR_CHECKS
    ],
    description="Pillars, groups and the total: sums of their parts, with ratios.",
)
def pillar_scores(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings):
    preset = settings.load_preset()
    evaluations = []
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            rows = compute_node_scores(con, preset, year)
            year_metadata(context, year, {"rows": rows, **_score_metadata(con, preset, year)})
            evaluations += [
                outcome_check(context, year, run_check(con, name, year)) for name in PILLAR_CHECKS
            ]
    yield dg.MaterializeResult()
    yield from evaluations
    yield from checks_done(context, *PILLAR_CHECKS)


def _score_metadata(
    con: duckdb.DuckDBPyConnection, preset: Preset, year: int, ranked: bool = False
) -> dict:
    """Per level (primary method): units scored, units with a missing value, top and bottom
    unit, and the first and last rows of the ranking as a markdown table."""
    metadata: dict = {"method": preset.primary_method}
    for level, figures in score_figures(con, preset, year).items():
        metadata[level] = dg.MetadataValue.json(figures)
        metadata[f"{level}_top"] = figures["top"]
        metadata[f"{level}_bottom"] = figures["bottom"]
        totals = unit_totals(con, preset, year, level, ranked).drop("max_points")
        metadata[f"{level}_preview"] = dg.MetadataValue.md(preview_markdown(totals))
    return metadata


@dg.asset(
    **STAGE,
    deps=[pillar_scores],
    check_specs=[yearly_check_spec(RANK_CHECK, asset="unit_ranks", blocking=True)],
    description="Rank within each comparison group at every node; class on the total.",
)
def unit_ranks(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings):
    preset = settings.load_preset()
    evaluations = []
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            rows = compute_ranks(con, preset, year)
            metadata = _score_metadata(con, preset, year, ranked=True)
            year_metadata(context, year, {"rows": rows, **metadata})
            evaluations.append(outcome_check(context, year, run_check(con, RANK_CHECK, year)))
    yield dg.MaterializeResult()
    yield from evaluations
    yield from checks_done(context, RANK_CHECK)
