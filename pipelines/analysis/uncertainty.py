"""Rank uncertainty and sensitivity: Monte Carlo over the method, the weights and the missing rule.

Each *replication* draws three things:

* the **method setting** — one of the settings analysed (default ``points``, ``minmax:observed``,
  ``zscore:cdf``), uniformly;
* the **missing-data rule** — ``zero``, ``exclude`` or ``mean``, uniformly;
* the **weights** — every node's weight (its maximum points) times ``1 + ε``, ε uniform in
  ``[−noise, +noise]`` (COINr's ``get_noisy_weights``), then renormalised so that siblings keep
  their parent's maximum: ``max'(c) = max'(p) × Σ_s max(s) / max(p) × max(c)(1+ε_c) /
  Σ_s max(s)(1+ε_s)``. The index keeps its scale. By default **every node below the index**,
  indicators included, gets noise; ``noise_levels`` restricts it to chosen levels — numbered as
  COINr's iMeta ``Level``: 1 = indicators (the leaves), 1 + the highest child level above —
  and/or named nodes, as COINr's ``noise_specs`` does (e.g. levels 2 and 3: pillars and
  sub-indices vary, every indicator keeps its weight within its pillar). The noisy nodes are
  recorded in ``params["noisy_nodes"]``.

and yields every unit's total and its rank within its comparison group, ranked as the engine
ranks (:mod:`pipelines.scoring.rank`: descending, ties share the lowest rank, totals compared
by their tie key at the preset's declared precision).

**Many replications at once.** The engine's leaf stage runs once per (method setting, missing
rule); the replications are then evaluated a chunk at a time by the engine's own aggregation
(:mod:`pipelines.analysis.uncertainty_model`, which says how and what it approximates); at the
nominal weights it reproduces the engine (``tests/test_uncertainty.py``).

**Design and sensitivity.** Saltelli's design (A, B and AB_i blocks) with ``sensitivity``
(default), independent draws without; first-order and total indices of each factor for the mean
absolute rank shift and for each unit's rank (:mod:`pipelines.analysis.sensitivity`, COINr's
``SA_sample``
and ``SA_estimate``). The rank statistics (median, 5th and 95th percentile — linear
interpolation, R's type 7 — mean, min, max) use every replication.

**Reproducible.** A seed fixes every draw (numpy ``default_rng``); each replication's sampled
parameters (block, setting, rule, the weight multiplier of every noisy node) are kept in
``UncertaintyResult.replications`` (stored in the warehouse by
:mod:`pipelines.analysis.uncertainty_store` and written to Parquet), and
:func:`replay` recomputes any replication from them alone. ``dti uncertainty --out`` also writes
them as a parameters table (``parameters.csv``), which :mod:`pipelines.analysis.replay` scores back
to the
same ranks — or scores a table of runs made elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.analysis.inputs import (
    DEFAULT_MC_SETTINGS,
    AnalysisInput,
    check_missing_rules,
    scenario_label,
    setting_label,
)
from pipelines.analysis.sensitivity import Design, saltelli_indices, sample_design
from pipelines.analysis.uncertainty_model import FastModel, build_model
from pipelines.framework.coinr import _heights as coinr_levels
from pipelines.framework.model import Framework
from pipelines.scoring.choices import MISSING_RULES


def noisy_node_ids(framework: Framework, noise_levels: list[str] | None = None) -> list[str]:
    """The nodes whose weight gets noise, in framework order: every node below the index when
    ``noise_levels`` is empty, else the nodes of the levels given as whole numbers (COINr's
    ``Level``: 1 = indicators) and the nodes given by id. A level outside 1 … top − 1, the
    index itself or an unknown id is refused."""
    below = [n.id for n in framework.nodes.values() if n.parent_id is not None]
    if not noise_levels:
        return below
    level = coinr_levels(framework)
    top = max(level.values())
    chosen: set[str] = set()
    for item in noise_levels:
        text = str(item).strip()
        if text.isdigit():
            number = int(text)
            if not 1 <= number < top:
                raise ValueError(
                    f"noise level {number}: levels with weights are 1 (indicators) to {top - 1}; "
                    f"{top} is the index"
                )
            chosen.update(n for n in below if level[n] == number)
        elif text in framework.nodes and framework.nodes[text].parent_id is None:
            raise ValueError(f"noise node {text}: the index has no weight to vary")
        elif text in framework.nodes:
            chosen.add(text)
        else:
            raise ValueError(
                f"noise level or node {text!r}: neither a level 1–{top - 1} nor a node of "
                f"framework {framework.id}"
            )
    return [n for n in below if n in chosen]


def set_noisy_nodes(model: FastModel, noisy: list[str]) -> None:
    """Let only ``noisy`` (node ids, below the root) take weight multipliers, in that order."""
    position = {node_id: i for i, node_id in enumerate(model.node_ids)}
    if len(set(noisy)) != len(noisy) or any(
        n not in position or model.parent[position[n]] < 0 for n in noisy
    ):
        raise ValueError("the framework's nodes differ from those of the run being replayed")
    model.noisy = np.array([position[n] for n in noisy], dtype=np.int64)


def evaluate(model: FastModel, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Totals and ranks of every unit in every replication (units × replications)."""
    rel = model.relative_max(design.multipliers)
    totals = np.empty((len(model.unit_ids), design.size))
    for s, setting in enumerate(design.settings):
        for m, missing in enumerate(design.missing_rules):
            chosen = np.flatnonzero((design.setting_index == s) & (design.missing_index == m))
            if chosen.size:
                totals[:, chosen] = model.totals((setting, missing), rel[chosen])
    return totals, model.ranks(totals)


