"""A parameters table's runs (:mod:`pipelines.analysis.parameters_table`) scored through the
uncertainty model.

Each run is scored exactly as an uncertainty replication is
(:mod:`pipelines.analysis.uncertainty_model`: the engine's leaf points per (setting, rule), weights
applied
top-down keeping each parent's maximum), so an uncertainty run written with ``--out`` replays to
identical ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.analysis.inputs import AnalysisInput
from pipelines.analysis.parameters_table import Parameters
from pipelines.analysis.uncertainty import nominal_ranks, set_noisy_nodes, unit_rank_stats
from pipelines.analysis.uncertainty_model import build_model


@dataclass
class ReplayResult:
    """Every run's points and rank at every node, the ranked total's ranks (units × runs) and
    the per-unit rank statistics (:func:`pipelines.analysis.uncertainty.unit_rank_stats`)."""

    parameters: Parameters
    unit_ids: list[str]
    totals: np.ndarray  # units × runs (the ranked total)
    ranks: np.ndarray  # units × runs
    scores: pl.DataFrame  # run, unit_id, node_id, points, rank, excluded
    units: pl.DataFrame  # nominal, median, p05, p95 … rank


def replay_parameters(inp: AnalysisInput, parameters: Parameters) -> ReplayResult:
    """Score every run of ``parameters`` (one engine call per distinct (setting, rule), then the
    uncertainty model's arithmetic, as :func:`pipelines.analysis.uncertainty.evaluate`)."""
    resolved = list(inp.resolve_settings(tuple(parameters.settings)))
    combos = sorted(set(zip(resolved, parameters.missing, strict=True)))
    settings = tuple(dict.fromkeys(s for s, _ in combos))
    rules = tuple(dict.fromkeys(m for _, m in combos))
    model = build_model(inp, settings, rules)
    set_noisy_nodes(model, parameters.node_ids)
    rel = model.relative_max(parameters.multipliers)
    n_runs = len(parameters.runs)
    totals = np.empty((len(model.unit_ids), n_runs))
    node_points = np.empty((len(model.unit_ids), n_runs, len(model.node_ids)))
    node_excluded = np.zeros((len(model.unit_ids), n_runs, len(model.node_ids)), dtype=bool)
    for setting, missing in combos:
        chosen = np.flatnonzero(
            (np.array(resolved) == setting) & (np.array(parameters.missing) == missing)
        )
        points, excluded = model.node_points(model.combos[(setting, missing)], rel[chosen])
        totals[:, chosen] = points[:, :, model.target]
        node_points[:, chosen, :] = points[:, :, : len(model.node_ids)]
        node_excluded[:, chosen, :] = excluded[:, None, : len(model.node_ids)]
    ranks = model.ranks(totals)
    target = inp.target_id
    n_units = len(model.unit_ids)
    keys = pl.DataFrame(
        {
            "run": pl.Series(parameters.runs, dtype=pl.String).gather(
                np.tile(np.arange(n_runs), n_units)
            ),
            "unit_id": pl.Series(model.unit_ids, dtype=pl.String).gather(
                np.repeat(np.arange(n_units), n_runs)
            ),
        }
    )
    frames = []
    for k, node_id in enumerate(model.node_ids):
        points = totals if node_id == target else node_points[:, :, k]
        node_ranks = ranks if node_id == target else model.ranks(points, model.nominal_max[k])
        frames.append(_long(keys, node_id, points, node_ranks, node_excluded[:, :, k]))
    if target not in model.node_ids:  # a composite (national 1726)
        none = np.zeros_like(totals, dtype=bool)
        frames.append(_long(keys, target, totals, ranks, none))
    nominal_vec = nominal_ranks(inp, model.unit_ids)
    return ReplayResult(
        parameters=parameters,
        unit_ids=model.unit_ids,
        totals=totals,
        ranks=ranks,
        scores=pl.concat(frames),
        units=unit_rank_stats(model, ranks, nominal_vec, inp.names),
    )


def _long(keys: pl.DataFrame, node_id: str, points, ranks, excluded) -> pl.DataFrame:
    """One node's rows: ``keys`` (run, unit_id; unit-major) with its points, ranks, exclusion."""
    return keys.with_columns(
        pl.lit(node_id, dtype=pl.String).alias("node_id"),
        pl.Series("points", points.reshape(-1), dtype=pl.Float64),
        pl.Series("rank", ranks.reshape(-1).astype(np.int32), dtype=pl.Int32),
        pl.Series("excluded", excluded.reshape(-1), dtype=pl.Boolean),
    )
