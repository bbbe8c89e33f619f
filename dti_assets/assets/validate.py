"""Validated observations, checked by the Great Expectations suites before scoring."""

import dagster as dg
import duckdb
import polars as pl

from dti_assets.assets.common import checks_done, year_check, year_metadata
from dti_assets.assets.ingest import raw_submissions
from dti_assets.partitions import yearly_check_spec, yearly_stage, years_of
from dti_assets.resources import DtiSettings, Warehouse
from pipelines.publish.year_figures import (
    failed_expectations,
    observation_figures,
    preview_markdown,
)
from pipelines.report import report_dir
from pipelines.validate.observations import ObservationSummary, build_observations, override_for

BLOCKING_CHECK = "blocking_expectations"
COMPLETENESS_CHECK = "completeness"


@dg.asset(
    **yearly_stage("validate"),
    deps=[raw_submissions],
    kinds={"duckdb"},
    check_specs=[
        yearly_check_spec(
            BLOCKING_CHECK,
            asset="validated_observations",
            blocking=True,
            description="Great Expectations: keys, units, indicators, ranges, "
            "framework version. A failure stops scoring of the year.",
        ),
        yearly_check_spec(
            COMPLETENESS_CHECK,
            asset="validated_observations",
            description="Great Expectations: share of indicators with a value.",
        ),
    ],
    description="One row per unit and indicator: self-assessed, appraised and scored value.",
)
def validated_observations(
    context: dg.AssetExecutionContext, warehouse: Warehouse, settings: DtiSettings
):
    preset = settings.load_preset()
    evaluations: list[dg.AssetCheckEvaluation] = []
    with warehouse.connect(preset) as con:
        for year in years_of(context):
            summaries = build_observations(con, preset, year)
            figures = observation_figures(con, year)
            year_metadata(
                context,
                year,
                {
                    "rows": sum(s.rows for s in summaries),
                    "levels_without_files": [s.level for s in summaries if s.rows == 0] or "none",
                    **{level: dg.MetadataValue.json(f) for level, f in figures.items()},
                    "preview": dg.MetadataValue.md(_figures_table(figures)),
                },
            )
            evaluations += [
                _blocking_check(context, con, year, summaries),
                _completeness_check(context, con, year),
            ]
    yield dg.MaterializeResult()
    yield from evaluations
    yield from checks_done(context, BLOCKING_CHECK, COMPLETENESS_CHECK)


def _figures_table(figures: dict[str, dict]) -> str:
    frame = pl.DataFrame(
        [
            {
                "level": level,
                "units": f["units"],
                "missing values": f["missing_values"],
                "refused rows": f["refused_rows"],
                "blocking passed": f["blocking_passed"],
                "blocking failed": len(f["blocking_failed"]),
            }
            for level, f in figures.items()
        ]
    )
    return preview_markdown(frame) if frame.height else "(no observations)"


def _blocking_check(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    year: int,
    summaries: list[ObservationSummary],
) -> dg.AssetCheckEvaluation:
    """The year's blocking expectations: an explicit, recorded override for every failing level
    lowers the failure to a warning so scoring may go on; the check still shows as failed."""
    # a level no file was accepted for yet is not scored (the others are): its expectations on
    # an empty table do not block the year
    empty = {s.level for s in summaries if s.rows == 0} if any(s.rows for s in summaries) else set()
    failing = [s.level for s in summaries if s.blocking_failures and s.level not in empty]
    overrides = {level: override_for(con, year, level) for level in failing}
    granted = {level: who for level, who in overrides.items() if who}
    failed = {
        name: text
        for name, text in failed_expectations(con, year).items()
        if name.split(":")[0] not in empty
    }
    docs = report_dir() / str(year) / "data-docs"
    description = None
    if failed:
        description = (
            f"{year}: kỳ vọng chặn không đạt — {', '.join(failed)}; chi tiết tiếng Việt: "
            f"Data Docs {docs} (dti report --year {year}) và bảng validation_results"
        )
    return year_check(
        context,
        BLOCKING_CHECK,
        year,
        passed=not failing,
        severity=(
            dg.AssetCheckSeverity.WARN
            if failing and len(granted) == len(failing)
            else dg.AssetCheckSeverity.ERROR
        ),
        metadata={
            "failed": dg.MetadataValue.json(failed) if failed else "none",
            "overrides": [f"{level} – {who}" for level, who in granted.items()] or "none",
            "details": dg.MetadataValue.path(str(docs)),
        },
        description=description,
    )


def _completeness_check(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, year: int
) -> dg.AssetCheckEvaluation:
    completeness = con.execute(
        "SELECT level, success, description, unexpected_count FROM validation_results "
        "WHERE expectation LIKE '%complete%' AND year = ? ORDER BY level, expectation",
        [year],
    ).pl()
    return year_check(
        context,
        COMPLETENESS_CHECK,
        year,
        passed=bool(completeness["success"].all()) if completeness.height else False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"per_level": dg.MetadataValue.json(completeness.to_dicts())},
    )