# ---------------------------------------------------------------- the analysis


@dataclass
class UncertaintyResult:
    run_id: str
    params: dict
    units: pl.DataFrame  # per unit: nominal, median, p05, p95 … rank
    sensitivity: pl.DataFrame  # target, factor, first_order, total, variance
    replications: pl.DataFrame  # the sampled parameters of every replication
    totals: np.ndarray  # units × replications
    ranks: np.ndarray  # units × replications
    unit_ids: list[str]
    seconds: dict[str, float]

    @property
    def replications_per_second(self) -> float:
        return self.ranks.shape[1] / max(self.seconds["total"], 1e-9)

    def replication(self, replication_id: int) -> dict:
        """The sampled parameters of one replication (what :func:`replay` needs)."""
        row = self.replications.filter(pl.col("replication_id") == replication_id).row(
            0, named=True
        )
        return {**row, "noisy_nodes": self.params["noisy_nodes"]}

    def ranks_of(self, replication_id: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "unit_id": self.unit_ids,
                "points": self.totals[:, replication_id],
                "rank": self.ranks[:, replication_id],
            }
        )


def run_id_of(inp: AnalysisInput, params: dict) -> str:
    """Hash of the source, year, level, framework, the values and units analysed and the
    parameters: the same run on other data gets another id."""

    def content(frame: pl.DataFrame, keys: list[str]) -> str:
        columns = frame.sort(keys).to_dict(as_series=False)
        return hashlib.sha256(json.dumps(columns, default=str).encode()).hexdigest()

    identity = {
        "source": inp.source,
        "year": inp.year,
        "level": inp.level,
        "framework": inp.framework.content_hash(),
        "values": content(inp.values.select("unit_id", "node_id", "value"), ["unit_id", "node_id"]),
        "units": content(inp.units.select("unit_id", "group_id"), ["unit_id"]),
        "params": params,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def run_uncertainty(
    inp: AnalysisInput,
    settings: tuple[str, ...] = DEFAULT_MC_SETTINGS,
    missing_rules: tuple[str, ...] = MISSING_RULES,
    replications: int = 1000,
    noise: float = 0.2,
    seed: int = 2534,
    sensitivity: bool = True,
    noise_levels: list[str] | None = None,
) -> UncertaintyResult:
    """The Monte Carlo (module docstring): rank statistics per unit and sensitivity indices;
    weight noise on the nodes of ``noise_levels`` (levels and/or node ids; default: every node
    below the index)."""
    check_missing_rules(missing_rules)
    noisy_nodes = noisy_node_ids(inp.framework, noise_levels)
    started = time.perf_counter()
    settings = inp.resolve_settings(settings)
    model = build_model(inp, settings, missing_rules)
    set_noisy_nodes(model, noisy_nodes)
    built = time.perf_counter()
    design = sample_design(
        settings, missing_rules, len(model.noisy), noise, replications, seed, sensitivity
    )
    totals, ranks = evaluate(model, design)
    evaluated = time.perf_counter()
    nominal_vec = nominal_ranks(inp, model.unit_ids)
    params = {
        "settings": list(settings),
        "missing_rules": list(missing_rules),
        "noise": noise,
        "seed": seed,
        "replications_requested": replications,
        "replications": design.size,
        "sensitivity": bool(sensitivity and design.factors),
        "factors": list(design.factors),
        "n_base": design.n_base,
        "nominal": scenario_label(inp.nominal),
        "noise_levels": [str(x).strip() for x in noise_levels] if noise_levels else None,
        "noisy_nodes": [model.node_ids[i] for i in model.noisy],
        "estimator": "Saltelli 2010 (first order), Jansen 1999 (total); y = mean |rank − nominal|",
        "percentiles": "linear interpolation (R type 7)",
    }
    run_id = run_id_of(
        inp,
        {
            k: v
            for k, v in params.items()
            if k != "noisy_nodes" and not (k == "noise_levels" and v is None)
        },
    )
    units = unit_rank_stats(model, ranks, nominal_vec, inp.names)
    shift = np.mean(np.abs(ranks - nominal_vec[:, None]), axis=0)  # per replication
    targets = ["mean_abs_rank_shift", *model.unit_ids]
    sens_rows = []
    if params["sensitivity"]:
        y = np.column_stack([shift, ranks.T.astype(float)])
        for row in saltelli_indices(y, design.blocks, design.factors):
            sens_rows.append({"target": targets[row.pop("target_index")], **row})
    sensitivity_frame = pl.DataFrame(
        sens_rows,
        schema={
            "target": pl.String,
            "factor": pl.String,
            "first_order": pl.Float64,
            "total": pl.Float64,
            "variance": pl.Float64,
        },
    )
    replications_frame = pl.DataFrame(
        {
            "replication_id": np.arange(design.size, dtype=np.int64),
            "block": design.blocks,
            "base_index": design.base_index.astype(np.int64),
            "setting": [settings[i] for i in design.setting_index],
            "missing": [missing_rules[i] for i in design.missing_index],
            "weight_multipliers": [list(map(float, row)) for row in design.multipliers],
            "mean_abs_rank_shift": shift,
        },
        schema_overrides={"weight_multipliers": pl.List(pl.Float64)},
    )
    finished = time.perf_counter()
    seconds = {
        "engine": built - started,
        "replications": evaluated - built,
        "total": finished - started,
    }
    return UncertaintyResult(
        run_id=run_id,
        params=params,
        units=units,
        sensitivity=sensitivity_frame,
        replications=replications_frame,
        totals=totals,
        ranks=ranks,
        unit_ids=model.unit_ids,
        seconds=seconds,
    )


def nominal_ranks(inp: AnalysisInput, unit_ids: list[str]) -> np.ndarray:
    """The engine's ranks of ``unit_ids`` under the nominal setting (the reference of the rank
    statistics and of the mean absolute rank shift)."""
    nominal = inp.totals(inp.nominal)
    rank = dict(zip(nominal["unit_id"], nominal["rank"], strict=True))
    return np.array([rank[u] for u in unit_ids], dtype=float)


def unit_rank_stats(
    model: FastModel, ranks: np.ndarray, nominal: np.ndarray, names: dict[str, str]
) -> pl.DataFrame:
    """Per unit: nominal rank, median, 5th and 95th percentile (R's type 7), mean, min, max of
    its ranks over the replications (``ranks``: units × replications), interval width."""
    as_float = ranks.astype(float)
    p05, median, p95 = np.percentile(as_float, [5, 50, 95], axis=1)
    return pl.DataFrame(
        {
            "unit_id": model.unit_ids,
            "unit_name": [names.get(u) for u in model.unit_ids],
            "group_id": model.group_ids,
            "nominal_rank": nominal.astype(np.int32),
            "median_rank": median,
            "p05_rank": p05,
            "p95_rank": p95,
            "mean_rank": as_float.mean(axis=1),
            "min_rank": ranks.min(axis=1).astype(np.int32),
            "max_rank": ranks.max(axis=1).astype(np.int32),
        }
    ).with_columns(
        (pl.col("p95_rank") - pl.col("p05_rank")).alias("interval_width"),
        pl.len().over("group_id").cast(pl.Int32).alias("group_size"),
    )


# ---------------------------------------------------------------- replay


def replay(inp: AnalysisInput, replication: dict) -> pl.DataFrame:
    """Recompute one replication from its saved parameters alone — the setting, the missing
    rule, the weight multipliers of ``noisy_nodes`` (every other node keeps its weight) — with
    the engine's leaf points for that combination: ``unit_id, points, rank``."""
    setting, missing = replication["setting"], replication["missing"]
    model = build_model(inp, (setting,), (missing,))
    noisy = list(replication["noisy_nodes"])
    if len(noisy) != len(replication["weight_multipliers"]):
        raise ValueError("the replication has not one weight multiplier per noisy node")
    set_noisy_nodes(model, noisy)
    multipliers = np.array([replication["weight_multipliers"]], dtype=float)
    rel = model.relative_max(multipliers)
    totals = model.totals((setting, missing), rel)
    ranks = model.ranks(totals)
    return pl.DataFrame(
        {"unit_id": model.unit_ids, "points": totals[:, 0], "rank": ranks[:, 0]}
    ).with_columns(pl.col("rank").cast(pl.Int32))


def nominal_fast(inp: AnalysisInput) -> pl.DataFrame:
    """The nominal setting replayed at unperturbed weights (checked against the
    engine in the tests): ``unit_id, points, rank``."""
    return replay(
        inp,
        {
            "setting": setting_label(inp.nominal),
            "missing": inp.nominal.missing,
            "weight_multipliers": [1.0] * (len(inp.framework.nodes) - 1),
            "noisy_nodes": [n.id for n in inp.framework.nodes.values() if n.parent_id],
        },
    )
