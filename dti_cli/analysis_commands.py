"""``dti compare | uncertainty | coherence | trends | strengths | backfill`` (docs/analysis.md).

Each analysis runs against the warehouse (``--year Y --level L``, the preset's framework and
registry; read in one short read-only connection) or against files (``--framework FILE --data
FILE``: the project's YAML or a COINr iMeta, a long CSV or a COINr iData; ``--year`` picks a year
of a panel). ``--out DIR`` writes the result tables as CSV (the Monte Carlo's replications as
Parquet); ``--store`` writes them into the warehouse tables of the Dagster assets.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dti_cli.common import data_option, fail, framework_option, parse_years

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _source_options(func):
    """--preset/--year/--level (warehouse) or --framework/--data (files), --nominal, --out."""
    options = [
        click.option(
            "--preset",
            default=None,
            help="Preset of the warehouse (default: $DTI_PRESET or daklak).",
        ),
        click.option("--year", type=int, default=None, help="Year (warehouse; or a panel's Time)."),
        click.option("--level", default=None, help="Level of the warehouse (e.g. commune)."),
        framework_option(False, "Framework YAML or COINr iMeta CSV (file mode)."),
        data_option(False, "Long CSV or COINr iData CSV (file mode)."),
        click.option(
            "--nominal",
            default=None,
            help="Reference scenario SETTING|MISSING, e.g. 'minmax:observed|zero' "
            "(default: the preset's primary method; files: min-max, missing → 0).",
        ),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Folder for the result tables (CSV; replications as Parquet).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _store_option(func):
    return click.option(
        "--store", is_flag=True, help="Write the results into the warehouse (warehouse mode)."
    )(func)


def _nominal(text: str | None, base=None):
    from pipelines.analysis_input import parse_setting

    if not text:
        return base
    setting, _, missing = text.partition("|")
    spec = parse_setting(setting, base)
    return dataclasses.replace(spec, missing=missing or spec.missing)


def _input(preset, year, level, framework_path, data_path, nominal):
    """The AnalysisInput of the options (exits with a message when they do not fit)."""
    from pipelines.analysis_input import from_files, from_warehouse
    from pipelines.datafiles import DataFileError
    from pipelines.framework.load import FrameworkError

    try:
        if framework_path or data_path:
            if not (framework_path and data_path):
                fail("file mode needs both --framework and --data")
            return from_files(framework_path, data_path, year=year, nominal=_nominal(nominal))
        if year is None or level is None:
            fail("give --year and --level (warehouse) or --framework and --data (files)")
        from pipelines import paths

        if not paths.warehouse_path().exists():
            fail(f"no warehouse at {paths.warehouse_path()} – run `dti demo` or `dti run`")
        inp = from_warehouse(year, level, preset)
        if nominal:
            inp.nominal = _nominal(nominal, inp.nominal)
        return inp
    except (DataFileError, FrameworkError, ValueError, KeyError) as exc:
        fail(str(exc))


def _store(store: bool, inp, writer) -> None:
    if not store:
        return
    if not inp.source.startswith("warehouse"):
        fail("--store needs warehouse mode (--year --level)")
    from pipelines.warehouse import session

    with session() as con:
        writer(con)
    console.print("[green]stored in the warehouse[/]")


def _write(out_dir: Path | None, tables: dict) -> None:
    if out_dir is None:
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if name.endswith(".parquet"):
            frame.write_parquet(out_dir / name)
        elif name.endswith(".json"):
            (out_dir / name).write_text(
                json.dumps(frame, indent=2, ensure_ascii=False, default=str)
            )
        else:
            frame.write_csv(out_dir / f"{name}.csv")
    console.print(f"written: {out_dir} ({', '.join(tables)})")


def _table(frame, title: str, rows: int = 20, digits: int = 3) -> None:
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(column)
    for row in frame.head(rows).iter_rows():
        table.add_row(
            *[
                "–" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)
                for v in row
            ]
        )
    console.print(table)
    if frame.height > rows:
        console.print(f"  … {frame.height - rows} more rows")


def _header(inp, what: str) -> None:
    from pipelines.analysis_input import scenario_label

    where = inp.source.replace("warehouse:", "warehouse, preset ")
    console.print(
        f"[bold]{what}[/] – {inp.framework.id}, {inp.level}, {inp.year or 'no year'} "
        f"({inp.units.height} units, {len(inp.framework.leaves())} indicators; {where}); "
        f"nominal {scenario_label(inp.nominal)}"
    )


def _timed(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        func(*args, **kwargs)
        console.print(f"Thời gian: {time.perf_counter() - started:.2f}s")

    return wrapper


# ---------------------------------------------------------------- compare


@click.command("compare")
@_source_options
@click.option(
    "--settings",
    "settings_text",
    default="all",
    show_default=True,
    help="Method settings, comma-separated: points, minmax:observed, minmax:pooled, "
    "minmax:goalposts[@YEAR], zscore:cdf, zscore:rescaled; or all.",
)
@click.option(
    "--missing", "missing_text", default="all", show_default=True, help="zero,exclude,mean or all."
)
@click.option("--top", type=int, default=10, show_default=True, help="Largest moves shown.")
@_store_option
@_timed
def compare(
    preset,
    year,
    level,
    framework_path,
    data_path,
    nominal,
    out_dir,
    settings_text,
    missing_text,
    top,
    store,
) -> None:
    """Score with every method setting and missing rule; rank correlations, moves, classes."""
    from pipelines.analysis_input import ALL_SETTINGS, split_list
    from pipelines.compare import compare_methods, store_comparison
    from pipelines.scoring.methods import MISSING_RULES

    inp = _input(preset, year, level, framework_path, data_path, nominal)
    _header(inp, "So sánh phương pháp (method comparison)")
    try:
        result = compare_methods(
            inp,
            split_list(settings_text, ALL_SETTINGS, ALL_SETTINGS),
            split_list(missing_text, MISSING_RULES, MISSING_RULES),
        )
    except ValueError as exc:
        fail(str(exc))
    _table(
        result.versus_reference(),
        f"Against the reference {result.reference} (Spearman / Kendall τ-b over "
        "within-group ranks; '*' = size-weighted mean over groups)",
        rows=40,
    )
    moves = result.moves.select(
        "unit_id",
        "unit_name",
        "group_id",
        "reference_rank",
        "largest_shift",
        "scenario",
        "best_rank",
        "worst_rank",
    )
    _table(moves, f"Largest rank moves (top {top}; shift = reference rank − rank)", rows=top)
    changed = result.class_changes
    console.print(
        f"Class changes: {changed.height} (unit, scenario) pairs, "
        f"{changed['unit_id'].n_unique() if changed.height else 0} units"
    )
    _write(
        out_dir,
        {
            "comparison_scores": result.scores,
            "correlations": result.correlations,
            "moves": result.moves,
            "class_changes": result.class_changes,
            "rank_table": result.rank_table(),
        },
    )
    _store(store, inp, lambda con: store_comparison(con, result, inp.year, inp.level))


# ---------------------------------------------------------------- uncertainty


@click.command("uncertainty")
@_source_options
@click.option("--replications", type=int, default=1000, show_default=True)
@click.option("--noise", type=float, default=0.2, show_default=True, help="Weights × (1 ± noise).")
@click.option("--seed", type=int, default=2534, show_default=True)
@click.option(
    "--settings",
    "settings_text",
    default=None,
    help="Method settings sampled (default points,minmax:observed,zscore:cdf; or all).",
)
@click.option("--missing", "missing_text", default="all", show_default=True)
@click.option("--no-sensitivity", is_flag=True, help="Plain Monte Carlo, no Saltelli design.")
@click.option(
    "--replay",
    "replay_id",
    type=int,
    default=None,
    help="Recompute one replication from its saved parameters (with --run RUN_ID from the "
    "warehouse, or --from DIR written by --out).",
)
@click.option("--run", "run_id", default=None, help="Run id (warehouse) for --replay.")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder written by --out, for --replay.",
)
@_store_option
@_timed
def uncertainty(
    preset,
    year,
    level,
    framework_path,
    data_path,
    nominal,
    out_dir,
    replications,
    noise,
    seed,
    settings_text,
    missing_text,
    no_sensitivity,
    replay_id,
    run_id,
    from_dir,
    store,
) -> None:
    """Monte Carlo over method, weights and missing rule: rank intervals and sensitivity."""
    from pipelines.analysis_input import ALL_SETTINGS, DEFAULT_MC_SETTINGS, split_list
    from pipelines.scoring.methods import MISSING_RULES
    from pipelines.uncertainty import run_uncertainty, store_uncertainty

    if replay_id is not None:
        _replay(
            preset, year, level, framework_path, data_path, nominal, replay_id, run_id, from_dir
        )
        return
    inp = _input(preset, year, level, framework_path, data_path, nominal)
    _header(inp, "Độ bất định thứ hạng (rank uncertainty)")
    try:
        result = run_uncertainty(
            inp,
            split_list(settings_text, ALL_SETTINGS, DEFAULT_MC_SETTINGS),
            split_list(missing_text, MISSING_RULES, MISSING_RULES),
            replications,
            noise,
            seed,
            not no_sensitivity,
        )
    except ValueError as exc:
        fail(str(exc))
    seconds = result.seconds
    console.print(
        f"run {result.run_id}: {result.ranks.shape[1]} replications × {len(result.unit_ids)} "
        f"units, seed {seed}, noise ±{noise:.0%}; {seconds['total']:.2f}s "
        f"(engine {seconds['engine']:.2f}s, replications {seconds['replications']:.2f}s) → "
        f"[bold]{result.replications_per_second:,.0f} replications/s[/]"
    )
    units = result.units.sort(["interval_width", "nominal_rank"], descending=[True, False])
    _table(
        units.select(
            "unit_id",
            "unit_name",
            "group_id",
            "nominal_rank",
            "median_rank",
            "p05_rank",
            "p95_rank",
            "interval_width",
        ),
        "Widest 5–95 % rank intervals",
        rows=15,
        digits=1,
    )
    if result.sensitivity.height:
        import polars as pl

        _table(
            result.sensitivity.filter(pl.col("target") == "mean_abs_rank_shift").select(
                "factor", "first_order", "total"
            ),
            "Sensitivity of the mean absolute rank shift (first order S_i, total ST_i)",
        )
    _write(
        out_dir,
        {
            "rank_uncertainty": result.units,
            "sensitivity_indices": result.sensitivity,
            "replications.parquet": result.replications,
            "run.json": {
                "run_id": result.run_id,
                "source": inp.source,
                "year": inp.year,
                "level": inp.level,
                "params": result.params,
                "seconds": result.seconds,
            },
        },
    )
    _store(store, inp, lambda con: store_uncertainty(con, result, inp))


def _replay(preset, year, level, framework_path, data_path, nominal, replay_id, run_id, from_dir):
    import numpy as np
    import polars as pl

    from pipelines.uncertainty import load_replication, replay

    if from_dir is not None:
        run = json.loads((from_dir / "run.json").read_text())
        reps = pl.read_parquet(from_dir / "replications.parquet").filter(
            pl.col("replication_id") == replay_id
        )
        if reps.is_empty():
            fail(f"no replication {replay_id} in {from_dir}")
        replication = {**reps.row(0, named=True), "noisy_nodes": run["params"]["noisy_nodes"]}
        year = year if year is not None else run.get("year")
        level = level or run.get("level")
    elif run_id:
        try:
            run, replication = load_replication(run_id, replay_id)
        except KeyError as exc:
            fail(str(exc))
        year, level = run["year"], run["level"]
    else:
        fail("--replay needs --run RUN_ID (warehouse) or --from DIR")
    if run.get("source", "").startswith("warehouse") and preset is None:
        # the run names its preset by id; $DTI_PRESET (a path, say) takes precedence
        preset = os.environ.get("DTI_PRESET") or run["source"].split(":", 1)[1]
    inp = _input(preset, year, level, framework_path, data_path, nominal)
    replayed = replay(inp, replication)
    nominal_ranks = inp.totals(inp.nominal).select("unit_id", pl.col("rank").alias("nominal"))
    joined = replayed.join(nominal_ranks, on="unit_id")
    shift = float(np.mean(np.abs(joined["rank"].to_numpy() - joined["nominal"].to_numpy())))
    stored = replication["mean_abs_rank_shift"]
    same = abs(shift - stored) < 1e-12
    console.print(
        f"replication {replay_id} ({replication['block']}): {replication['setting']} | "
        f"{replication['missing']}, weights × [{min(replication['weight_multipliers']):.3f}, "
        f"{max(replication['weight_multipliers']):.3f}] → mean |rank − nominal| = {shift:.6f} "
        f"(stored {stored:.6f}: {'[green]identical[/]' if same else '[red]DIFFERENT[/]'})"
    )
    _table(joined.sort("rank"), f"Replication {replay_id}: points and ranks", rows=20)
    if not same:
        sys.exit(1)


# ---------------------------------------------------------------- coherence


@click.command("coherence")
@_source_options
@click.option("--winsorise", is_flag=True, help="Winsorise outlying indicators (recorded).")
@_store_option
@_timed
def coherence_command(
    preset, year, level, framework_path, data_path, nominal, out_dir, winsorise, store
) -> None:
    """Cronbach's alpha, correlations, negative/redundant pairs, skew/kurtosis outliers."""
    import polars as pl

    from pipelines.coherence import coherence, store_coherence

    inp = _input(preset, year, level, framework_path, data_path, nominal)
    _header(inp, "Tính nhất quán thống kê (statistical coherence)")
    result = coherence(inp, None, winsorise)
    _table(
        result.alpha.select("node_id", "node_name", "node_level", "n_children", "n_units", "alpha"),
        "Cronbach's alpha over each node's children (points)",
        rows=40,
    )
    _table(
        result.correlations.select(
            "node_id", "node_level", "parent_id", "r", "p_value", "significant", "negative"
        ).filter(pl.col("node_level") != "component"),
        "Correlation with the parent (Pearson; components: see --out)",
        rows=30,
    )
    _table(result.flags(), "Flags (negative r < 0, redundant r > 0.9, outliers, alpha < 0.7)", 40)
    if winsorise:
        _table(result.winsorised, "Winsorised values (recorded; scored only on purpose)", 40)
    tables = {
        "coherence_alpha": result.alpha,
        "coherence_parent": result.correlations,
        "coherence_pairs": result.pairs,
        "indicator_outliers": result.outliers,
        "winsorised_values": result.winsorised,
    }
    if winsorise and result.treated_values is not None:
        tables["treated_values"] = result.treated_values
    _write(out_dir, tables)
    _store(store, inp, lambda con: store_coherence(con, result, inp.year, inp.level))


