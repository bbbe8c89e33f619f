"""``dti compare | uncertainty | coherence | strengths`` (docs/analysis.md): one year's analyses,
on the warehouse or on files (:mod:`dti_cli.analysis_options`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from dti_cli.analysis_options import (
    analysis_input,
    console,
    print_header,
    print_table,
    source_options,
    store_option,
    store_results,
    timed,
    write_tables,
)
from dti_cli.common import fail

# ---------------------------------------------------------------- compare


@click.command("compare")
@source_options
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
@store_option
@timed
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
    inp = analysis_input(preset, year, level, framework_path, data_path, nominal)

    from pipelines.analysis.compare import compare_methods, store_comparison
    from pipelines.analysis.inputs import ALL_SETTINGS, split_list
    from pipelines.scoring.choices import MISSING_RULES

    print_header(inp, "Method comparison")
    try:
        result = compare_methods(
            inp,
            split_list(settings_text, ALL_SETTINGS, ALL_SETTINGS),
            split_list(missing_text, MISSING_RULES, MISSING_RULES),
        )
    except ValueError as exc:
        fail(str(exc))
    print_table(
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
    print_table(moves, f"Largest rank moves (top {top}; shift = reference rank − rank)", rows=top)
    changed = result.class_changes
    console.print(
        f"Class changes: {changed.height} (unit, scenario) pairs, "
        f"{changed['unit_id'].n_unique() if changed.height else 0} units"
    )
    write_tables(
        out_dir,
        {
            "comparison_scores": result.scores,
            "correlations": result.correlations,
            "moves": result.moves,
            "class_changes": result.class_changes,
            "rank_table": result.rank_table(),
        },
    )
    store_results(store, inp, lambda con: store_comparison(con, result, inp.year, inp.level))


# ---------------------------------------------------------------- uncertainty


@click.command("uncertainty")
@source_options
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
    "--noise-levels",
    "noise_levels_text",
    default=None,
    help="Weight noise only on these levels (COINr's Level: 1 = indicators, 2 = pillars …) "
    "and/or node ids, comma-separated, e.g. 2,3 (default: every node below the index).",
)
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
    "--parameters",
    "parameters_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Score the runs of a parameters table (CSV or Parquet: run, setting, missing, "
    "[weight_kind,] one weight column per node), e.g. the parameters.csv of --out.",
)
@click.option(
    "--weight-kind",
    type=click.Choice(["multiplier", "absolute"]),
    default="multiplier",
    show_default=True,
    help="How --parameters' weights read where the table has no weight_kind column.",
)
@click.option(
    "--weights-sets",
    "weight_sets_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Named alternative weights (CSV set_name,node_id,weight): ranks and rank shifts "
    "against the nominal weights.",
)
@click.option(
    "--from",
    "from_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder written by --out, for --replay.",
)
@store_option
@timed
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
    noise_levels_text,
    replay_id,
    run_id,
    parameters_path,
    weight_kind,
    weight_sets_path,
    from_dir,
    store,
) -> None:
    """Monte Carlo over method, weights and missing rule: rank intervals and sensitivity."""
    if replay_id is not None:
        _replay(
            preset, year, level, framework_path, data_path, nominal, replay_id, run_id, from_dir
        )
        return
    inp = analysis_input(preset, year, level, framework_path, data_path, nominal)
    if parameters_path is not None:
        _replay_parameters(inp, parameters_path, weight_kind, out_dir)
        return
    if weight_sets_path is not None:
        _weight_sets(inp, weight_sets_path, out_dir)
        return

    from pipelines.analysis.inputs import ALL_SETTINGS, DEFAULT_MC_SETTINGS, split_list
    from pipelines.analysis.uncertainty import run_uncertainty
    from pipelines.analysis.uncertainty_store import store_uncertainty
    from pipelines.scoring.choices import MISSING_RULES

    print_header(inp, "Rank uncertainty")
    try:
        result = run_uncertainty(
            inp,
            split_list(settings_text, ALL_SETTINGS, DEFAULT_MC_SETTINGS),
            split_list(missing_text, MISSING_RULES, MISSING_RULES),
            replications,
            noise,
            seed,
            not no_sensitivity,
            [part.strip() for part in noise_levels_text.split(",")] if noise_levels_text else None,
        )
    except ValueError as exc:
        fail(str(exc))
    seconds = result.seconds
    noisy = result.params["noisy_nodes"]
    on = f"levels/nodes {noise_levels_text}" if noise_levels_text else "every node below the index"
    console.print(
        f"run {result.run_id}: {result.ranks.shape[1]} replications × {len(result.unit_ids)} "
        f"units, seed {seed}, noise ±{noise:.0%} on {on} ({len(noisy)} weights); "
        f"{seconds['total']:.2f}s "
        f"(engine {seconds['engine']:.2f}s, replications {seconds['replications']:.2f}s) → "
        f"[bold]{result.replications_per_second:,.0f} replications/s[/]"
    )
    print_widest_intervals(result.units, "Widest 5–95 % rank intervals")
    if result.sensitivity.height:
        import polars as pl

        print_table(
            result.sensitivity.filter(pl.col("target") == "mean_abs_rank_shift").select(
                "factor", "first_order", "total"
            ),
            "Sensitivity of the mean absolute rank shift (first order S_i, total ST_i)",
        )
    from pipelines.analysis.parameters_table import parameters_of_run

    write_tables(
        out_dir,
        {
            "rank_uncertainty": result.units,
            "sensitivity_indices": result.sensitivity,
            "replications.parquet": result.replications,
            "parameters": parameters_of_run(result, inp.framework).frame(),
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
    store_results(store, inp, lambda con: store_uncertainty(con, result, inp))


def _replay(preset, year, level, framework_path, data_path, nominal, replay_id, run_id, from_dir):
    import numpy as np
    import polars as pl

    from pipelines.analysis.uncertainty import replay
    from pipelines.analysis.uncertainty_store import load_replication

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
    inp = analysis_input(preset, year, level, framework_path, data_path, nominal)
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
    print_table(joined.sort("rank"), f"Replication {replay_id}: points and ranks", rows=20)
    if not same:
        sys.exit(1)


def _replay_parameters(inp, path: Path, weight_kind: str, out_dir: Path | None) -> None:
    """``--parameters``: every run of the table scored; rank statistics; tables with --out."""
    from pipelines.analysis.parameters_table import read_parameters
    from pipelines.analysis.replay import replay_parameters

    try:
        parameters = read_parameters(path, inp.framework, weight_kind)
        result = replay_parameters(inp, parameters)
    except ValueError as exc:
        fail(str(exc))
    print_header(inp, "Replay of given parameters")
    combos = sorted(set(zip(parameters.settings, parameters.missing, strict=True)))
    console.print(
        f"{len(parameters.runs)} runs from {path.name} × {len(result.unit_ids)} units, "
        f"{len(combos)} (setting, missing rule) combinations, weights of "
        f"{len(parameters.node_ids)} nodes"
    )
    print_widest_intervals(result.units, "Widest 5–95 % rank intervals over the runs given")
    write_tables(
        out_dir,
        {
            "replay_scores.parquet": result.scores,
            "rank_uncertainty": result.units,
            "parameters": parameters.frame(),
        },
    )


def _weight_sets(inp, path: Path, out_dir: Path | None) -> None:
    """``--weights-sets``: each named set's ranks and rank shifts against the nominal weights."""
    import polars as pl

    from pipelines.analysis.weight_sets import compare_weight_sets, read_weight_sets

    try:
        sets = read_weight_sets(path, inp.framework)
        long, wide = compare_weight_sets(inp, sets)
    except ValueError as exc:
        fail(str(exc))
    print_header(inp, "So sánh bộ trọng số (weight sets)")
    summary = long.group_by("set_name", maintain_order=True).agg(
        pl.col("unit_id").len().alias("units"),
        pl.col("rank_shift").abs().mean().alias("mean_abs_shift"),
        pl.col("rank_shift").abs().max().alias("max_abs_shift"),
        (pl.col("rank_shift") != 0).sum().alias("units_moved"),
        pl.col("rank_shift").max().alias("largest_climb"),
        pl.col("rank_shift").min().alias("largest_fall"),
    )
    print_table(summary, "Per set: rank shift = nominal rank − rank (positive = climbs)", rows=40)
    print_table(wide, "Ranks per set and shifts against the nominal weights", rows=60)
    write_tables(out_dir, {"weight_sets": long, "weight_sets_wide": wide})


