"""The uncertainty analysis in the warehouse: a run stored, every level of a year run and stored,
a stored replication loaded back for :func:`pipelines.analysis.uncertainty.replay`."""

from __future__ import annotations

import json

import polars as pl

from pipelines.analysis.inputs import DEFAULT_MC_SETTINGS, AnalysisInput
from pipelines.analysis.uncertainty import UncertaintyResult, run_uncertainty
from pipelines.scoring.choices import MISSING_RULES


def store_uncertainty(con, result: UncertaintyResult, inp: AnalysisInput) -> int:
    """Write the run (``uncertainty_runs``), its replications, the per-unit rank statistics
    (``rank_uncertainty``, which the report reads: the year and level's latest run) and the
    sensitivity indices."""
    import datetime as dt

    from pipelines.store.warehouse import insert_frame, replace_rows, transaction

    run = pl.DataFrame(
        [
            {
                "run_id": result.run_id,
                "year": inp.year,
                "level": inp.level,
                "source": inp.source,
                "seed": result.params["seed"],
                "noise": result.params["noise"],
                "n_replications": result.params["replications"],
                "params_json": json.dumps(result.params, sort_keys=True),
                "nominal": result.params["nominal"],
                "seconds": result.seconds["total"],
                "replications_per_second": result.replications_per_second,
                "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            }
        ]
    )
    tagged = {"run_id": result.run_id}
    with transaction(con):
        con.execute("DELETE FROM uncertainty_runs WHERE run_id = ?", [result.run_id])
        insert_frame(con, "uncertainty_runs", run)
    replace_rows(
        con,
        "uncertainty_replications",
        result.replications.with_columns(pl.lit(result.run_id).alias("run_id")),
        tagged,
    )
    replace_rows(
        con,
        "sensitivity_indices",
        result.sensitivity.with_columns(
            pl.lit(result.run_id).alias("run_id"),
            pl.lit(inp.year, dtype=pl.Int32).alias("year"),
            pl.lit(inp.level).alias("level"),
        ),
        tagged,
    )
    return replace_rows(
        con,
        "rank_uncertainty",
        result.units.with_columns(
            pl.lit(inp.year, dtype=pl.Int32).alias("year"),
            pl.lit(inp.level).alias("level"),
            pl.lit(result.run_id).alias("run_id"),
        ),
        {"year": inp.year, "level": inp.level},
    )


def uncertainty_year(
    con,
    preset,
    year: int,
    replications: int = 1000,
    noise: float = 0.2,
    seed: int = 2534,
    settings: tuple[str, ...] = DEFAULT_MC_SETTINGS,
    missing_rules: tuple[str, ...] = MISSING_RULES,
) -> dict[str, dict]:
    """Every level of the preset in ``year``: run, store; a summary per level."""
    from pipelines.analysis.inputs import levels_with_data, load_input

    summary = {}
    for level in levels_with_data(con, preset, year):
        inp = load_input(con, preset, year, level)
        result = run_uncertainty(inp, settings, missing_rules, replications, noise, seed)
        store_uncertainty(con, result, inp)
        overall = result.sensitivity.filter(pl.col("target") == "mean_abs_rank_shift")
        summary[level] = {
            "run_id": result.run_id,
            "replications": result.ranks.shape[1],
            "replications_per_second": round(result.replications_per_second),
            "widest_interval": float(result.units["interval_width"].max() or 0),
            "total_index": {r["factor"]: r["total"] for r in overall.iter_rows(named=True)},
        }
    return summary


def load_replication(run_id: str, replication_id: int, warehouse=None) -> tuple[dict, dict]:
    """``(run, replication)`` as stored: the run's row (with ``params``) and the replication's
    sampled parameters, ready for :func:`replay`."""
    from pipelines.store.warehouse import session

    with session(warehouse, read_only=True) as con:
        run = con.execute("SELECT * FROM uncertainty_runs WHERE run_id = ?", [run_id]).pl()
        rep = con.execute(
            "SELECT * FROM uncertainty_replications WHERE run_id = ? AND replication_id = ?",
            [run_id, replication_id],
        ).pl()
    if run.is_empty() or rep.is_empty():
        raise KeyError(f"no replication {replication_id} of run {run_id}")
    row = run.row(0, named=True)
    params = json.loads(row["params_json"])
    replication = {**rep.row(0, named=True), "noisy_nodes": params["noisy_nodes"]}
    return {**row, "params": params}, replication
