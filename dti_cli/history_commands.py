"""``dti trends | backfill`` (docs/analysis.md): across years — year-over-year changes and growth
of the snapshots, and recomputing past years with one framework (new snapshot versions).
"""

from __future__ import annotations

from pathlib import Path

import click

from dti_cli.analysis_options import (
    console,
    nominal_spec,
    print_table,
    store_option,
    timed,
    write_tables,
)
from dti_cli.arguments import file_arg, level_arg, preset_arg, year_span, years_arg
from dti_cli.common import data_option, fail, framework_option
from dti_cli.setting_options import method_option

# the year-over-year figures shown for a unit or a total
CHANGE_COLUMNS = ["ratio_before", "ratio", "ratio_change", "rank_before", "rank", "rank_change"]


# ---------------------------------------------------------------- trends


@click.command("trends")
@click.option("--preset", default=None, help="Preset of the warehouse.")
@click.option("--level", default=None, help="One level (default: all).")
@method_option(help="Method (default: the preset's primary).")
@click.option(
    "--framework-hash",
    default=None,
    help="Only snapshots of this framework (e.g. written by dti backfill).",
)
@click.option("--unit", "unit_id", default=None, help="Show one unit's history.")
@click.option(
    "--node",
    "nodes_text",
    default=None,
    help="Only these nodes, comma-separated (any node, indicators included; default: the "
    "index, groups, pillars, views and composites).",
)
@framework_option(False, "File mode: framework (YAML / iMeta).")
@data_option(False, "File mode: a panel (COINr iData with Time, or long CSV with years).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@store_option
@timed
def trends_command(
    preset,
    level,
    method,
    framework_hash,
    unit_id,
    nodes_text,
    framework_path,
    data_path,
    out_dir,
    store,
) -> None:
    """Year-over-year change of totals, pillars and ranks; CAGR; framework-change warnings."""
    import polars as pl

    from pipelines.analysis import trend_series, trends_store
    from pipelines.analysis import trends as tr

    try:
        if framework_path or data_path:
            if not (framework_path and data_path):
                fail("file mode needs both --framework and --data")
            spec = nominal_spec(method) if method else None
            series, versions = trend_series.series_from_files(framework_path, data_path, spec)
            successors, lineage = None, None
        else:
            from pipelines import paths

            loaded = preset_arg(preset)
            if level is not None:
                level_arg(loaded, level)
            if method is not None and method not in loaded.methods:
                fail(
                    f"method {method!r} is not computed by preset {loaded.id}; "
                    f"valid: {', '.join(loaded.methods)}"
                )
            if not paths.warehouse_path().exists():
                fail(f"no warehouse at {paths.warehouse_path()}")
            series, versions, successors, lineage = trend_series.series_from_warehouse(
                method, [level] if level else None, framework_hash, preset=preset
            )
    except (ValueError, KeyError) as exc:
        fail(str(exc))
    if series.is_empty():
        asked = [f"method {method or 'primary'}", f"level {level or 'any'}"]
        if framework_hash:
            asked.append(f"framework hash {framework_hash}")
        fail(f"no snapshots match ({', '.join(asked)}) – run `dti run` or `dti backfill` first")
    nodes = [n.strip() for n in nodes_text.split(",") if n.strip()] if nodes_text else None
    try:
        result = tr.trends(series, versions, successors, lineage, nodes=nodes)
    except ValueError as exc:
        fail(str(exc))
    years = sorted(series["year"].unique().to_list())
    console.print(
        f"[bold]Trends[/] – years {years}, levels "
        f"{sorted(series['level'].unique().to_list())}, nodes "
        f"{', '.join(nodes) if nodes else 'index, groups, pillars, views, composites'}"
    )
    for message in result.warnings["message"].to_list():
        console.print(f"[yellow]warning:[/] {message}")
    shown = pl.col("node_id").is_in(nodes) if nodes else pl.col("node_level") == "index"
    what = "the chosen nodes" if nodes else "the total"
    totals = result.changes.filter(shown)
    if unit_id:
        print_table(
            result.changes.filter(pl.col("unit_id") == unit_id).select(
                "level",
                "year_from",
                "year_to",
                "node_id",
                *CHANGE_COLUMNS,
                "framework_changed",
                "via_lineage",
            ),
            f"{unit_id}: year over year",
            rows=100,
        )
    else:
        last = totals.filter(pl.col("year_to") == totals["year_to"].max())
        columns = ["level", "group_id", "unit_id", *(["node_id"] if nodes else []), *CHANGE_COLUMNS]
        rises = last.filter(pl.col("ratio_change") > 0)
        falls = last.filter(pl.col("ratio_change") < 0)
        for moved, title, descending in (
            (rises, f"Largest rises of {what} (last pair of years)", True),
            (falls, f"Largest falls of {what} (last pair of years)", False),
        ):
            if moved.is_empty():
                console.print(f"{title}: none")
                continue
            print_table(
                moved.sort("ratio_change", descending=descending).select(columns), title, rows=10
            )
        growth = result.growth.filter(shown).sort("cagr", descending=True, nulls_last=True)
        print_table(
            growth.select(
                "level",
                "unit_id",
                *(["node_id"] if nodes else []),
                "first_year",
                "last_year",
                "first_ratio",
                "last_ratio",
                "cagr",
                "framework_changed",
                "via_lineage",
            ),
            f"Compound annual growth of the ratio of {what}",
            rows=10,
        )
    write_tables(
        out_dir,
        {
            "score_trends": result.changes,
            "score_growth": result.growth,
            "trend_warnings": result.warnings,
        },
    )
    if store:
        if framework_path:
            fail("--store needs warehouse mode")
        from pipelines.store.warehouse import session

        loaded = preset_arg(preset)
        with session() as con:
            trends_store.store_trends(con, result, int(max(years)), method or loaded.primary_method)
        console.print("[green]stored in the warehouse[/]")


# ---------------------------------------------------------------- backfill


@click.command("backfill")
@click.option("--preset", default=None, help="Preset of the warehouse.")
@click.option(
    "--framework-level",
    "framework_levels",
    multiple=True,
    help="LEVEL=FILE: score LEVEL with this framework (YAML or iMeta); LEVEL alone: the "
    "preset's current framework. Repeatable.",
)
@click.option("--all-years", is_flag=True, help="Every year the warehouse has observations for.")
@click.option("--years", "years_spec", default=None, help="2023, 2021-2024 or 2021,2023.")
@framework_option(False, "File mode: the framework to apply to every year of --data.")
@data_option(False, "File mode: a panel; the scores of every year go to --out.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@timed
def backfill_command(
    preset, framework_levels, all_years, years_spec, framework_path, data_path, out_dir
) -> None:
    """Recompute years with one framework: NEW snapshot versions, published ones untouched."""
    if framework_path or data_path:
        _backfill_files(framework_path, data_path, out_dir)
        return
    from pipelines import paths
    from pipelines.analysis.datafiles import DataFileError
    from pipelines.evaluate.backfill import backfill, frameworks_from_spec, records_frame
    from pipelines.framework.from_mapping import FrameworkError
    from pipelines.store.warehouse import session

    loaded = preset_arg(preset)
    years = None if all_years else years_arg(loaded, years_spec) if years_spec else []
    if not framework_levels:
        fail(f"give --framework-level LEVEL=FILE (repeatable); levels: {', '.join(loaded.levels)}")
    spec: dict[str, str | None] = {}
    for item in framework_levels:
        level, _, path = item.partition("=")
        level_arg(loaded, level.strip())
        spec[level.strip()] = str(file_arg(Path(path), "--framework-level")) if path else None
    if years == []:
        fail(
            f"give --all-years or --years (years of preset {loaded.id}: {year_span(loaded.years)})"
        )
    if not paths.warehouse_path().exists():
        fail(f"no warehouse at {paths.warehouse_path()}")
    try:
        frameworks = frameworks_from_spec(loaded, spec)  # type: ignore[arg-type]
        with session() as con:
            records = backfill(con, loaded, frameworks, years)
    except (DataFileError, FrameworkError, ValueError, OSError) as exc:
        fail(str(exc))
    if not records:
        asked = year_span(years) if years else "any year"
        fail(
            f"nothing to backfill: the warehouse holds no observations of {', '.join(spec)} "
            f"for {asked}"
        )
    frame = records_frame(records)
    console.print(
        f"[bold]Backfill[/] – {len(records)} snapshots: {sum(r.created for r in records)} new, "
        f"{sum(not r.created for r in records)} already existed (left untouched; "
        f"{sum(r.published for r in records)} of them published)"
    )
    if frame.height:
        print_table(
            frame.select(
                "year",
                "level",
                "method",
                "framework_id",
                "snapshot_id",
                "created",
                "published",
                "absent_leaves",
                "unmatched_indicators",
            ),
            "Snapshots",
            rows=60,
        )
        hashes = sorted(set(frame["framework_hash"].to_list()))
        console.print(f"trends with one framework: dti trends --framework-hash {hashes[0]}")
    write_tables(out_dir, {"backfill_runs": frame})


def _backfill_files(framework_path, data_path, out_dir) -> None:
    from pipelines.analysis.trend_series import series_from_files

    if not (framework_path and data_path and out_dir):
        fail("file mode needs --framework, --data (a panel) and --out")
    try:
        series, versions = series_from_files(framework_path, data_path)
    except ValueError as exc:
        fail(str(exc))
    years = sorted(series["year"].unique().to_list())
    console.print(
        f"[bold]Backfill (files)[/] – {versions['framework_id'][0]} applied to every year "
        f"{years}: {series.height} rows"
    )
    write_tables(out_dir, {"backfill_scores": series, "framework_versions": versions})


COMMANDS = (trends_command, backfill_command)


def register(cli: click.Group) -> None:
    """Add the commands across years to ``dti``."""
    for command in COMMANDS:
        cli.add_command(command)