# ---------------------------------------------------------------- coherence


@click.command("coherence")
@source_options
@click.option("--winsorise", is_flag=True, help="Winsorise outlying indicators (recorded).")
@click.option(
    "--alpha",
    "alpha_method",
    type=click.Choice(["pairwise", "listwise"]),
    default="pairwise",
    show_default=True,
    help="Cronbach's alpha with gaps: pairwise-complete covariances (COINr's default) or "
    "complete units only.",
)
@store_option
@timed
def coherence_command(
    preset, year, level, framework_path, data_path, nominal, out_dir, winsorise, alpha_method, store
) -> None:
    """Cronbach's alpha, correlations, negative/redundant pairs, skew/kurtosis outliers."""
    inp = analysis_input(preset, year, level, framework_path, data_path, nominal)

    import polars as pl

    from pipelines.analysis.coherence import coherence
    from pipelines.analysis.coherence_store import store_coherence

    print_header(inp, "Statistical coherence")
    result = coherence(inp, None, winsorise, alpha_method=alpha_method)
    how = (
        "pairwise: each (co)variance over the units with both children present; "
        "min/max_pair_units = units per pair"
        if alpha_method == "pairwise"
        else "listwise: units with every child present (n_units)"
    )
    print_table(
        result.alpha.select(
            "node_id",
            "node_name",
            "node_level",
            "n_children",
            "n_units",
            "min_pair_units",
            "max_pair_units",
            "alpha",
        ),
        f"Cronbach's alpha over each node's children (points) — {how}",
        rows=40,
    )
    print_table(
        result.correlations.select(
            "node_id", "node_level", "parent_id", "r", "p_value", "significant", "negative"
        ).filter(pl.col("node_level") != "component"),
        "Correlation with the parent (Pearson; components: see --out)",
        rows=30,
    )
    print_table(
        result.flags(), "Flags (negative r < 0, redundant r > 0.9, outliers, alpha < 0.7)", 40
    )
    if winsorise:
        print_table(result.winsorised, "Winsorised values (recorded; scored only on purpose)", 40)
    tables = {
        "coherence_alpha": result.alpha,
        "coherence_parent": result.correlations,
        "coherence_pairs": result.pairs,
        "indicator_outliers": result.outliers,
        "winsorised_values": result.winsorised,
    }
    if winsorise and result.treated_values is not None:
        tables["treated_values"] = result.treated_values
    write_tables(out_dir, tables)
    store_results(store, inp, lambda con: store_coherence(con, result, inp.year, inp.level))