# ---------------------------------------------------------------- strengths


@click.command("strengths")
@_source_options
@click.option("--unit", "unit_id", default=None, help="Show one unit only.")
@click.option("--top", type=int, default=3, show_default=True)
@click.option(
    "--node-level", default=None, help="Compare nodes of this level (default: the leaves)."
)
@_store_option
@_timed
def strengths(
    preset,
    year,
    level,
    framework_path,
    data_path,
    nominal,
    out_dir,
    unit_id,
    top,
    node_level,
    store,
) -> None:
    """Per unit, the components furthest above and below its group's mean."""
    import polars as pl

    from pipelines.analysis_input import scenario_label
    from pipelines.strengths import store_strengths, unit_strengths

    inp = _input(preset, year, level, framework_path, data_path, nominal)
    _header(inp, "Điểm mạnh, điểm yếu (strengths and weaknesses)")
    frame = unit_strengths(inp, top=top, node_level=node_level)
    shown = frame.filter(pl.col("unit_id") == unit_id) if unit_id else frame
    if unit_id and shown.is_empty():
        fail(f"no unit {unit_id} in {inp.level} {inp.year}")
    _table(
        shown.select(
            "unit_id",
            "kind",
            "position",
            "node_id",
            "node_name",
            "ratio",
            "group_mean_ratio",
            "difference",
        ),
        "ratio − group mean ratio",
        rows=60 if unit_id else 30,
    )
    _write(out_dir, {"unit_strengths": frame})
    _store(
        store,
        inp,
        lambda con: store_strengths(con, frame, inp.year, inp.level, scenario_label(inp.nominal)),
    )


