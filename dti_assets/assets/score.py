"""Scoring stages: component (leaf) scores → pillar and total → ranks and classes."""

import dagster as dg

from dti_assets.assets.common import check_result
from dti_assets.assets.validate import validated_observations
from dti_assets.partitions import yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.checks import run_check
from pipelines.scoring.stages import compute_leaf_scores, compute_node_scores, compute_ranks

STAGE = {**yearly_stage("score"), "kinds": {"polars", "duckdb"}}


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
    with warehouse.connect() as con:
        rows = sum(compute_leaf_scores(con, preset, year) for year in years_of(context))
    return dg.MaterializeResult(metadata={"rows": rows, "methods": list(preset.methods)})


@dg.asset(
    **STAGE,
    deps=[component_scores],
    check_specs=[
        dg.AssetCheckSpec("parts_add_up", asset="pillar_scores", blocking=True),
        dg.AssetCheckSpec("points_within_maximum", asset="pillar_scores", blocking=True),
    ],
    description="Pillars, groups and the total: sums of their parts, with ratios.",
)
def pillar_scores(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings):
    preset = settings.load_preset()
    with warehouse.connect() as con:
        rows = sum(compute_node_scores(con, preset, year) for year in years_of(context))
        checks = {
            name: [run_check(con, name, year) for year in years_of(context)]
            for name in ("parts_add_up", "points_within_maximum")
        }
    yield dg.MaterializeResult(metadata={"rows": rows})
    for name, outcomes in checks.items():
        yield check_result("pillar_scores", outcomes, name)


@dg.asset(
    **STAGE,
    deps=[pillar_scores],
    check_specs=[dg.AssetCheckSpec("ranks_form_a_ranking", asset="unit_ranks", blocking=True)],
    description="Rank within each comparison group at every node; class on the total.",
)
def unit_ranks(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings):
    preset = settings.load_preset()
    with warehouse.connect() as con:
        rows = sum(compute_ranks(con, preset, year) for year in years_of(context))
        outcomes = [run_check(con, "ranks_form_a_ranking", year) for year in years_of(context)]
    yield dg.MaterializeResult(metadata={"rows": rows})
    yield check_result("unit_ranks", outcomes, "ranks_form_a_ranking")
