"""Deterministic synthetic submissions for the demo: one workbook per unit and year, plus the
appraiser's workbook per year and level. Everything it writes is marked synthetic.

Shape of the data (all seeded): each unit has a lasting capability (uneven units), every year
adds maturity (rising trend), each indicator has its own difficulty; a share of values is left
blank, units without online public services leave the DVCTT indicators blank, and the appraisal
changes a share of values, mostly downwards, each with a reason.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.framework.model import Framework, Node
from pipelines.framework.preset import Preset
from pipelines.framework.registry import comparison_groups, units_in_year
from pipelines.parallel import run_jobs
from pipelines.scoring.normalise import rubric_points
from pipelines.workbook.write import write_appraisal_workbook, write_unit_workbook

APPRAISAL_REASONS_DOWN = (
    "Tài liệu kiểm chứng không đầy đủ",
    "Số liệu không khớp với Hệ thống thông tin giải quyết thủ tục hành chính của tỉnh",
    "Văn bản ban hành ngoài kỳ đánh giá",
    "Không cung cấp được minh chứng cho số liệu báo cáo",
)
APPRAISAL_REASONS_UP = ("Bổ sung minh chứng hợp lệ trong quá trình thẩm định",)


@dataclass(frozen=True)
class DemoSettings:
    seed: int = 2534
    missing_share: float = 0.03
    appraisal_share: float = 0.12


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def demo_values(
    framework: Framework, units: pl.DataFrame, years: list[int], settings: DemoSettings
) -> pl.DataFrame:
    """``unit_id, year, node_id, self_value, appraised_value, reason`` for every unit and leaf."""
    leaves = framework.leaves()
    first, span = min(years), max(1, max(years) - min(years))
    difficulty = _rng(settings.seed, framework.id, "difficulty").uniform(-0.2, 0.2, len(leaves))
    rows = []
    for unit in units.iter_rows(named=True):
        capability = _rng(settings.seed, unit["unit_id"], "capability").beta(2.2, 2.0)
        for year in years:
            rng = _rng(settings.seed, framework.id, unit["unit_id"], year)
            maturity = 0.2 + 0.45 * capability + 0.3 * (year - first) / span
            achieved = np.clip(maturity - difficulty + rng.normal(0, 0.1, len(leaves)), 0, 1)
            blank = rng.random(len(leaves)) < settings.missing_share
            appraise = rng.random(len(leaves)) < settings.appraisal_share
            for i, node in enumerate(leaves):
                if blank[i] or ("dvctt" in node.flags and not unit["has_dvctt"]):
                    rows.append((unit["unit_id"], year, node.id, None, None, None))
                    continue
                value = _raw_value(node, float(achieved[i]), rng)
                appraised, reason = None, None
                if appraise[i]:
                    appraised, reason = _appraised(node, value, rng)
                rows.append((unit["unit_id"], year, node.id, value, appraised, reason))
    return pl.DataFrame(
        rows,
        schema={
            "unit_id": pl.String,
            "year": pl.Int32,
            "node_id": pl.String,
            "self_value": pl.Float64,
            "appraised_value": pl.Float64,
            "reason": pl.String,
        },
        orient="row",
    )


def _raw_value(node: Node, achieved: float, rng: np.random.Generator) -> float:
    kind = node.rule.kind if node.rule else "direct"
    params = node.rule.params if node.rule else {}
    if kind == "yesno":
        return float(rng.random() < 0.15 + 0.85 * achieved)
    if kind == "direct":
        return round(achieved * node.max_points, 1)
    if kind == "steps":
        thresholds = sorted(t for t, _ in params["thresholds"])
        if node.direction == -1:  # e.g. security incidents: fewer is better
            return float(rng.poisson(max(0.05, (1 - achieved) * (thresholds[-1] + 1))))
        return float(rng.binomial(int(thresholds[-1]) + 1, achieved))
    if kind == "categorical":
        codes = sorted(float(c) for c in params["categories"])
        return codes[min(len(codes) - 1, int(achieved * len(codes)))]
    if kind == "relative_best":
        return float(round(achieved * 250 * rng.uniform(0.7, 1.3)))
    target = float(params.get("target", 100))
    if node.direction == -1:
        return round(target / max(achieved, 0.08), 2)
    ceiling = node.percent_scale or target * 1.2
    return round(min(ceiling, achieved * target * 1.08), 1)


def _appraised(node: Node, value: float, rng: np.random.Generator) -> tuple[float, str]:
    up = rng.random() < 0.15
    reasons = APPRAISAL_REASONS_UP if up else APPRAISAL_REASONS_DOWN
    reason = reasons[int(rng.integers(len(reasons)))]
    kind = node.rule.kind if node.rule else "direct"
    if kind == "yesno":
        return (1.0 if up else 0.0), reason
    factor = rng.uniform(1.02, 1.1) if up else rng.uniform(0.6, 0.95)
    if node.direction == -1:
        factor = 1 / factor
    adjusted = value * factor
    if kind in ("steps", "relative_best"):
        adjusted = float(round(adjusted))
    if node.percent_scale:
        adjusted = min(adjusted, node.percent_scale)
    if kind == "direct":
        adjusted = min(adjusted, node.max_points)
    return round(adjusted, 2), reason


def write_demo_submissions(
    preset: Preset,
    out_dir: Path,
    years: list[int] | None = None,
) -> list[Path]:
    """Write every demo workbook under ``out_dir/<year>/<level>/``; the same seed gives the same
    bytes (so the archive recognises a re-run as the same submission) and the same arrival
    order. The workbooks are written on every core (:mod:`pipelines.parallel`)."""
    settings = DemoSettings(
        **{k: v for k, v in preset.demo.items() if k in DemoSettings.__annotations__}
    )
    jobs = list(_demo_jobs(preset, out_dir, years or preset.years, settings))
    written = [path for paths in run_jobs(jobs) for path in paths]
    # Intake numbers files in arrival order (modification time): the workers finish them in
    # no fixed order, so they are stamped in the order of the jobs (each level's units, then
    # its appraisal), a millisecond apart and the last one now: the same receipt numbers on
    # every run.
    start = time.time_ns() - len(written) * 1_000_000
    for position, path in enumerate(written):
        stamp = start + position * 1_000_000
        os.utime(path, ns=(stamp, stamp))
    return written


def _demo_jobs(preset: Preset, out_dir: Path, years: list[int], settings: DemoSettings) -> Iterator:
    """One job per workbook; everything polars computes is done here, so that a job only writes
    its file (it may run in a worker process)."""
    for level in preset.levels:
        framework = preset.framework(level)
        for year in years:
            units = units_in_year(preset.registry, level, year)
            values = demo_values(framework, units, [year], settings)
            groups = comparison_groups(units, preset.levels[level].comparison_group, year)
            self_points = rubric_points(
                values.join(groups, on=["unit_id", "year"]).rename({"self_value": "value"}),
                framework,
            )
            values_of = _by_unit(values)
            points_of = _by_unit(self_points)
            folder = out_dir / str(year) / level
            for unit in units.iter_rows(named=True):
                yield _unit_job(
                    folder,
                    framework,
                    unit,
                    year,
                    values_of.get(unit["unit_id"], values.clear()),
                    points_of.get(unit["unit_id"], self_points.clear()),
                )
            yield _appraisal_job(folder, framework, level, year, units, values)


def _by_unit(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("unit_id", as_dict=True).items()}


def _unit_job(folder, framework, unit, year, mine, points) -> Callable[[], list[Path]]:
    evidence = {
        row["node_id"]: f"Văn bản số {_document_number(unit['unit_id'], row['node_id'])}"
        f"/BC-{year} (mô phỏng)"
        for row in mine.filter(pl.col("self_value").is_not_null()).iter_rows(named=True)
    }
    path = folder / f"DTI_{year}_{unit['unit_id']}.xlsx"
    values = dict(zip(mine["node_id"].to_list(), mine["self_value"].to_list(), strict=True))
    self_points = dict(zip(points["node_id"].to_list(), points["points"].to_list(), strict=True))

    return partial(
        _written,
        write_unit_workbook,
        path,
        framework,
        unit,
        year,
        values=values,
        self_points=self_points,
        evidence=evidence,
        synthetic=True,
    )


def _written(write: Callable[..., Path], *args: object, **kwargs: object) -> list[Path]:
    """A job (picklable: it may run in a worker process): write one workbook, give its path."""
    return [write(*args, **kwargs)]


def _document_number(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:6], 16) % 900 + 100


def _appraisal_job(folder, framework, level, year, units, values) -> Callable[[], list[Path]]:
    names = dict(zip(units["unit_id"], units["name"], strict=True))
    changed = values.filter(pl.col("appraised_value").is_not_null()).sort("unit_id", "node_id")
    rows = [
        {
            "unit_id": r["unit_id"],
            "unit_name": names[r["unit_id"]],
            "indicator_id": r["node_id"],
            "self_value": r["self_value"],
            "appraised_value": r["appraised_value"],
            "reason": r["reason"],
        }
        for r in changed.iter_rows(named=True)
    ]
    path = folder / f"THAM_DINH_{year}_{level}.xlsx"

    return partial(
        _written, write_appraisal_workbook, path, framework, level, year, rows, synthetic=True
    )
