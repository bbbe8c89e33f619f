"""Saltelli's sampling design and the variance-based sensitivity indices of the uncertainty
analysis (:mod:`pipelines.analysis.uncertainty`), as COINr's ``SA_sample`` and ``SA_estimate``.

**Design.** With ``sensitivity`` (default) the replications follow Saltelli's design as COINr's
``SA_sample`` builds it: two independent base samples A and B of N rows, and for each factor i
the matrix AB_i = A with factor i's columns taken from B — N(d + 2) replications for d factors
(``replications`` is rounded up to a multiple of d + 2). The weights are one *group* factor (all
node noises together). Every replication is a valid draw from the input distribution, so the
rank statistics (median, 5th and 95th percentile — linear interpolation, R's type 7 — mean, min,
max) use all of them. Without sensitivity the replications are plain independent draws.

**Sensitivity indices** (COINr's ``SA_estimate``): first order
``S_i = mean(y_B (y_AB_i − y_A)) / V`` (Saltelli 2010), total ``ST_i = mean((y_A − y_AB_i)²) /
(2V)`` (Jansen 1999), ``V = var(y_A ∪ y_B)`` (n − 1). The output ``y`` is the **mean absolute
rank shift** against the nominal ranks (target ``mean_abs_rank_shift``, COINr's choice) and,
per unit, the unit's rank (target = the unit id). Indices are estimates: small negative values
or ``S_i > ST_i`` are sampling noise, shrinking as the number of replications grows. A factor
that does not vary (one setting, one rule, noise 0) is left out of the design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FACTORS = ("method", "missing", "weights")


@dataclass
class Design:
    """The sampled parameters of every replication."""

    settings: tuple[str, ...]
    missing_rules: tuple[str, ...]
    noise: float
    factors: tuple[str, ...]  # the factors that vary, in FACTORS order
    n_base: int  # N (Saltelli) or the number of independent draws
    blocks: list[str]  # per replication: A, B, AB:<factor> or mc
    base_index: np.ndarray
    setting_index: np.ndarray
    missing_index: np.ndarray
    multipliers: np.ndarray  # replications × noisy nodes

    @property
    def size(self) -> int:
        return len(self.blocks)


def sample_design(
    settings: tuple[str, ...],
    missing_rules: tuple[str, ...],
    n_noisy: int,
    noise: float,
    replications: int,
    seed: int,
    sensitivity: bool = True,
) -> Design:
    """Uniform draws mapped to the factors (as :mod:`pipelines.analysis.uncertainty` describes
    them);
    Saltelli's A, B, AB_i blocks when ``sensitivity``."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if not 0 <= noise < 1:
        raise ValueError("noise must be in [0, 1): a fraction such as 0.2 for ±20 %")
    rng = np.random.default_rng(seed)
    varying = {
        "method": len(settings) > 1,
        "missing": len(missing_rules) > 1,
        "weights": noise > 0 and n_noisy > 0,
    }
    factors = tuple(f for f in FACTORS if varying[f])
    width = 2 + n_noisy
    columns = {"method": [0], "missing": [1], "weights": list(range(2, width))}
    if sensitivity and factors:
        n_base = math.ceil(replications / (len(factors) + 2))
        a = rng.random((n_base, width))
        b = rng.random((n_base, width))
        parts, blocks = [a, b], ["A"] * n_base + ["B"] * n_base
        for factor in factors:
            ab = a.copy()
            ab[:, columns[factor]] = b[:, columns[factor]]
            parts.append(ab)
            blocks += [f"AB:{factor}"] * n_base
        u = np.vstack(parts)
        base = np.tile(np.arange(n_base), len(parts))
    else:
        n_base = replications
        u = rng.random((replications, width))
        blocks = ["mc"] * replications
        base = np.arange(replications)
    setting_index = np.minimum((u[:, 0] * len(settings)).astype(np.int64), len(settings) - 1)
    missing_index = np.minimum(
        (u[:, 1] * len(missing_rules)).astype(np.int64), len(missing_rules) - 1
    )
    multipliers = 1.0 + (2.0 * u[:, 2:] - 1.0) * noise
    return Design(
        settings=settings,
        missing_rules=missing_rules,
        noise=noise,
        factors=factors,
        n_base=n_base,
        blocks=blocks,
        base_index=base,
        setting_index=setting_index,
        missing_index=missing_index,
        multipliers=multipliers,
    )


def saltelli_indices(y: np.ndarray, blocks: list[str], factors: tuple[str, ...]) -> list[dict]:
    """First-order and total indices of each factor for outputs ``y`` (replications ×
    targets): COINr's ``SA_estimate`` (Saltelli 2010 first order, Jansen total)."""
    labels = np.array(blocks)
    y_a, y_b = y[labels == "A"], y[labels == "B"]
    variance = np.var(np.vstack([y_a, y_b]), axis=0, ddof=1)
    rows = []
    for factor in factors:
        y_ab = y[labels == f"AB:{factor}"]
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.mean(y_b * (y_ab - y_a), axis=0) / variance
            total = np.mean((y_a - y_ab) ** 2, axis=0) / (2 * variance)
        for t in range(y.shape[1]):
            defined = variance[t] > 0
            rows.append(
                {
                    "target_index": t,
                    "factor": factor,
                    "first_order": float(first[t]) if defined else None,
                    "total": float(total[t]) if defined else None,
                    "variance": float(variance[t]),
                }
            )
    return rows