# ---------------------------------------------------------------- trends


@click.command("trends")
@click.option("--preset", default=None, help="Preset of the warehouse.")
@click.option("--level", default=None, help="One level (default: all).")
@click.option("--method", default=None, help="Method (default: the preset's primary).")
@click.option(
    "--framework-hash",
    default=None,
    help="Only snapshots of this framework (e.g. written by dti backfill).",
)
@click.option("--unit", "unit_id", default=None, help="Show one unit's history.")
@framework_option(False, "File mode: framework (YAML / iMeta).")
@data_option(False, "File mode: a panel (COINr iData with Time, or long CSV with years).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@_store_option
@_timed
def trends_command(
    preset, level, method, framework_hash, unit_id, framework_path, data_path, out_dir, store
) -> None:
    """Year-over-year change of totals, pillars and ranks; CAGR; framework-change warnings."""
    import polars as pl

    from pipelines import trends as tr

    try:
        if framework_path or data_path:
            if not (framework_path and data_path):
                fail("file mode needs both --framework and --data")
            spec = _nominal(method) if method else None
            series, versions = tr.series_from_files(framework_path, data_path, spec)
            successors, lineage = None, None
        else:
            from pipelines import paths

            if not paths.warehouse_path().exists():
                fail(f"no warehouse at {paths.warehouse_path()}")
            series, versions, successors, lineage = tr.series_from_warehouse(
                method, [level] if level else None, framework_hash, preset=preset
            )
    except (ValueError, KeyError) as exc:
        fail(str(exc))
    if series.is_empty():
        fail("no snapshots match (method, level, framework hash)")
    result = tr.trends(series, versions, successors, lineage)
    years = sorted(series["year"].unique().to_list())
    console.print(
        f"[bold]Xu hướng (trends)[/] – years {years}, levels "
        f"{sorted(series['level'].unique().to_list())}"
    )
    for message in result.warnings["message"].to_list():
        console.print(f"[yellow]warning:[/] {message}")
    totals = result.changes.filter(pl.col("node_level") == "index")
    if unit_id:
        _table(
            result.changes.filter(pl.col("unit_id") == unit_id).select(
                "level",
                "year_from",
                "year_to",
                "node_id",
                "ratio_before",
                "ratio",
                "ratio_change",
                "rank_before",
                "rank",
                "rank_change",
                "framework_changed",
                "via_lineage",
            ),
            f"{unit_id}: year over year",
            rows=100,
        )
    else:
        last = totals.filter(pl.col("year_to") == totals["year_to"].max())
        columns = [
            "level",
            "group_id",
            "unit_id",
            "ratio_before",
            "ratio",
            "ratio_change",
            "rank_before",
            "rank",
            "rank_change",
        ]
        _table(
            last.sort("ratio_change", descending=True, nulls_last=True).select(columns),
            "Largest rises of the total (last pair of years)",
            rows=10,
        )
        _table(
            last.sort("ratio_change", nulls_last=True).select(columns),
            "Largest falls of the total",
            rows=10,
        )
        growth = result.growth.filter(pl.col("node_level") == "index").sort(
            "cagr", descending=True, nulls_last=True
        )
        _table(
            growth.select(
                "level",
                "unit_id",
                "first_year",
                "last_year",
                "first_ratio",
                "last_ratio",
                "cagr",
                "framework_changed",
                "via_lineage",
            ),
            "Compound annual growth of the total ratio",
            rows=10,
        )
    _write(
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
        from pipelines.analysis_input import default_preset
        from pipelines.preset import load_preset
        from pipelines.warehouse import session

        loaded = load_preset(preset or default_preset())
        with session() as con:
            tr.store_trends(con, result, int(max(years)), method or loaded.primary_method)
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
@_timed
def backfill_command(
    preset, framework_levels, all_years, years_spec, framework_path, data_path, out_dir
) -> None:
    """Recompute years with one framework: NEW snapshot versions, published ones untouched."""
    if framework_path or data_path:
        _backfill_files(framework_path, data_path, out_dir)
        return
    from pipelines import paths
    from pipelines.analysis_input import default_preset
    from pipelines.backfill import backfill, frameworks_from_spec, records_frame
    from pipelines.datafiles import DataFileError
    from pipelines.framework.load import FrameworkError
    from pipelines.preset import load_preset
    from pipelines.warehouse import session

    if not framework_levels:
        fail("give --framework-level LEVEL=FILE (repeatable)")
    if not all_years and not years_spec:
        fail("give --all-years or --years")
    if not paths.warehouse_path().exists():
        fail(f"no warehouse at {paths.warehouse_path()}")
    loaded = load_preset(preset or default_preset())
    spec: dict[str, str | None] = {}
    for item in framework_levels:
        level, _, path = item.partition("=")
        spec[level] = path or None
    years = None if all_years else parse_years(years_spec)
    try:
        frameworks = frameworks_from_spec(loaded, spec)  # type: ignore[arg-type]
        with session() as con:
            records = backfill(con, loaded, frameworks, years)
    except (DataFileError, FrameworkError, ValueError, OSError) as exc:
        fail(str(exc))
    frame = records_frame(records)
    console.print(
        f"[bold]Backfill[/] – {len(records)} snapshots: {sum(r.created for r in records)} new, "
        f"{sum(not r.created for r in records)} already existed (left untouched; "
        f"{sum(r.published for r in records)} of them published)"
    )
    if frame.height:
        _table(
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
    _write(out_dir, {"backfill_runs": frame})


def _backfill_files(framework_path, data_path, out_dir) -> None:
    from pipelines.trends import series_from_files

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
    _write(out_dir, {"backfill_scores": series, "framework_versions": versions})


COMMANDS = (compare, uncertainty, coherence_command, strengths, trends_command, backfill_command)


def register(cli: click.Group) -> None:
    """Add the analysis commands to ``dti``."""
    for command in COMMANDS:
        cli.add_command(command)