# ---------------------------------------------------------------- strengths


@click.command("strengths")
@source_options
@click.option("--unit", "unit_id", default=None, help="Show one unit only.")
@click.option("--top", type=int, default=3, show_default=True)
@click.option(
    "--node-level", default=None, help="Compare nodes of this level (default: the leaves)."
)
@store_option
@timed
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
    inp = analysis_input(preset, year, level, framework_path, data_path, nominal)

    import polars as pl

    from pipelines.analysis.inputs import scenario_label
    from pipelines.analysis.strengths import store_strengths, unit_strengths

    kinds = list(dict.fromkeys(node.type for node in inp.framework.nodes.values()))
    if node_level is not None and node_level not in kinds:
        fail(
            f"--node-level {node_level!r} is not a node level of {inp.framework.id}; "
            f"valid: {', '.join(kinds)}"
        )
    print_header(inp, "Strengths and weaknesses")
    frame = unit_strengths(inp, top=top, node_level=node_level)
    shown = frame.filter(pl.col("unit_id") == unit_id) if unit_id else frame
    if unit_id and shown.is_empty():
        fail(f"no unit {unit_id} in {inp.level} {inp.year}")
    print_table(
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
    write_tables(out_dir, {"unit_strengths": frame})
    store_results(
        store,
        inp,
        lambda con: store_strengths(con, frame, inp.year, inp.level, scenario_label(inp.nominal)),
    )


COMMANDS = (compare, uncertainty, coherence_command, strengths)


def register(cli: click.Group) -> None:
    """Add the analysis commands to ``dti``."""
    for command in COMMANDS:
        cli.add_command(command)


def print_widest_intervals(units, title: str) -> None:
    """The 15 units whose 5–95 % rank interval is widest (nominal rank breaks ties)."""
    widest = units.sort(["interval_width", "nominal_rank"], descending=[True, False])
    print_table(
        widest.select(
            "unit_id",
            "unit_name",
            "group_id",
            "nominal_rank",
            "median_rank",
            "p05_rank",
            "p95_rank",
            "interval_width",
        ),
        title,
        rows=15,
        digits=1,
    )
